"""Reference outputs of the official SAM ImageEncoderViT for the C++ encoder's tests.

For each small configuration (padded and unpadded windows, global blocks, other patch sizes) it builds the
official module with random weights (including the relative-position tables and position embedding, which the
official code initialises to zero), and writes into OUT/<name>/:
  checkpoint.pth   the state_dict under 'image_encoder.' keys, saved by torch.save like SAM's checkpoints
  weights/<key>.npy the same tensors as .npy files
  input.npy, output.npy, config.json

With --full-vit-b it writes instead, into OUT/, a real-size SAM ViT-B (1024x1024, random weights) as
checkpoint.pth, input.npy and output.npy: ~0.4 GB and ~20 s, for the opt-in full-size test (see CMakeLists.txt).
"""
import json
import os
import sys
from functools import partial

import numpy as np
import torch
from segment_anything.modeling.image_encoder import ImageEncoderViT

CONFIGS = {
    # 16x16 tokens, windows of 7 padded to 21, two global blocks
    "padded": dict(img_size=256, patch_size=16, embed_dim=64, depth=4, num_heads=4, window_size=7,
                   global_attn_indexes=(1, 3), out_chans=32),
    # patch 8, 14x14 tokens, windows of 4 padded to 16, three heads, SAM's 256 output channels
    "patch8": dict(img_size=112, patch_size=8, embed_dim=96, depth=3, num_heads=3, window_size=4,
                   global_attn_indexes=(2,), out_chans=256),
    # windows that tile the grid exactly (no padding), global block first
    "tiled": dict(img_size=192, patch_size=16, embed_dim=48, depth=3, num_heads=2, window_size=6,
                  global_attn_indexes=(0,), out_chans=16),
    # 20x20 = 400 tokens: global attention runs in several blocks of query rows, the last one partial
    "long": dict(img_size=320, patch_size=16, embed_dim=32, depth=2, num_heads=2, window_size=7,
                 global_attn_indexes=(1,), out_chans=16),
}


def build(cfg):
    return ImageEncoderViT(mlp_ratio=4.0, qkv_bias=True, use_rel_pos=True, use_abs_pos=True,
                           norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), **cfg).eval()


def randomise(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "rel_pos" in name or "pos_embed" in name:
                p.copy_(0.5 * noise)
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)
            elif p.ndim == 1:  # LayerNorm scales
                p.copy_(1.0 + 0.2 * noise)
            # conv and linear weights keep PyTorch's default initialisation


def main(out_dir):
    for index, (name, cfg) in enumerate(CONFIGS.items()):
        gen = torch.Generator().manual_seed(1234 + index)
        model = build(cfg)
        randomise(model, gen)
        image = torch.randn((1, 3, cfg["img_size"], cfg["img_size"]), generator=gen)
        with torch.no_grad():
            out = model(image)
        folder = os.path.join(out_dir, name)
        os.makedirs(os.path.join(folder, "weights"), exist_ok=True)
        state = {"image_encoder." + k: v.contiguous() for k, v in model.state_dict().items()}
        torch.save(state, os.path.join(folder, "checkpoint.pth"))
        for k, v in state.items():
            np.save(os.path.join(folder, "weights", k + ".npy"), v.numpy().astype(np.float32))
        np.save(os.path.join(folder, "input.npy"), image.numpy())
        np.save(os.path.join(folder, "output.npy"), out.numpy())
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(dict(cfg, mlp_dim=4 * cfg["embed_dim"]), f)
    print("wrote", ", ".join(CONFIGS), "to", out_dir)


def full_vit_b(out_dir):
    cfg = dict(img_size=1024, patch_size=16, embed_dim=768, depth=12, num_heads=12, window_size=14,
               global_attn_indexes=(2, 5, 8, 11), out_chans=256)
    gen = torch.Generator().manual_seed(7)
    model = build(cfg)
    randomise(model, gen)
    image = torch.randn((1, 3, 1024, 1024), generator=gen)
    with torch.no_grad():
        out = model(image)
    os.makedirs(out_dir, exist_ok=True)
    torch.save({"image_encoder." + k: v.contiguous() for k, v in model.state_dict().items()},
               os.path.join(out_dir, "checkpoint.pth"))
    np.save(os.path.join(out_dir, "input.npy"), image.numpy())
    np.save(os.path.join(out_dir, "output.npy"), out.numpy())
    print("wrote a full-size ViT-B reference to", out_dir)


if __name__ == "__main__":
    torch.set_num_threads(2)
    if "--full-vit-b" in sys.argv:
        full_vit_b(sys.argv[1])
    else:
        main(sys.argv[1])
