#pragma once
// The options of steps 3-4, shared by `sammpa run` and `sammpa segment` (same names, same defaults).
#include <CLI/CLI.hpp>
#include <string>

#include "pipeline/segment_dataset.h"

namespace sammpa::cli {

struct SegmentFlags {
  SegmentOptions options;
  std::string checkpoint, choose = "product", combine = "sam", candidates = "single";
  bool no_box = false, no_positive = false, no_negative = false, no_mask = false;
  bool no_keep_touching = false, no_fill_holes = false;
  bool no_overlays = false, no_embedding_cache = false;
};

void add_segment_flags(CLI::App* sub, SegmentFlags& f);
// Turns the parsed flags into options (InputError for bad names).
SegmentOptions segment_options(const SegmentFlags& f);

}  // namespace sammpa::cli
