"""Global switches read on every op (kept outside ``autograd`` so ``tensor.py`` can import them)."""


class _Switches:
    # An instance with slots, not class attributes: Python specialises reading an instance's slot into
    # one fast step, while a class attribute is looked up through the type on every read.
    __slots__ = ("enabled", "anomaly", "bumps")

    def __init__(self):
        self.enabled = True  # record the graph?
        self.anomaly = False  # check every forward and backward result for NaN/Inf?
        self.bumps = 0  # in-place changes so far (any tensor): backward skips version checks while it is unchanged


_State = _Switches()
