"""Times the official MobileSAM SamAutomaticMaskGenerator (default settings: 32 x 32 points) on one image, for
scripts/bench.sh beside `sammpa everything`. Usage: bench_everything_torch.py CHECKPOINT IMAGE THREADS.
Prints one line: seconds (set_image + generate) and the number of masks.
"""
import sys
import time

import numpy as np
import torch
from mobile_sam import SamAutomaticMaskGenerator, sam_model_registry
from PIL import Image

torch.set_num_threads(int(sys.argv[3]))
model = sam_model_registry["vit_t"](checkpoint=sys.argv[1]).eval()
image = np.array(Image.open(sys.argv[2]).convert("RGB"))
generator = SamAutomaticMaskGenerator(model)
t0 = time.perf_counter()
masks = generator.generate(image)
print(f"official SamAutomaticMaskGenerator: {len(masks)} masks in {time.perf_counter() - t0:.1f} s")
