#!/usr/bin/env bash
# `pip install .` into a fresh virtual environment of Debian's Python, reusing the test build's CMake folder
# (SAMMPA_BUILD_DIR), then `import sammpa` from that environment and one real prediction.
# Usage: pip_install.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
SAMMPA_BUILD_DIR="$build" "$work/venv/bin/pip" install --no-build-isolation --no-deps -q "$src" > "$work/pip.log" 2>&1 \
  || { tail -n 30 "$work/pip.log"; exit 1; }
cd "$work"  # not the source folder: the import must come from the environment
"$work/venv/bin/python" - <<'PY'
import os
import numpy as np
import sammpa
assert "site-packages" in sammpa.__file__, sammpa.__file__
predictor = sammpa.SamPredictor(os.environ.get("SAMMPA_MOBILE_SAM") or None)
image = np.zeros((64, 96, 3), np.uint8)
image[20:44, 30:60] = 200  # a bright rectangle on black
predictor.set_image(image)
masks, scores, _ = predictor.predict(box=np.array([28, 18, 62, 46]), multimask_output=False)
inside, outside = masks[0][24:40, 34:56].mean(), masks[0][:, :20].mean()
print(f"pip-installed sammpa ({sammpa.__file__}): mask covers {inside:.2f} of the rectangle, {outside:.2f} outside")
assert inside > 0.9 and outside < 0.05
PY
