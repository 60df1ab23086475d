"""Times the official segment_anything ImageEncoderViT (random weights) for bench_vit.

Usage: bench_vit_torch.py MODEL THREADS, MODEL in vit_b, vit_l, vit_h. Builds the encoder, runs it once to warm
up and prints "ready"; then runs it once for each "run" line read from stdin, printing the seconds it took, so
that bench_vit can interleave its own runs with these under the same machine load. At the end of input it prints
one JSON line: {"peak_rss_mb": ...}.
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


def main(model, threads):
    torch.set_num_threads(threads)
    dim, depth, heads, global_blocks = MODELS[model]
    enc = ImageEncoderViT(depth=depth, embed_dim=dim, img_size=1024, mlp_ratio=4,
                          norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=heads, patch_size=16,
                          qkv_bias=True, use_rel_pos=True, global_attn_indexes=global_blocks, window_size=14,
                          out_chans=256).eval()
    image = torch.randn(1, 3, 1024, 1024)
    with torch.no_grad():
        enc(image)  # warm-up
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                break
            start = time.perf_counter()
            enc(image)
            print(time.perf_counter() - start, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"peak_rss_mb": peak}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
