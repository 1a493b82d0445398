"""Helpful errors for PyTorch names that tinygradnn does not have (yet).

Each public package of tinygradnn that mirrors a PyTorch module ends with::

    def __getattr__(name):
        raise unsupported(__name__, name)

so ``tinygradnn.nn.Transformer`` raises an ``AttributeError`` that says the name is not supported yet and,
for common names, what to write instead. ``docs/pytorch.md`` lists the supported surface.
"""

from __future__ import annotations

import difflib
import sys

_NO_GPU = "run on the CPU in float32 or float64 (tinygradnn has no GPU, compiler or mixed precision)"

# What to use instead, keyed by the tinygradnn module that the PyTorch module maps to.
ALTERNATIVES: dict[str, dict[str, str]] = {
    "tinygradnn": {
        "einsum": "tinygradnn.matmul with reshape/permute",
        "t": "x.T or x.transpose(0, 1)",
        "concat": "tinygradnn.cat",
        "FloatTensor": "tinygradnn.tensor(data, dtype=tinygradnn.float32)",
        "LongTensor": "tinygradnn.tensor(data, dtype=tinygradnn.int64)",
        "Size": "a tuple: x.shape and x.size() are tuples",
        "dtype": "NumPy dtypes: tinygradnn.float32 is numpy.float32",
        "half": _NO_GPU, "bfloat16": _NO_GPU, "autocast": _NO_GPU, "amp": _NO_GPU, "compile": _NO_GPU,
        "jit": _NO_GPU,
        "distributed": "one process: tinygradnn has no distributed training",
        "linalg": "NumPy on x.detach().numpy() (no gradient)",
        "fft": "NumPy on x.detach().numpy() (no gradient)",
    },
    "tinygradnn.nn": {
        "LogSigmoid": "-F.softplus(-x)",
        "Transformer": "nn.TransformerEncoder of nn.TransformerEncoderLayer (there are no decoder layers yet)",
        **{name: "nn.MultiheadAttention (self- and cross-attention) with nn.Linear and nn.LayerNorm blocks"
           for name in ("TransformerDecoderLayer", "TransformerDecoder")},
        "ParameterList": "assign each nn.Parameter as an attribute, or keep modules in nn.ModuleList",
        "DataParallel": "the model itself (one CPU process)",
    },
    "tinygradnn.nn.functional": {
        "logsigmoid": "-F.softplus(-x)",
    },
    "tinygradnn.optim": {
        "Adamax": "optim.Adam", "NAdam": "optim.Adam", "RAdam": "optim.Adam", "SparseAdam": "optim.Adam",
        "ASGD": "optim.SGD", "Rprop": "optim.RMSprop", "LBFGS": "optim.SGD or optim.Adam",
    },
    "tinygradnn.optim.lr_scheduler": {
        name: "LambdaLR with your own schedule function"
        for name in ("CyclicLR", "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler", "ConstantLR",
                     "PolynomialLR", "MultiplicativeLR")
    },
    "tinygradnn.utils.data": {
        "DistributedSampler": "RandomSampler (one process)",
        "get_worker_info": "nothing: data always loads in the main process (get_worker_info() would return None)",
    },
}


def unsupported(module: str, name: str) -> AttributeError:
    """The ``AttributeError`` for ``module.name``, saying what to use instead when we know, and which name of
    ``module`` was probably meant when it looks like a misspelling of one."""
    if name.startswith("_"):  # dunder and private lookups by tools (pickle, inspect, doctest) get the usual error
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    torch_name = "torch" + module[len("tinygradnn"):] + "." + name
    hint = ALTERNATIVES.get(module, {}).get(name)
    if hint is None:
        ours = [n for n in dir(sys.modules.get(module)) if not n.startswith("_")]
        close = [n for n in ours if n.lower() == name.lower()] or difflib.get_close_matches(name, ours, n=1, cutoff=0.8)
        if close:
            return AttributeError(f"module {module!r} has no attribute {name!r}. Did you mean: {close[0]!r}? (If you "
                                  f"meant PyTorch's {torch_name}, it has no counterpart here yet; docs/pytorch.md "
                                  "lists the supported PyTorch surface.)")
    advice = f"Instead use: {hint}." if hint else "There is no equivalent yet."
    return AttributeError(f"{module}.{name} is not supported yet (PyTorch's {torch_name} has no counterpart here). "
                          f"{advice} docs/pytorch.md lists the supported PyTorch surface.")
