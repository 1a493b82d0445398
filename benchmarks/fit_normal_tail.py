"""Fit the rational function behind ``ops.namespaces.normal_cdf_f32`` (float32 GELU): run it to print the coefficients.

For ``a >= 0``, ``Phi(-a) = 0.5 erfc(a / sqrt 2) = phi(a) M(a)``, with ``phi`` the normal density and ``M`` the Mills
ratio. ``1 / M(a) = a + S(a)``, where ``S`` is smooth and bounded (``S(0) = sqrt(2 / pi)``, ``S(a) ~ 1/a``), so
``Phi(-a) = phi(a) / (a + S(a))``: float32 rounding in ``S`` then matters less the larger ``a`` is. ``S`` is fitted by
``P(a) / Q(a)``, degrees 3 and 4 (``Q`` monic), minimising the largest error in ``M`` relative to ``M``, on ``[0, 16]``
(Sanathanan-Koerner iterations with Lawson weights, float64, 30000 Chebyshev points): within 5e-8 (0.8 float32 ulps
at most; 4 ulps at most with float32 arithmetic).
"""

import numpy as np
import scipy.special as sp


def mills(a):
    return np.sqrt(np.pi / 2) * sp.erfcx(a / np.sqrt(2))


def fit(m=3, k=4, top=16.0, iters=300):
    j = np.arange(30000)
    a = np.concatenate([[0.0], top * 0.5 * (1 - np.cos(np.pi * (j + 0.5) / len(j))), [top]])
    s = 1 / mills(a) - a
    scale = 1 / (a + s)  # an error e in S is an error e / (a + S) in M, relative
    V = np.vander(a, max(m, k) + 1, increasing=True)
    den, w = np.ones_like(a), np.ones_like(a)
    for it in range(iters):  # P - S (Q - a^k) = S a^k, Q monic; scaled by 1 / Q_previous: linearised
        A = np.hstack([V[:, :m + 1], -s[:, None] * V[:, :k]]) * (scale / den)[:, None]
        sw = np.sqrt(w)
        c = np.linalg.lstsq(A * sw[:, None], s * V[:, k] * scale / den * sw, rcond=None)[0]
        p, q = c[:m + 1], np.concatenate([c[m + 1:], [1.0]])
        den = V[:, :k + 1] @ q
        err = ((V[:, :m + 1] @ p) / den - s) * scale
        if it > 20:  # Lawson: weigh up where the error is large, towards equal ripples
            w = w * np.abs(err) + 1e-300
            w /= w.sum()
    return p, q, np.abs(err).max()


if __name__ == "__main__":
    p, q, err = fit()
    print("max error relative to M", err)
    print("P (a^0 ..)", [float(np.float32(c)) for c in p])
    print("Q (a^0 .., monic)", [float(np.float32(c)) for c in q[:-1]])
