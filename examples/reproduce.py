"""Run every example at its full settings and write docs/results.md (measured numbers, times, machine).

    python examples/reproduce.py                       # everything, about 5 minutes on 2 cores
    python examples/reproduce.py --only xor usps_cnn   # some of them
    python examples/reproduce.py --quick --out /tmp/f --results /tmp/results.md   # smoke test

Each example is imported and its ``main(["--out", out])`` called; the lines it prints are kept,
and the metrics it returns fill the table. A missing or failing example is noted, not fatal.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import io
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np

import tinygradnn as torch

EXAMPLES = Path(__file__).resolve().parent
REPO = EXAMPLES.parent
sys.path.insert(0, str(EXAMPLES))

# Every script, in the order it runs, with the tutorial page that explains it.
SCRIPTS = ["demo", "manual_backprop", "linear_regression", "linear_classifier", "xor", "four_gaussians",
           "checkerboard", "usps_mlp", "usps_autoencoder", "usps_conv1d", "usps_cnn", "usps_lstm",
           "usps_transformer"]


def _f(x) -> str:
    return f"{x:.3f}"


# The table of the original student project: (experiment, original result, target, script, measured(metrics)).
TABLE = [
    ("Linear regression vs scikit-learn", "R2 0.52 vs 0.47", "same R2 as the closed form to 1e-3",
     "linear_regression", lambda m: f"R2 {m['sgd_r2']:.4f} vs {m['sklearn_r2']:.4f} "
                                    f"(difference {abs(m['sgd_r2'] - m['sklearn_r2']):.1e})"),
    ("Linear classifier, two blobs", "-", "1.0", "linear_classifier", lambda m: f"test acc {_f(m['test_acc'])}"),
    ("XOR, 1 layer vs 2 layers", "0.511 vs 1.0", "same contrast", "xor",
     lambda m: f"test acc {_f(m['linear_test_acc'])} vs {_f(m['two_layer_test_acc'])}"),
    ("Four Gaussians", "0.996", ">= 0.99", "four_gaussians", lambda m: f"test acc {_f(m['test_acc'])}"),
    ("Checkerboard, grid search", "best 0.782", ">= 0.95", "checkerboard",
     lambda m: f"test acc {_f(m['test_acc'])} (best of the grid)"),
    ("USPS MLP", "train 0.919 / test 0.892", "test >= 0.94", "usps_mlp",
     lambda m: f"train {_f(m['train_acc'])} / test {_f(m['test_acc'])}"),
    ("USPS autoencoder", "-", "reconstructions, test MSE", "usps_autoencoder",
     lambda m: f"test MSE {m['test_mse']:.4f} ({m['latent_dim']}-d code)"),
    ("k-means, raw pixels vs latent code", "silhouette 0.094 vs 0.398", "purity and NMI on both, latent better",
     "usps_autoencoder",
     lambda m: f"purity {_f(m['kmeans_raw_purity'])} vs {_f(m['kmeans_latent_purity'])}, "
               f"NMI {_f(m['kmeans_raw_nmi'])} vs {_f(m['kmeans_latent_nmi'])}, "
               f"silhouette {_f(m['kmeans_raw_silhouette'])} vs {_f(m['kmeans_latent_silhouette'])}"),
    ("t-SNE of the latent code", "-", "plotted", "usps_autoencoder", lambda m: "plotted"),
    ("Classifier on the frozen latent code", "test 0.634", ">= 0.90", "usps_autoencoder",
     lambda m: f"test acc {_f(m['clf_test_acc'])}"),
    ("Conv1d on USPS rows", "0.548", ">= 0.95", "usps_conv1d", lambda m: f"test acc {_f(m['test_acc'])}"),
    ("Conv2d CNN on USPS", "0.505", ">= 0.97", "usps_cnn", lambda m: f"test acc {_f(m['test_acc'])}"),
    ("LSTM on USPS rows (not in the original project)", "-", ">= 0.95", "usps_lstm",
     lambda m: f"test acc {_f(m['test_acc'])}"),
    ("Transformer on USPS rows (not in the original project)", "-", ">= 0.95", "usps_transformer",
     lambda m: f"test acc {_f(m['test_acc'])}"),
    ("Demo: CNN on scikit-learn digits", "-", ">= 0.97", "demo",
     lambda m: f"train {m['train_acc']:.3f} / test {m['test_acc']:.3f}"),
]


class _Tee(io.StringIO):
    """Keeps what is printed and still shows it."""

    def __init__(self):
        super().__init__()
        self.echo = sys.stdout

    def write(self, s):
        self.echo.write(s)
        return super().write(s)


def run_one(name: str, out: str, quick: bool) -> dict:
    """Import ``examples/<name>.py``, call its main, and return metrics, printed lines, figures and time."""
    if not (EXAMPLES / f"{name}.py").exists():
        return {"status": "missing", "lines": [], "figures": [], "seconds": 0.0, "metrics": {}}
    buffer = _Tee()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(buffer):
            result = importlib.import_module(name).main(["--out", out] + (["--quick"] if quick else []))
        status = "ok"
    except Exception:  # keep going: one broken example should not hide the others' results
        traceback.print_exc()
        result, status = {}, "failed"
    seconds = time.perf_counter() - start
    printed = buffer.getvalue().splitlines()
    return {"status": status, "seconds": seconds,
            "metrics": result if isinstance(result, dict) else {"result": result},
            "lines": [line for line in printed if line.startswith(name)],
            "figures": [line.removeprefix("saved ").strip() for line in printed if line.startswith("saved ")]}


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [f"CPU: {cpu}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} "
            f"cores usable, load average at the start {load} (1 / 5 / 15 min)",
            f"BLAS threads: {torch.get_num_threads()}",
            f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.system()} {platform.release()}",
            f"Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}"]


def write_results(path: Path, runs: dict, info: list[str], quick: bool, total: float) -> None:
    docs = REPO / "docs"

    def link(text: str, target: Path) -> str:
        """A relative Markdown link when both this page and the target are in docs/, else plain text."""
        if docs in path.resolve().parents and docs in target.resolve().parents and target.exists():
            return f"[{text}]({os.path.relpath(target.resolve(), path.resolve().parent).replace(os.sep, '/')})"
        return f"`{text}`"

    def tutorial(name):
        return link(f"{name}.py", docs / "tutorials" / f"{name}.md")

    lines = ["# Results", "",
             "Every number below was measured by `python examples/reproduce.py`, which runs each example at its "
             "full settings" + (" (**here with `--quick`: NOT the full settings**)" if quick else "") +
             " and wrote this page. Originals are the numbers of the student project tinygradnn grew out of.", "",
             "Times are wall-clock seconds on the machine described below, which was shared with other jobs "
             "(see its load average), so they are upper bounds. BLAS uses `--threads` threads (default 1): these "
             "matrices are small, and on a busy machine a multi-threaded BLAS can be many times slower.", "",
             "| Experiment | Original | Target | Measured | Script (tutorial) |", "|---|---|---|---|---|"]
    for experiment, original, target, name, measured in TABLE:
        run = runs.get(name)
        if run is None:
            continue
        try:
            text = measured(run["metrics"]) if run["status"] == "ok" else f"*{run['status']}*"
        except (KeyError, TypeError, ValueError):
            text = "<br>".join(run["lines"]) or "?"
        lines.append(f"| {experiment} | {original} | {target} | {text} | {tutorial(name)} |")

    lines += ["", "## Time per script", "", "| Script | Seconds | Printed result |", "|---|---:|---|"]
    for name, run in runs.items():
        printed = "<br>".join(line.strip().replace("|", "\\|") for line in run["lines"]) or run["status"]
        lines.append(f"| {name} | {run['seconds']:.1f} | {printed} |")
    lines += [f"| **total** | **{total:.1f}** | |", "", "## Machine", ""] + [f"- {x}" for x in info]

    lines += ["", "## Figures", ""]
    for name, run in runs.items():
        if run["figures"]:
            lines.append(f"- {name}: " + ", ".join(link(Path(fig).name, Path(fig)) for fig in run["figures"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "docs" / "figures"), help="folder for the figures")
    p.add_argument("--results", default=str(REPO / "docs" / "results.md"), help="the page to write")
    p.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these scripts")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads: 1 is fastest for these small matrices, and by far on a busy machine")
    p.add_argument("--quick", action="store_true", help="pass --quick to every script (a smoke test)")
    args = p.parse_args(argv)
    with contextlib.suppress(RuntimeError):  # needs threadpoolctl; without it, set OMP_NUM_THREADS yourself
        torch.set_num_threads(args.threads)

    info = machine()
    runs, start = {}, time.perf_counter()
    for name in args.only or SCRIPTS:
        print(f"== {name}", flush=True)
        runs[name] = run_one(name, args.out, args.quick)
        print(f"== {name}: {runs[name]['status']} in {runs[name]['seconds']:.1f} s", flush=True)
    total = time.perf_counter() - start
    write_results(Path(args.results), runs, info, args.quick, total)
    print(f"reproduce: {sum(r['status'] == 'ok' for r in runs.values())}/{len(runs)} scripts ok in {total:.0f} s")
    return runs


if __name__ == "__main__":
    main()
