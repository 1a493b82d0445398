"""Reverse-mode automatic differentiation: the engine, grad modes, ``grad``, ``Function``, gradcheck."""

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .custom import Function, FunctionCtx, once_differentiable
from .functional import backward, grad
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "FunctionCtx", "once_differentiable", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]
