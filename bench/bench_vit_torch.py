"""Times the official segment_anything ImageEncoderViT (random weights) for bench_vit.

Usage: bench_vit_torch.py MODEL THREADS REPS, MODEL in vit_b, vit_l, vit_h. Prints one JSON line:
{"times": [seconds per run], "peak_rss_mb": ...}.
"""
import json
import resource
import sys
import time
from functools import partial

import torch
from segment_anything.modeling.image_encoder import ImageEncoderViT

# (embed_dim, depth, heads, global blocks) as in segment_anything/build_sam.py
MODELS = {
    "vit_b": (768, 12, 12, (2, 5, 8, 11)),
    "vit_l": (1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": (1280, 32, 16, (7, 15, 23, 31)),
}


def main(model, threads, reps):
    torch.set_num_threads(threads)
    dim, depth, heads, global_blocks = MODELS[model]
    enc = ImageEncoderViT(depth=depth, embed_dim=dim, img_size=1024, mlp_ratio=4,
                          norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=heads, patch_size=16,
                          qkv_bias=True, use_rel_pos=True, global_attn_indexes=global_blocks, window_size=14,
                          out_chans=256).eval()
    image = torch.randn(1, 3, 1024, 1024)
    times = []
    with torch.no_grad():
        enc(image)  # warm-up
        for _ in range(reps):
            start = time.perf_counter()
            enc(image)
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"times": times, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
