"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the one-step cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a PyTorch ``state_dict`` loads and
gives the same outputs. Per layer and direction the input projection ``x @ W_ih.T + b_ih`` is one matmul
(``F.linear``) over all time steps, and the recurrence over all time steps (per step the hidden-state matmul,
the gates, the new state) is one fused op of :mod:`tinygradnn.ops.rnn` with its own backward rule (double
backward included): a layer and direction records a few graph nodes, however long the sequence. That op
returns the state after every step; the outputs and the final state are slices of it. An LSTM's state
``(h, c)`` travels as one tensor ``[h | c]``. A cell is one fused step op. ``PackedSequence`` inputs are not
supported.

Examples:
    >>> lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    >>> out, (h, c) = lstm(tg.randn(4, 7, 3))  # 4 sequences of 7 steps
    >>> out.shape, h.shape, c.shape
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
    >>> nn.GRUCell(3, 5)(tg.randn(4, 3)).shape
    (4, 5)
"""

from __future__ import annotations

import math
import numbers
import warnings

from ... import ops
from ...creation import zeros
from ...ops import rnn as rnnops
from ...tensor import Tensor, tensor_arg
from .. import functional as F
from .. import init
from ..module import Module
from ._factory import check_size, empty_parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _uniform_init(module: Module) -> None:
    """Every parameter ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`` (0 for a zero hidden size)."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_dtype(what: str, x: Tensor, weight: Tensor) -> None:
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{what}: dtype {x.dtype} does not match the weights' dtype {weight.dtype}; convert "
                           f"it (.to({weight.dtype})) or the model (model.to({x.dtype}))")


# ----------------------------------------------------------------------------- RNN, LSTM, GRU
class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters, their checks and the layer/direction loop.

    Per layer ``k`` and direction: ``weight_ih_l{k}`` ``(gates*hidden, in)``, ``weight_hh_l{k}``
    ``(gates*hidden, hidden)``, ``bias_ih_l{k}``/``bias_hh_l{k}`` ``(gates*hidden,)``, with the suffix
    ``_reverse`` for the backward direction (``weight_hr_l{k}`` ``(proj, hidden)`` for an LSTM with
    ``proj_size``); all start as ``U(-1/sqrt(hidden), 1/sqrt(hidden))``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        for what, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{what} should be of type bool, got: {type(value).__name__}")
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers),
                            ("proj_size", proj_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{what} should be of type int, got: {type(value).__name__}")
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if value <= 0:
                raise ValueError(f"{what} must be greater than zero, got {value}")
        if proj_size < 0:
            raise ValueError(f"proj_size should be a positive integer or zero to disable projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gates, out_size = _GATES[mode] * hidden_size, proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:self._directions]:
                shapes = {"weight_ih": (gates, input_size if layer == 0 else out_size * self._directions),
                          "weight_hh": (gates, out_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{layer}{suffix}", empty_parameter(shape, device, dtype))
                    self._flat_weights_names.append(f"{name}_l{layer}{suffix}")
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        _uniform_init(self)

    def flatten_parameters(self) -> None:
        """Does nothing (PyTorch packs the weights for cuDNN here)."""

    @property
    def all_weights(self) -> list[list]:
        """The parameters per layer and direction, as PyTorch's ``all_weights``."""
        per = len(self._flat_weights_names) // (self.num_layers * self._directions)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer: int, direction: int) -> tuple:
        """``(w_ih, w_hh, b_ih, b_hh, w_hr)`` of one layer and direction (None where absent)."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        p = self._parameters
        return (p["weight_ih" + suffix], p["weight_hh" + suffix], p.get("bias_ih" + suffix),
                p.get("bias_hh" + suffix), p.get("weight_hr" + suffix))

    # -- forward
    def _states(self, input: Tensor, hx, batched: bool) -> list[Tensor]:
        """The initial states as 3-D tensors (zeros when ``hx`` is None), after PyTorch's checks."""
        name, lstm = type(self).__name__, self.mode == "LSTM"
        n = input.shape[0 if self.batch_first else 1] if batched else 1
        layers = self.num_layers * self._directions
        sizes = [self.proj_size or self.hidden_size] + [self.hidden_size] * lstm
        if hx is None:
            return [zeros(layers, n, s, dtype=input.dtype) for s in sizes]
        if lstm:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = [tensor_arg(s, name) for s in hx]
        else:
            states = [tensor_arg(hx, name)]
        rank = 3 if batched else 2
        if any(s.ndim != rank for s in states):
            got = ", ".join(f"{s.ndim}-D" for s in states)
            what = "hx and cx" if lstm else "hx"
            raise RuntimeError(f"For {'batched 3-D' if batched else 'unbatched 2-D'} input, {what} should also be "
                               f"{rank}-D but got {'(' + got + ')' if lstm else got} tensor{'s' * lstm}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        for i, (s, size) in enumerate(zip(states, sizes)):
            expected = (layers, n, size)
            if s.shape != expected:
                what = f"hidden[{i}]" if lstm else "hidden"
                raise RuntimeError(f"Expected {what} size {expected}, got {list(s.shape)}")
            if s.dtype != input.dtype:
                raise RuntimeError(f"{name}: {'hx' if i == 0 else 'cx'} dtype {s.dtype} does not match the input "
                                   f"dtype {input.dtype}")
        return states

    def forward(self, input: Tensor, hx=None):
        """``(L, N, input_size)`` (``(N, L, input_size)`` with ``batch_first``, ``(L, input_size)`` unbatched)
        and initial states ``(num_layers * directions, N, hidden_size)`` (zeros if None) -> the last layer's
        outputs at every step ``(L, N, directions * hidden_size)`` and the final states, as PyTorch."""
        name = type(self).__name__
        input = tensor_arg(input, name)
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead "
                             f"(shape {input.shape})")
        batched = input.ndim == 3
        weight = self._parameters["weight_ih_l0"]
        if input.dtype != weight.dtype:
            raise ValueError(f"{name} input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                             f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]} (input of shape {input.shape})")
        states = self._states(input, hx, batched)
        x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        if self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise RuntimeError(f"Expected sequence length to be larger than 0 in RNN (input of shape {input.shape})")
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                k = layer * self._directions + direction
                ys, last = self._run(x, [s[k] for s in states], self._weights(layer, direction), direction == 1)
                outputs.append(ys)
                for f, s in zip(finals, last):
                    f.append(s)
            x = outputs[0] if len(outputs) == 1 else ops.cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if self.batch_first:
            x = x.transpose(0, 1)
        finals = [ops.stack(f) for f in finals]
        if not batched:
            x, finals = x.squeeze(0 if self.batch_first else 1), [f.squeeze(1) for f in finals]
        return x, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _run(self, x: Tensor, state: list[Tensor], weights: tuple, reverse: bool) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction over ``x`` ``(L, N, in)`` (one node for all steps): the outputs
        ``(L, N, out)`` and final states."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        if self.mode == "GRU":  # (b_hn is multiplied by r: it stays in the step)
            hs = rnnops.gru_layer(F.linear(x, w_ih, b_ih), state[0], w_hh, b_hh, reverse)
            return hs, [hs[0 if reverse else -1]]
        gi = F.linear(x, w_ih, None if b_ih is None else b_ih + b_hh)  # (b_hh added once, not at every step)
        if self.mode != "LSTM":
            hs = rnnops.rnn_layer(gi, state[0], w_hh, None, self.mode == "RNN_RELU", reverse)
            return hs, [hs[0 if reverse else -1]]
        states = rnnops.lstm_layer(gi, ops.cat(state, 1), w_hh, None, w_hr, reverse)
        out, last = state[0].shape[1], states[0 if reverse else -1]  # (the states are [h | c]: h is the output)
        return states[:, :, :out], [last[:, :out], last[:, out:]]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        for what, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, what) != default:
                s += f", {what}={getattr(self, what)}"
        return s


class RNN(RNNBase):
    """An Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (``nonlinearity='relu'``: relu),
    stacked ``num_layers`` deep. ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN got unexpected keyword arguments {sorted(kwargs)}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates ``i, f, g, o``: ``c_t = f*c_{t-1} + i*g``, ``h_t = o*tanh(c_t)``
    (``h_t W_hr^T`` with ``proj_size``). ``forward(input, (h_0, c_0)=None)`` returns
    ``(output, (h_n, c_n))``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates ``r, z, n``: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h_t = (1 - z) * n + z * h_{t-1}``. ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU got unexpected keyword arguments {sorted(kwargs)}")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` ``(gates*hidden, in)``, ``weight_hh`` ``(gates*hidden, hidden)``,
    ``bias_ih``/``bias_hh`` ``(gates*hidden,)``, all ``U(-1/sqrt(hidden), 1/sqrt(hidden))``; the checks."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_size(name, "input_size", input_size)
        check_size(name, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = empty_parameter((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = empty_parameter((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = empty_parameter((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = empty_parameter((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        _uniform_init(self)

    def _prepare(self, input, hx, n_states: int) -> tuple[Tensor, list[Tensor] | None, bool]:
        """Check ``input`` and ``hx`` (None, a tensor, or a tuple of ``n_states`` tensors) as PyTorch does;
        return them batched (2-D), and whether the input was."""
        name = type(self).__name__
        input = tensor_arg(input, name)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead (shape {input.shape})")
        states = None
        if hx is not None:
            if n_states == 2 and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = [tensor_arg(s, name) for s in (hx if n_states == 2 else [hx])]
            for i, s in enumerate(states):
                if s.ndim not in (1, 2):
                    what = f"hx[{i}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        _check_dtype(name + " input", input, self.weight_ih)
        if states is not None:
            for i, s in enumerate(states):
                if (s.ndim == 2) != batched:
                    raise RuntimeError(f"{name}: hidden{i} of shape {s.shape} does not match the "
                                       f"{'batched' if batched else 'unbatched'} input of shape "
                                       f"{input.shape if batched else input.shape[1:]}")
            states = [s if batched else s.unsqueeze(0) for s in states]
            for i, s in enumerate(states):
                if s.shape[0] != input.shape[0]:
                    raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch size "
                                       f"{s.shape[0]}")
                if s.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, expected "
                                       f"{self.hidden_size}")
                _check_dtype(f"{name} hidden{i}", s, self.weight_ih)
        return input, states, batched

    def _zeros(self, input: Tensor) -> Tensor:
        return zeros(input.shape[0], self.hidden_size, dtype=input.dtype)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).
    ``(N, input_size), (N, hidden_size) -> (N, hidden_size)``; unbatched ``(input_size,)`` works too."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity} (select from 'tanh' or 'relu')")
        input, states, batched = self._prepare(input, hx, 1)
        h = self._zeros(input) if states is None else states[0]
        h = rnnops.rnn_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                           self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``): ``(N, input_size), ((N, hidden), (N, hidden)) -> (h', c')``;
    unbatched inputs work too."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        input, states, batched = self._prepare(input, hx, 2)
        h, c = [self._zeros(input)] * 2 if states is None else states
        hc = rnnops.lstm_step(F.linear(input, self.weight_ih, self.bias_ih), ops.cat([h, c], 1), self.weight_hh,
                             self.bias_hh, None)
        h, c = hc[:, :self.hidden_size], hc[:, self.hidden_size:]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n``): ``(N, input_size), (N, hidden_size) -> (N, hidden_size)``; unbatched
    inputs work too."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, states, batched = self._prepare(input, hx, 1)
        h = self._zeros(input) if states is None else states[0]
        h = rnnops.gru_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
