#!/usr/bin/env python3
"""Fits the rational approximation of erf behind sammpa's GELU row kernel (src/sam/nn/row_kernels.cpp):
erf(z) ~ z P(z^2) / Q(z^2) on [0, 3.92] (beyond, erf is 1 in float32), P of degree 5, Q of degree 5 with
Q(0) = 1, by iteratively reweighted linearised least squares towards the minimax fit. Prints the
coefficients and the largest error of the fit in double and evaluated in float32 as the kernel does.
Run: /usr/bin/python3 scripts/fit_gelu_erf.py"""
from math import erf

import numpy as np

LIMIT = 3.92
z = np.linspace(0.0, LIMIT, 20001)
y = np.array([erf(v) for v in z])
t = z * z
NP, NQ = 6, 5  # coefficients of P; of Q after its constant 1

weight = np.ones_like(z)
denominator = np.ones_like(z)
for _ in range(30):
    # z P(t) - y (Q(t) - 1) = y, divided by the previous Q so that the residual approximates the true error
    a = np.hstack([z[:, None] * t[:, None] ** np.arange(NP), -(y[:, None] * t[:, None] ** np.arange(1, NQ + 1))])
    a /= denominator[:, None]
    coef, *_ = np.linalg.lstsq(a * weight[:, None], y / denominator * weight, rcond=None)
    p, q = coef[:NP], np.concatenate([[1.0], coef[NP:]])
    denominator = np.polyval(q[::-1], t)
    error = z * np.polyval(p[::-1], t) / denominator - y
    weight *= np.sqrt(np.abs(error) / np.abs(error).mean()) + 1e-12  # push towards equal ripples
    weight /= weight.mean()

z32, t32 = z.astype(np.float32), (z * z).astype(np.float32)
p32, q32 = np.float32(p[-1]), np.float32(q[-1])
for c in p[-2::-1]:
    p32 = (p32 * t32 + np.float32(c)).astype(np.float32)
for c in q[-2::-1]:
    q32 = (q32 * t32 + np.float32(c)).astype(np.float32)
print("P:", ", ".join("%.9e" % c for c in p))
print("Q:", ", ".join("%.9e" % c for c in q))
print("largest error of erf: fit %.2e, float32 evaluation %.2e" % (np.abs(error).max(), np.abs(z32 * p32 / q32 - y).max()))
