"""Optimizers and learning-rate schedules, shaped like ``torch.optim``.

    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()            # gradients accumulate until zeroed
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()

Optimizers update ``Parameter`` arrays in place (``p._data``) and record no graph.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]


def __getattr__(name: str):
    # An unsupported PyTorch name says so and what to use instead (tinygradnn/_unsupported.py).
    from .._unsupported import unsupported

    raise unsupported(__name__, name)
