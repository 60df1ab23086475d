#include "segment_options.h"

namespace sammpa::cli {

void add_segment_flags(CLI::App* sub, SegmentFlags& f) {
  auto& p = f.options.prompt;
  auto& r = f.options.refine;
  const char* g = "Steps 3-4 (prompts, SAM, refinement)";
  sub->add_option("--checkpoint", f.checkpoint,
                  "official SAM / MedSAM / MobileSAM checkpoint (default: $SAMMPA_CHECKPOINT or the cached MobileSAM)")
      ->group(g);
  sub->add_flag("--no-box", f.no_box, "do not give SAM the expanded box")->group(g);
  sub->add_flag("--no-positive", f.no_positive, "no positive point (interior point farthest from the edge)")->group(g);
  sub->add_flag("--no-negative", f.no_negative, "no negative points (expanded box corners outside the coarse mask)")
      ->group(g);
  sub->add_flag("--no-mask-prompt", f.no_mask, "do not give SAM the soft map as mask prompt")->group(g);
  sub->add_option("--box-margin", p.box_margin, "box expansion per side, fraction of the box size")
      ->capture_default_str()->check(CLI::Range(0.0, 2.0))->group(g);
  sub->add_option("--min-object-area", p.min_object_area,
                  "objects smaller than this fraction of the image are dropped (when not given: lowered to half the "
                  "supports' smallest object where that is smaller)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(g);
  sub->add_option("--min-object-fraction", p.min_object_fraction,
                  "objects smaller than this fraction of the largest object are dropped")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(g);
  sub->add_option("--max-objects", p.max_objects, "at most this many objects (the largest)")
      ->capture_default_str()->check(CLI::Range(1, 1000))->group(g);
  sub->add_option("--mask-logit-scale", p.mask_logit_scale, "soft map p -> scale * (2p - 1) as SAM's mask prompt")
      ->capture_default_str()->check(CLI::Range(0.1, 100.0))->group(g);
  sub->add_option("--mask-region", p.mask_region,
                  "mask prompt: soft map kept within this fraction of the object's size")
      ->capture_default_str()->check(CLI::Range(0.0, 2.0))->group(g);
  sub->add_option("--candidates", f.candidates, "SAM outputs the refinement chooses from: single (its single-mask "
                                                "output), multimask (its 3 multimask outputs), all (the 4)")
      ->capture_default_str()->check(CLI::IsMember({"single", "multimask", "all"}))->group(g);
  sub->add_option("--choose", f.choose, "candidate choice: iou (SAM's predicted IoU), agreement (Dice with the "
                                        "coarse object), product (both)")
      ->capture_default_str()->check(CLI::IsMember({"iou", "agreement", "product"}))->group(g);
  sub->add_option("--rounds", r.rounds, "re-prompt with the chosen mask's logits this many times")
      ->capture_default_str()->check(CLI::Range(0, 10))->group(g);
  sub->add_flag("--no-keep-touching", f.no_keep_touching, "keep SAM's components that miss the coarse object")
      ->group(g);
  sub->add_flag("--no-fill-holes", f.no_fill_holes, "leave holes in SAM's masks")->group(g);
  sub->add_option("--min-agreement", r.min_agreement, "keep the coarse object when Dice(SAM, coarse) is below")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(g);
  sub->add_option("--min-area-ratio", r.min_area_ratio, "keep the coarse object when SAM's area / coarse area is below")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(g);
  sub->add_option("--max-area-ratio", r.max_area_ratio, "... or above")
      ->capture_default_str()->check(CLI::Range(1.0, 1e9))->group(g);
  sub->add_option("--min-iou", r.min_iou, "keep the coarse object when SAM's predicted IoU is below")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(g);
  sub->add_option("--combine", f.combine, "final mask: sam (SAM's mask), average (mean of SAM's probability and "
                                          "the soft map)")
      ->capture_default_str()->check(CLI::IsMember({"sam", "average"}))->group(g);
  sub->add_flag("--no-overlays", f.no_overlays, "skip the overlay pictures");
}

SegmentOptions segment_options(const SegmentFlags& f) {
  SegmentOptions o = f.options;
  o.checkpoint = f.checkpoint;
  o.prompt.box = !f.no_box;
  o.prompt.positive = !f.no_positive;
  o.prompt.negative = !f.no_negative;
  o.prompt.mask = !f.no_mask;
  o.refine.single = f.candidates != "multimask";
  o.refine.multimask = f.candidates != "single";
  o.refine.choice = parse_candidate_choice(f.choose);
  o.refine.combine = parse_combine(f.combine);
  o.refine.keep_touching = !f.no_keep_touching;
  o.refine.fill_holes = !f.no_fill_holes;
  o.overlays = !f.no_overlays;
  return o;
}

}  // namespace sammpa::cli
