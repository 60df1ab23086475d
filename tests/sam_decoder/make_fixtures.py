"""Reference outputs of SAM's official prompt encoder and mask decoder (segment_anything.modeling), for
test_decoder.cpp. Usage: make_fixtures.py OUT_DIR

Writes OUT_DIR/<weights>/ for two weight sets:
  random/  modules with random weights (state_dict saved as checkpoint.pt) and random image embeddings
  mobile/  the real MobileSAM checkpoint ($SAMMPA_MOBILE_SAM) with the embedding of a real breast-ultrasound
           image ($SAMMPA_DATA/busi); both are required: the script exits non-zero when either is missing, so
           that the test fails instead of passing without the check
Each holds dense_pe.npy, image_embeddings.npy, cases.txt and one folder per prompt case with the prompts
(points.npy, labels.npy, box.npy, mask_input.npy when used; multimask.npy) and the official results
(sparse.npy, dense.npy, low_res_logits.npy, iou.npy)."""
import collections
import os
import sys

import numpy as np
import torch
from segment_anything.modeling import MaskDecoder, PromptEncoder, TwoWayTransformer

torch.set_num_threads(2)
out_root = sys.argv[1]


def build(embed_dim=256, grid=64, image_size=1024):
    pe = PromptEncoder(embed_dim=embed_dim, image_embedding_size=(grid, grid), input_image_size=(image_size,
                       image_size), mask_in_chans=16)
    md = MaskDecoder(num_multimask_outputs=3,
                     transformer=TwoWayTransformer(depth=2, embedding_dim=embed_dim, mlp_dim=2048, num_heads=8),
                     transformer_dim=embed_dim, iou_head_depth=3, iou_head_hidden_dim=256)
    return pe.eval(), md.eval()


def save(folder, **arrays):
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        a = a.detach().numpy() if torch.is_tensor(a) else np.asarray(a)
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(a.astype(np.float32)))


def run_cases(folder, pe, md, embeddings, gen):
    """Prompt cases around the image centre (or the given object box): points, box, both, mask input."""
    save(folder, dense_pe=pe.get_dense_pe(), image_embeddings=embeddings)
    box = gen["box"]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = box[2] - box[0], box[3] - box[1]
    pts = np.array([[cx, cy], [cx + 0.2 * w, cy - 0.1 * h], [box[0] - 0.3 * w, box[1] - 0.2 * h]], np.float32)
    lab = np.array([1, 1, 0], np.float32)
    cases = collections.OrderedDict()
    cases["points_multi"] = dict(points=pts, labels=lab, multimask=True)
    cases["one_point_single"] = dict(points=pts[:1], labels=lab[:1], multimask=False)
    cases["box_single"] = dict(box=box, multimask=False)
    cases["box_points_multi"] = dict(points=pts[1:], labels=lab[1:], box=box, multimask=True)
    cases["box_points_single"] = dict(points=pts, labels=lab, box=box, multimask=False)
    names = []
    previous = None
    for name, c in list(cases.items()) + [("mask_points_single", None), ("mask_only_multi", None)]:
        if c is None:  # refine with the previous best low-res mask, as SamPredictor users do
            c = dict(points=pts[:2], labels=lab[:2], multimask=False) if name == "mask_points_single" else \
                dict(multimask=True)
            c["mask_input"] = previous
        points = (torch.tensor(c["points"])[None], torch.tensor(c["labels"])[None]) if "points" in c else None
        boxes = torch.tensor(np.asarray(c["box"], np.float32))[None] if "box" in c else None
        masks = torch.tensor(c["mask_input"]) if "mask_input" in c else None
        with torch.no_grad():
            sparse, dense = pe(points=points, boxes=boxes, masks=masks)
            low_res, iou = md(image_embeddings=embeddings, image_pe=pe.get_dense_pe(), sparse_prompt_embeddings=sparse,
                              dense_prompt_embeddings=dense, multimask_output=c["multimask"])
        arrays = dict(sparse=sparse, dense=dense, low_res_logits=low_res, iou=iou[0],
                      multimask=np.array([1 if c["multimask"] else 0]))
        for key in ("points", "labels", "box", "mask_input"):
            if key in c:
                arrays[key] = c[key]
        save(os.path.join(folder, name), **arrays)
        best = int(torch.argmax(iou[0]))
        previous = low_res[:, best:best + 1].numpy()
        names.append(name)
    with open(os.path.join(folder, "cases.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


def random_set():
    torch.manual_seed(1)
    pe, md = build()
    with torch.no_grad():  # non-trivial affine parameters in every norm
        for name, p in list(pe.named_parameters()) + list(md.named_parameters()):
            if "norm" in name or "mask_downscaling.1" in name or "mask_downscaling.4" in name or \
                    "output_upscaling.1" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))
        for mlp in md.output_hypernetworks_mlps:  # logits of a realistic size (tens), not tenths
            mlp.layers[-1].weight.mul_(40.0)
    folder = os.path.join(out_root, "random")
    os.makedirs(folder, exist_ok=True)
    state = collections.OrderedDict()
    for prefix, module in (("prompt_encoder.", pe), ("mask_decoder.", md)):
        for k, v in module.state_dict().items():
            state[prefix + k] = v.clone().contiguous()
    torch.save(state, os.path.join(folder, "checkpoint.pt"))
    embeddings = torch.randn(1, 256, 64, 64) * 0.5
    run_cases(folder, pe, md, embeddings, dict(box=np.array([300.5, 280.0, 700.0, 650.25], np.float32)))


def mobile_set():
    ckpt = os.environ.get("SAMMPA_MOBILE_SAM")
    if not ckpt or not os.path.exists(ckpt):
        sys.exit(f"error: SAMMPA_MOBILE_SAM unset or missing ({ckpt!r}): cannot write the MobileSAM reference "
                 "(scripts/test.sh sets it)")
    state = torch.load(ckpt, map_location="cpu")
    pe, md = build()
    pe.load_state_dict({k[len("prompt_encoder."):]: v for k, v in state.items() if k.startswith("prompt_encoder.")})
    md.load_state_dict({k[len("mask_decoder."):]: v for k, v in state.items() if k.startswith("mask_decoder.")})
    folder = os.path.join(out_root, "mobile")
    data = os.environ.get("SAMMPA_DATA", "")
    image = os.path.join(data, "busi", "images", "benign_001.png")
    mask = os.path.join(data, "busi", "masks", "benign_001.png")
    if not data or not os.path.exists(image) or not os.path.exists(mask):
        sys.exit(f"error: {image} or its mask is missing: cannot write the MobileSAM reference (set SAMMPA_DATA)")
    torch.manual_seed(2)
    from mobile_sam import SamPredictor, sam_model_registry
    from PIL import Image
    sam = sam_model_registry["vit_t"](checkpoint=ckpt).eval()
    predictor = SamPredictor(sam)
    rgb = np.array(Image.open(image).convert("RGB"))
    predictor.set_image(rgb)
    embeddings = predictor.get_image_embedding()
    m = np.array(Image.open(mask).convert("L")) > 127
    ys, xs = np.nonzero(m)
    box = predictor.transform.apply_boxes(np.array([[xs.min(), ys.min(), xs.max(), ys.max()]], np.float32),
                                          rgb.shape[:2])[0].astype(np.float32)
    run_cases(folder, pe, md, embeddings, dict(box=box))


random_set()
mobile_set()
