#!/usr/bin/python3
"""The fixed random subset of query candidates the evaluation scripts score (drawn with seed 0, the same for
every configuration): N images whose name does not start with normal_, plus M normal_ images.

    /usr/bin/python3 scripts/query_subset.py IMAGES_FOLDER N M > subset.txt
"""
import os
import random
import sys

names = sorted(os.path.splitext(f)[0] for f in os.listdir(sys.argv[1]))
rng = random.Random(0)
normal = [n for n in names if n.startswith("normal_")]
other = [n for n in names if not n.startswith("normal_")]
pick = rng.sample(other, min(int(sys.argv[2]), len(other)))
if normal:
    pick += rng.sample(normal, min(int(sys.argv[3]), len(normal)))
print("\n".join(sorted(pick)))
