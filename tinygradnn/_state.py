"""Global switches read on every op (kept outside ``autograd`` so ``tensor.py`` can import them)."""


class _State:
    enabled = True  # record the graph?
    anomaly = False  # check every forward and backward result for NaN/Inf?
    bumps = 0  # in-place changes so far (any tensor): backward skips version checks while it is unchanged
