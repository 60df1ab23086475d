"""The sammpa Python module: SamPredictor and SamAutomaticMaskGenerator against the official MobileSAM ones on a
real image (same shapes, dtypes and values), the GIL released while it computes, and run() on a synthetic set.

Usage: test_python.py MODULE_DIR SAMMPA_PROGRAM. Needs $SAMMPA_MOBILE_SAM, $SAMMPA_DATA and the reference on
PYTHONPATH (scripts/test.sh sets all three).
"""
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, sys.argv.pop(1))
SAMMPA = sys.argv.pop(1)
import sammpa  # noqa: E402
import torch  # noqa: E402
from mobile_sam import SamAutomaticMaskGenerator, SamPredictor, sam_model_registry  # noqa: E402

CKPT = os.environ["SAMMPA_MOBILE_SAM"]
DATA = Path(os.environ["SAMMPA_DATA"])
torch.set_num_threads(2)


def mask_iou(a, b):
    return np.logical_and(a, b).sum() / max(1, np.logical_or(a, b).sum())


class Predictor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.image = np.array(Image.open(DATA / "busi/images/malignant_010.png").convert("RGB"))
        cls.ours = sammpa.SamPredictor(CKPT)
        cls.ours.set_image(cls.image)
        cls.model = sam_model_registry["vit_t"](checkpoint=CKPT).eval()
        cls.theirs = SamPredictor(cls.model)
        cls.theirs.set_image(cls.image)

    def test_embedding(self):
        a, b = self.ours.get_image_embedding(), self.theirs.get_image_embedding().numpy()
        self.assertEqual(a.shape, b.shape)
        self.assertEqual(a.dtype, np.float32)
        self.assertLess(np.abs(a - b).max(), 4e-5)  # the C++ tests' tolerance

    def test_prompts_give_the_official_outputs(self):
        h, w = self.image.shape[:2]
        point, box = np.array([[w * 0.45, h * 0.5]]), np.array([w * 0.25, h * 0.2, w * 0.7, h * 0.8])
        cases = [dict(point_coords=point, point_labels=np.array([1]), multimask_output=True),
                 dict(box=box, multimask_output=False),
                 dict(point_coords=np.array([[w * 0.45, h * 0.5], [w * 0.1, h * 0.1]]), point_labels=np.array([1, 0]),
                      box=box, multimask_output=False)]
        _, _, low = self.theirs.predict(**cases[0])
        cases.append(dict(point_coords=point, point_labels=np.array([1]), mask_input=low[:1], multimask_output=False))
        for c in cases:
            for logits in (False, True):
                m1, i1, l1 = self.ours.predict(**c, return_logits=logits)
                m2, i2, l2 = self.theirs.predict(**c, return_logits=logits)
                for x, y in ((m1, m2), (i1, i2), (l1, l2)):
                    self.assertEqual(x.shape, y.shape)
                    self.assertEqual(x.dtype, y.dtype)
                self.assertLess(np.abs(i1 - i2).max(), 6e-6)
                self.assertLess(np.abs(l1 - l2).max(), 5e-4)
                if logits:
                    self.assertLess(np.abs(m1 - m2).max(), 5e-4)
                else:
                    for a, b in zip(m1, m2):
                        self.assertGreaterEqual(mask_iou(a, b), 0.999)

    def test_reset_and_errors(self):
        p = sammpa.SamPredictor(CKPT)
        self.assertFalse(p.is_image_set)
        with self.assertRaises(RuntimeError):
            p.predict(point_coords=np.array([[1.0, 1.0]]), point_labels=np.array([1]))
        p.set_image(self.image[:64, :80])
        self.assertTrue(p.is_image_set)
        p.reset_image()
        self.assertFalse(p.is_image_set)
        with self.assertRaises(ValueError):
            p.set_image(np.zeros((4, 4, 2), np.uint8))
        with self.assertRaises(ValueError):
            sammpa.SamPredictor("/nonexistent.pt")

    def test_releases_the_gil(self):
        ticks = [0]
        done = threading.Event()

        def count():
            while not done.is_set():
                ticks[0] += 1
                time.sleep(0.001)

        t = threading.Thread(target=count)
        t.start()
        self.ours.set_image(self.image)  # about a second of encoder work
        done.set()
        t.join()
        self.assertGreater(ticks[0], 20)  # the other thread ran meanwhile


class Everything(unittest.TestCase):
    def test_same_masks_as_the_official_generator(self):
        image = np.array(Image.open(DATA / "busi/images/benign_003.png").convert("RGB"))
        ours = sammpa.SamAutomaticMaskGenerator(CKPT, points_per_side=8).generate(image)
        theirs = SamAutomaticMaskGenerator(sam_model_registry["vit_t"](checkpoint=CKPT).eval(),
                                           points_per_side=8).generate(image)
        self.assertEqual(len(ours), len(theirs))
        self.assertGreater(len(ours), 0)
        for a, b in zip(ours, theirs):
            self.assertEqual(list(a["bbox"]), list(b["bbox"]))
            self.assertEqual(a["area"], b["area"])
            self.assertGreaterEqual(mask_iou(a["segmentation"], b["segmentation"]), 0.999)
            self.assertEqual(a["segmentation"].dtype, b["segmentation"].dtype)


class Run(unittest.TestCase):
    def test_run_on_a_synthetic_set(self):
        with tempfile.TemporaryDirectory() as d:
            data, out = Path(d) / "data", Path(d) / "out"
            subprocess.run([SAMMPA, "-q", "phantom", "--out", str(data), "--count", "12", "--size", "96"],
                           check=True, stdout=subprocess.DEVNULL)
            r = sammpa.run(str(data), str(out), k=3, propagation="registration")
            self.assertEqual(len(r["support"]), 3)
            self.assertEqual(r["queries"], 9)
            self.assertGreater(r["dice"], 0.9)
            self.assertTrue((out / "report.html").exists())
            self.assertEqual(len(list((out / "masks").iterdir())), 9)
            with self.assertRaises(ValueError):  # an output folder is never a user's
                sammpa.run(str(data), str(data), k=3)

    def test_select_then_propagate_as_the_program_does(self):
        with tempfile.TemporaryDirectory() as d:
            data, out = Path(d) / "data", Path(d) / "prop"
            subprocess.run([SAMMPA, "-q", "phantom", "--out", str(data), "--count", "10", "--size", "96"],
                           check=True, stdout=subprocess.DEVNULL)
            support = sammpa.select(str(data), k=3)
            subprocess.run([SAMMPA, "-q", "select", "-d", str(data), "-k", "3", "-o", str(Path(d) / "sel")],
                           check=True, stdout=subprocess.DEVNULL)
            self.assertEqual(support, (Path(d) / "sel/support.txt").read_text().split())  # the same three
            summary = sammpa.propagate(str(data), support, str(out))
            self.assertEqual(len(list((out / "coarse").iterdir())), 7)
            self.assertGreater(summary["mean_dice"]["vote"], 0.8)
            with self.assertRaises(ValueError):
                sammpa.select(str(data), k=3, strategy="nonsense")


class DocsExample(unittest.TestCase):
    def test_the_example_in_docs_python_md_runs(self):
        # The first ```python block of docs/PYTHON.md, with its three placeholders pointed at real files.
        text = (Path(__file__).resolve().parents[2] / "docs/PYTHON.md").read_text()
        code = text.split("```python\n", 1)[1].split("```", 1)[0]
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([SAMMPA, "-q", "phantom", "--out", str(Path(d) / "DATA"), "--count", "8", "--size", "96"],
                           check=True, stdout=subprocess.DEVNULL)
            code = code.replace('sys.path.insert(0, "build/python")', "pass")
            code = code.replace('"scan.png"', repr(str(DATA / "busi/images/benign_003.png")))
            code = code.replace('"mobile_sam.pt"', repr(CKPT)).replace('"DATA"', repr(str(Path(d) / "DATA")))
            for sub in ("out/prop", "out/run"):
                code = code.replace(f'"{sub}"', repr(str(Path(d) / sub)))
            scope = {}
            exec(compile(code, "docs/PYTHON.md", "exec"), scope)
            self.assertEqual(scope["masks"].shape[0], 3)
            self.assertGreater(len(scope["everything"]), 0)
            self.assertIn("dice", scope["result"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
