"""Times the official MobileSAM SamPredictor.predict (prompt encoder, mask decoder and post-processing to the
original image size) for bench_predict, on the same image and prompts.

Usage: bench_predict_torch.py CHECKPOINT IMAGE THREADS REPS. Prints one JSON line: {case: [seconds per run]}.
"""
import json
import sys
import time

import numpy as np
import torch
from mobile_sam import SamPredictor, sam_model_registry
from PIL import Image


def main(checkpoint, image, threads, reps):
    torch.set_num_threads(threads)
    predictor = SamPredictor(sam_model_registry["vit_t"](checkpoint=checkpoint).eval())
    img = np.array(Image.open(image).convert("RGB"))
    predictor.set_image(img)
    h, w = img.shape[:2]
    box = np.array([w * 0.25, h * 0.2, w * 0.7, h * 0.8])
    pts, labels = np.array([[w * 0.45, h * 0.5], [w * 0.1, h * 0.1]]), np.array([1, 0])
    cases = {"box, single mask": dict(box=box, multimask_output=False),
             "box + points, single": dict(box=box, point_coords=pts, point_labels=labels, multimask_output=False),
             "points, multimask": dict(point_coords=pts, point_labels=labels, multimask_output=True)}
    out = {}
    for name, kw in cases.items():
        times = []
        for _ in range(reps + 1):  # the first run warms up
            t0 = time.perf_counter()
            predictor.predict(**kw)
            times.append(time.perf_counter() - t0)
        out[name] = times[1:]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
