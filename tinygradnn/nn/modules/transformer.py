"""Attention layers: ``MultiheadAttention``, ``TransformerEncoderLayer`` and ``TransformerEncoder``.

Parameter names, shapes and initialisation are PyTorch's, so a PyTorch ``state_dict`` loads and gives the same
outputs. Everything is composed of differentiable ops (``F.linear``, matmul, softmax,
``F.scaled_dot_product_attention``, ``LayerNorm``), so gradients and double backward need no rules of their own.
PyTorch's inference fast paths (nested tensors, fused kernels) do not exist here: the results are those of its
ordinary path. The decoder layers and ``nn.Transformer`` are not supported yet.

Examples:
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = tg.randn(3, 5, 8)  # 3 sequences of 5 tokens
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    >>> nn.TransformerEncoder(layer, num_layers=2)(x).shape
    (3, 5, 8)
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np

from ... import ops
from ...tensor import Tensor, tensor_arg
from .. import functional as F
from .. import init
from ..module import Module
from ._factory import check_size, empty_parameter
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


def _float_mask(mask, name: str, other, other_name: str, dtype, stacklevel: int = 5) -> Tensor | None:
    """PyTorch's ``_canonical_mask``: a bool mask (True = masked out) becomes ``-inf``/``0`` of ``dtype``; a
    float mask stays as it is (it is added to the scores)."""
    if mask is None:
        return None
    mask = tensor_arg(mask, name)
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got dtype {mask.dtype}")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=stacklevel)
    if mask.dtype == np.bool_:
        return Tensor._wrap(np.where(mask._data, -np.inf, 0.0).astype(dtype))
    return mask


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask, attn_mask, num_heads: int) -> bool:
    """PyTorch's ``_mha_shape_check`` (``ValueError`` here, PyTorch's ``AssertionError``); True when batched."""
    if query.ndim not in (2, 3):
        raise ValueError("MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor (shape {query.shape})")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"MultiheadAttention: for {kind} `query`, expected `key` and `value` to be "
                         f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors respectively "
                         f"(shapes {key.shape} and {value.shape})")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ValueError(f"MultiheadAttention: for {kind} `query`, expected `key_padding_mask` to be `None` or "
                         f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: for {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {attn_mask.ndim}-D tensor instead")
        if not batched and attn_mask.ndim == 3 and attn_mask.shape != (num_heads, query.shape[0], key.shape[0]):
            raise ValueError(f"MultiheadAttention: expected `attn_mask` shape to be "
                             f"{(num_heads, query.shape[0], key.shape[0])} but got {attn_mask.shape}")
    return batched


class MultiheadAttention(Module):
    """Multi-head attention: ``num_heads`` heads of size ``embed_dim // num_heads`` over projected queries, keys
    and values, then an output projection.

    Inputs ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``; ``key``/``value`` have
    ``S`` positions and ``kdim``/``vdim`` features. ``forward`` returns ``(attn_output, attn_weights)``: the
    weights ``(N, L, S)`` averaged over heads (``(N, num_heads, L, S)`` with ``average_attn_weights=False``),
    or None with ``need_weights=False``. Masks: ``key_padding_mask`` ``(N, S)`` and ``attn_mask`` ``(L, S)`` or
    ``(N * num_heads, L, S)``, bool (True = not attended) or float (added to the scores).

    Parameters as PyTorch: ``in_proj_weight`` ``(3E, E)`` (xavier uniform), or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from ``E``; ``in_proj_bias`` ``(3E,)``
    (zeros); ``out_proj`` a ``Linear(E, E)`` (zero bias); ``bias_k``/``bias_v`` ``(1, 1, E)`` with
    ``add_bias_kv`` (xavier normal).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        check_size("MultiheadAttention", "embed_dim", embed_dim)
        check_size("MultiheadAttention", "num_heads", num_heads)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter((3 * embed_dim, embed_dim), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty_parameter((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = empty_parameter((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = empty_parameter((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_parameter((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty_parameter((1, 1, embed_dim), device, dtype)
            self.bias_v = empty_parameter((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier uniform projection weights, zero biases, xavier normal ``bias_k``/``bias_v``."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        query, key, value = (tensor_arg(t, "MultiheadAttention") for t in (query, key, value))
        masks = [None if m is None else tensor_arg(m, "MultiheadAttention") for m in (key_padding_mask, attn_mask)]
        key_padding_mask, attn_mask = masks
        batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if self.batch_first and batched:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = self._attention(query, key, value, key_padding_mask, need_weights, attn_mask,
                                       average_attn_weights, is_causal, batched)
        return (out.transpose(0, 1) if self.batch_first and batched else out), weights

    def _attention(self, query, key, value, key_padding_mask, need_weights, attn_mask, average, is_causal,
                   batched):
        """PyTorch's ``F.multi_head_attention_forward`` on sequence-first inputs ``(L, N, E)`` or ``(L, E)``."""
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        tgt_len, bsz, embed_dim = query.shape
        src_len = key.shape[0]
        dtype = query.dtype
        key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", dtype)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                               "method `generate_square_subsequent_mask` to create this mask.")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # (the hint is used as is_causal in scaled_dot_product_attention, as PyTorch)
        else:
            attn_mask = _float_mask(attn_mask, "attn_mask", None, "", dtype)
            if key_padding_mask is not None:
                is_causal = False
        if embed_dim != self.embed_dim:
            raise ValueError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, but got "
                             f"{embed_dim} (query of shape {query.shape})")
        q, k, v = self._project(query, key, value)
        heads, head_dim = self.num_heads, self.head_dim
        if attn_mask is not None:
            expected = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * heads, tgt_len, src_len)
            if attn_mask.shape != expected:
                raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is {attn_mask.shape}, but should "
                                   f"be {expected}.")
            if attn_mask.ndim == 2:
                attn_mask = attn_mask.unsqueeze(0)
        if self.bias_k is not None:
            k = ops.cat([k, self.bias_k.repeat(1, bsz, 1)])
            v = ops.cat([v, self.bias_v.repeat(1, bsz, 1)])
            attn_mask, key_padding_mask = (None if m is None else F.pad(m, (0, 1)) for m in (attn_mask,
                                                                                             key_padding_mask))
        q = q.reshape(tgt_len, bsz * heads, head_dim).transpose(0, 1)
        k = k.reshape(k.shape[0], bsz * heads, head_dim).transpose(0, 1)
        v = v.reshape(v.shape[0], bsz * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            zeros = Tensor._wrap(np.zeros((bsz * heads, 1, head_dim), dtype=k.dtype))
            k, v = ops.cat([k, zeros], 1), ops.cat([v, zeros], 1)
            attn_mask, key_padding_mask = (None if m is None else F.pad(m, (0, 1)) for m in (attn_mask,
                                                                                             key_padding_mask))
        src_len = k.shape[1]
        if key_padding_mask is not None:
            if key_padding_mask.shape != (bsz, src_len):
                raise ValueError(f"MultiheadAttention: expected key_padding_mask of shape {(bsz, src_len)} "
                                 f"(batch, source length), got {key_padding_mask.shape}")
            key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
                bsz, heads, 1, src_len).reshape(bsz * heads, 1, src_len)
            attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = ops.matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
            with np.errstate(invalid="ignore"):  # a query with every key masked: NaN, as PyTorch
                weights = ops.softmax(scores if attn_mask is None else scores + attn_mask, -1)
            if dropout_p > 0.0:
                weights = F.dropout(weights, dropout_p)
            out = ops.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
            weights = weights.reshape(bsz, heads, tgt_len, src_len)
            if average:
                weights = weights.mean(1)
        else:
            if attn_mask is not None:
                attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                             else attn_mask.reshape(bsz, heads, -1, src_len))
            q, k, v = (t.reshape(bsz, heads, -1, head_dim) for t in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
            out, weights = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim), None
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(tgt_len, bsz, embed_dim)
        if not batched:
            out = out.squeeze(1)
            weights = None if weights is None else weights.squeeze(0)
        return out, weights

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The input projections of ``query``, ``key`` and ``value``."""
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        if key.shape[:2] != value.shape[:2] or (self._qkv_same_embed_dim and key.shape != value.shape):
            raise ValueError(f"MultiheadAttention: key of shape {key.shape} does not match value of shape "
                             f"{value.shape}")
        if key.shape[1] != query.shape[1]:
            raise RuntimeError(f"MultiheadAttention: query and key must have the same batch size, got shapes "
                               f"{query.shape} and {key.shape} (sequence first here)")
        for name, x, w in (("query", query, wq), ("key", key, wk), ("value", value, wv)):
            if x.shape[-1] != w.shape[1]:
                raise ValueError(f"MultiheadAttention: expected {name} with last dim {w.shape[1]}, got shape "
                                 f"{x.shape}")
            if x.dtype != w.dtype:
                raise RuntimeError(f"MultiheadAttention: {name} dtype {x.dtype} does not match the weights' dtype "
                                   f"{w.dtype}; convert it (.to({w.dtype})) or the model (model.to({x.dtype}))")
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block (``linear1``, activation, ``dropout``, ``linear2``), each with a
    residual connection and a ``LayerNorm`` (after, or before with ``norm_first``): ``(L, N, d_model)``
    (``(N, L, d_model)`` with ``batch_first``, or unbatched ``(L, d_model)``) to the same shape.

    Submodules as PyTorch: ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``,
    ``dropout1``, ``dropout2``. ``activation`` is ``'relu'``, ``'gelu'`` or a callable.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _is_causal_mask(mask: Tensor | None, size: int) -> bool:
    """Whether ``mask`` is the float causal mask of ``size`` (``0`` on and below the diagonal, ``-inf`` above)."""
    if mask is None or mask.shape[-2:] != (size, size) or mask.ndim != 2:
        return False
    causal = np.triu(np.full((size, size), -np.inf), 1)
    return bool((mask._data == causal).all())


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers``, a ``ModuleList``) applied in turn, then ``norm``
    if given. ``enable_nested_tensor`` and ``mask_check`` are accepted and ignored (no nested tensors here)."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        check_size("TransformerEncoder", "num_layers", num_layers)
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        src = tensor_arg(src, "TransformerEncoder")
        mask = None if mask is None else tensor_arg(mask, "TransformerEncoder")
        src_key_padding_mask = _float_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype, 4)
        mask = _float_mask(mask, "mask", None, "", src.dtype)
        if is_causal is None:
            first = self.layers[0] if len(self.layers) else None
            batch_first = first is not None and getattr(getattr(first, "self_attn", None), "batch_first", False)
            seq_len = src.shape[1 if batch_first and src.ndim == 3 else 0] if src.ndim else 0
            is_causal = _is_causal_mask(mask, seq_len)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return output if self.norm is None else self.norm(output)

