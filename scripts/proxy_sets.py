#!/usr/bin/env python3
"""Stand-ins for modalities the shared data does not hold, built from BUSI's images and masks (every figure
made with them names the command; docs/RESULTS.md, "The fused maps within the noise of registration").

  crops SRC DST [--stride 6] [--scale 1.7] [--seed 7]
      each stride-th lesion image (name order) cropped around its lesion: the crop is the lesion's box times
      scale, moved off centre by up to a fifth of its size, so that the lesion fills about a third of the image,
      as skin lesions or polyps do; images keep their own sizes.
  tiles SRC DST [--count 60] [--seed 11]
      2 x 2 tiles of 192 pixels, each a lesion cropped at three times its size (60%) or a crop of a normal image:
      0 to 4 objects per image, from different patients.

Writes DST/images/NAME.png and DST/masks/NAME.png (0/255). Needs numpy and OpenCV (Debian's python3-opencv).
"""
import argparse
import os
import random

import cv2
import numpy as np


def lesion_box(mask):
    ys, xs = np.nonzero(mask)
    return xs.min(), xs.max(), ys.min(), ys.max()


def crops(src, dst, stride, scale, seed):
    rng = random.Random(seed)
    names = sorted(n for n in os.listdir(f"{src}/images") if not n.startswith("normal"))
    for n in names[::stride]:
        image = cv2.imread(f"{src}/images/{n}", cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(f"{src}/masks/{n}", cv2.IMREAD_GRAYSCALE)
        if not mask.any():
            continue
        x0, x1, y0, y1 = lesion_box(mask)
        w, h = int((x1 - x0 + 1) * scale), int((y1 - y0 + 1) * scale)
        cx = (x0 + x1) / 2 + rng.uniform(-0.2, 0.2) * w
        cy = (y0 + y1) / 2 + rng.uniform(-0.2, 0.2) * h
        left = min(int(max(0, cx - w / 2)), x0)  # the whole lesion stays inside
        right = max(int(min(mask.shape[1], cx + w / 2)), x1 + 1)
        top = min(int(max(0, cy - h / 2)), y0)
        bottom = max(int(min(mask.shape[0], cy + h / 2)), y1 + 1)
        cv2.imwrite(f"{dst}/images/{n}", image[top:bottom, left:right])
        cv2.imwrite(f"{dst}/masks/{n}", mask[top:bottom, left:right])


def tiles(src, dst, count, seed, side=192):
    rng = random.Random(seed)
    names = sorted(os.listdir(f"{src}/images"))
    lesions = [n for n in names if not n.startswith("normal")]
    normals = [n for n in names if n.startswith("normal")]
    rng.shuffle(lesions)
    rng.shuffle(normals)
    taken = {"lesion": 0, "normal": 0}

    def next_name(kind, pool):
        n = pool[taken[kind] % len(pool)]
        taken[kind] += 1
        return n

    def lesion_tile(n):
        image = cv2.imread(f"{src}/images/{n}", cv2.IMREAD_GRAYSCALE)
        mask = cv2.imread(f"{src}/masks/{n}", cv2.IMREAD_GRAYSCALE)
        x0, x1, y0, y1 = lesion_box(mask)
        s = int(max(x1 - x0, y1 - y0) * 3.0) + 8
        cx = (x0 + x1) / 2 + rng.uniform(-0.2, 0.2) * s
        cy = (y0 + y1) / 2 + rng.uniform(-0.2, 0.2) * s
        s = min(s, image.shape[0], image.shape[1])
        a = int(min(max(cx - s / 2, 0), image.shape[1] - s))
        c = int(min(max(cy - s / 2, 0), image.shape[0] - s))
        tile = cv2.resize(image[c:c + s, a:a + s], (side, side), interpolation=cv2.INTER_AREA)
        tile_mask = cv2.resize(mask[c:c + s, a:a + s], (side, side), interpolation=cv2.INTER_NEAREST)
        return tile, (tile_mask > 0).astype(np.uint8) * 255

    def normal_tile(n):
        image = cv2.imread(f"{src}/images/{n}", cv2.IMREAD_GRAYSCALE)
        h, w = image.shape
        s = min(h, w) // 2
        a, c = rng.randint(0, w - s), rng.randint(0, h - s)
        tile = cv2.resize(image[c:c + s, a:a + s], (side, side), interpolation=cv2.INTER_AREA)
        return tile, np.zeros((side, side), np.uint8)

    for k in range(count):
        image = np.zeros((2 * side, 2 * side), np.uint8)
        mask = np.zeros_like(image)
        for t in range(4):
            if rng.random() < 0.6:
                tile, tile_mask = lesion_tile(next_name("lesion", lesions))
            else:
                tile, tile_mask = normal_tile(next_name("normal", normals))
            y, x = (t // 2) * side, (t % 2) * side
            image[y:y + side, x:x + side] = tile
            mask[y:y + side, x:x + side] = tile_mask
        cv2.imwrite(f"{dst}/images/tiles_{k:03d}.png", image)
        cv2.imwrite(f"{dst}/masks/tiles_{k:03d}.png", mask)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["crops", "tiles"])
    p.add_argument("src", help="a BUSI folder (images/, masks/; normal images named normal_*)")
    p.add_argument("dst")
    p.add_argument("--stride", type=int, default=6)
    p.add_argument("--scale", type=float, default=1.7)
    p.add_argument("--count", type=int, default=60)
    p.add_argument("--seed", type=int)
    a = p.parse_args()
    os.makedirs(f"{a.dst}/images", exist_ok=True)
    os.makedirs(f"{a.dst}/masks", exist_ok=True)
    if a.kind == "crops":
        crops(a.src, a.dst, a.stride, a.scale, 7 if a.seed is None else a.seed)
    else:
        tiles(a.src, a.dst, a.count, 11 if a.seed is None else a.seed)
    print(len(os.listdir(f"{a.dst}/images")), "images in", a.dst)


if __name__ == "__main__":
    main()
