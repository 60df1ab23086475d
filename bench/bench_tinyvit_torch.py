"""Times the official MobileSAM TinyViT image encoder (real mobile_sam.pt) for bench_tinyvit.

usage: bench_tinyvit_torch.py CHECKPOINT THREADS REPS   (PYTHONPATH from scripts/setup_reference.sh)
Prints one JSON line: {"times": [wall seconds per run], "cpu_times": [CPU seconds per run], "peak_rss_mb": ...}.
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
