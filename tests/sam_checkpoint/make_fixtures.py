"""Writes the checkpoint-reader fixtures into OUT_DIR: small torch.save checkpoints and the values the C++
reader must return (.npy, float32), plus broken files. Run with Debian's /usr/bin/python3 (torch 1.13)."""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch


def write_mobile_sam(out: Path) -> None:
    """Shapes of every tensor in the real MobileSAM checkpoint and the values of a few, as torch.load reads them."""
    src = os.environ.get("SAMMPA_MOBILE_SAM", "")
    if not src or not Path(src).is_file():
        print("SAMMPA_MOBILE_SAM not set: skipping the MobileSAM expectations")
        return
    sd = torch.load(src, map_location="cpu")
    out.mkdir(parents=True, exist_ok=True)
    picks = ["image_encoder.patch_embed.seq.0.c.weight", "image_encoder.layers.1.blocks.0.attn.attention_biases",
             "image_encoder.layers.3.blocks.1.mlp.fc2.weight", "image_encoder.neck.2.weight",
             "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", "mask_decoder.mask_tokens.weight",
             "mask_decoder.output_upscaling.0.weight", "image_encoder.patch_embed.seq.0.bn.num_batches_tracked"]
    for k in picks:
        np.save(out / f"{k}.npy", sd[k].float().numpy())
    summary = {"shapes": {k: list(v.shape) for k, v in sd.items()}, "values": picks}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    write_mobile_sam(out / "mobile_sam")


if __name__ == "__main__":
    main()
