"""``Identity`` and ``Linear``."""

from __future__ import annotations

import math

from ...tensor import Tensor, tensor_arg
from .. import functional as F
from .. import init
from ..module import Module
from ._factory import check_size, empty_parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); accepts and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias``: ``(*, in_features) -> (*, out_features)``.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias`` ``(out_features,)``, as in PyTorch;
    both start as ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (PyTorch's default initialisation).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        check_size("Linear", "in_features", in_features)
        check_size("Linear", "out_features", out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = empty_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: ``kaiming_uniform_(a=sqrt(5))`` weight, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if type(input) is not Tensor:
            input = tensor_arg(input, "Linear")
        params = self._parameters  # (one dict lookup instead of two Module.__getattr__ calls)
        try:
            return F.linear(input, params["weight"], params["bias"])
        except ValueError:
            if input.ndim == 0 or input.shape[-1] != self.in_features:  # say it in the layer's terms
                raise ValueError(f"Linear: expected input with last dim {self.in_features} (in_features), "
                                 f"got shape {input.shape}") from None
            raise

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
