#!/usr/bin/python3
"""A folder for the flipped-supports trial (docs/RESULTS.md): links to every image and mask of DATA plus a
left-right mirror of each named support, saved as NAME_hflip.png, and the doubled support list.

    python3 scripts/flip_supports.py DATA OUT NAME,NAME,...   # writes OUT/images, OUT/masks, OUT/support.txt
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    data, out, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    for kind in ("images", "masks"):
        os.makedirs(f"{out}/{kind}", exist_ok=True)
        for f in sorted(os.listdir(f"{data}/{kind}")):
            if not os.path.lexists(f"{out}/{kind}/{f}"):
                os.symlink(os.path.realpath(f"{data}/{kind}/{f}"), f"{out}/{kind}/{f}")
        for n in names:
            im = Image.open(f"{data}/{kind}/{n}.png")
            Image.fromarray(np.ascontiguousarray(np.array(im)[:, ::-1])).save(f"{out}/{kind}/{n}_hflip.png")
    with open(f"{out}/support.txt", "w") as f:
        f.write("\n".join(names + [n + "_hflip" for n in names]) + "\n")


if __name__ == "__main__":
    main()
