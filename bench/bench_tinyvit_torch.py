"""Times the official MobileSAM TinyViT image encoder (real mobile_sam.pt) for bench_tinyvit.

usage: bench_tinyvit_torch.py CHECKPOINT THREADS REPS   (PYTHONPATH from scripts/setup_reference.sh)
Prints one JSON line: {"times": [seconds per run], "peak_rss_mb": ...}.
"""
import json
import resource
import sys
import time

import torch
from mobile_sam import sam_model_registry


def main(checkpoint, threads, reps):
    torch.set_num_threads(threads)
    encoder = sam_model_registry["vit_t"](checkpoint=checkpoint).image_encoder.eval()
    image = torch.randn(1, 3, 1024, 1024)
    times = []
    with torch.no_grad():
        encoder(image)  # warm-up
        for _ in range(reps):
            start = time.perf_counter()
            encoder(image)
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"times": times, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
