"""From the Python user's side: the official MobileSAM SamPredictor against sammpa.SamPredictor, set_image plus
one predict on a real image, in the same run (medians of REPS). Usage: bench_python.py MODULE_DIR [REPS].
Needs $SAMMPA_MOBILE_SAM, $SAMMPA_DATA and the reference on PYTHONPATH (scripts/bench.sh sets them).
"""
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, sys.argv[1])
import sammpa  # noqa: E402
from mobile_sam import SamPredictor, sam_model_registry  # noqa: E402

reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
torch.set_num_threads(2)
ckpt = os.environ["SAMMPA_MOBILE_SAM"]
image = np.array(Image.open(Path(os.environ["SAMMPA_DATA"]) / "busi/images/benign_003.png").convert("RGB"))
point, label = np.array([[270.0, 220.0]]), np.array([1])
predictors = {"official": SamPredictor(sam_model_registry["vit_t"](checkpoint=ckpt).eval()),
              "sammpa": sammpa.SamPredictor(ckpt)}
times = {}
for name, p in predictors.items():
    p.set_image(image)  # warm-up
    p.predict(point_coords=point, point_labels=label)
    enc, dec = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        p.set_image(image)
        t1 = time.perf_counter()
        p.predict(point_coords=point, point_labels=label)
        enc.append(t1 - t0)
        dec.append(time.perf_counter() - t1)
    times[name] = (statistics.median(enc), statistics.median(dec))
    print(f"{name:9s} set_image {1e3 * times[name][0]:8.1f} ms   predict {1e3 * times[name][1]:7.1f} ms")
o, s = times["official"], times["sammpa"]
print(f"ratio     set_image {o[0] / s[0]:8.1f}x    predict {o[1] / s[1]:7.1f}x")
