"""Training scripts written the way PyTorch's examples and tutorials write them.

Each module defines ``run(torch, steps, dtype=None)``: ``torch`` is the framework module (``tinygradnn``
or the real ``torch``), so the same source runs under both. Weights come from :func:`._common.seeded_init_`
and the data order is fixed, so with ``dtype=float64`` both frameworks must produce the same numbers.
``run`` returns a dict of what the script would print: per-step ``losses``, an ``accuracy`` in percent
where there is one, and other values worth comparing (learning rates, gradient norms, features).

Run one by hand from ``tests/compat``: ``python -m pytorch_scripts.cnn_classifier [--torch]``.
"""

SCRIPTS = [
    "cnn_classifier",
    "mlp_regression",
    "autoencoder",
    "clip_and_schedule",
    "feature_hooks",
    "save_resume",
    "custom_autograd_loss",
    "collate_fn",
    "quickstart",
    "nn_from_scratch",
]
