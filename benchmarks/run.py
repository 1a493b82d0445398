#!/usr/bin/env python
"""Benchmark tinygradnn against PyTorch (CPU) and a hand-written NumPy reference.

Usage (from the repository root)::

    python benchmarks/run.py                         # every workload, every framework present
    python benchmarks/run.py --quick                 # small sizes, under a minute
    python benchmarks/run.py --only mlp,cnn --frameworks numpy,torch --json results.json

Each (framework, workload) pair runs in its own worker process (this script with ``--worker``),
with the same data and initial weights (NumPy arrays from one seed), the same thread count set
through the environment, threadpoolctl and ``torch.set_num_threads``, warm-up runs first, then
repeats interleaved across frameworks. Every repeat starts again from the initial weights, so
every framework must end at the same loss; the harness checks it. The markdown report goes to
stdout, progress to stderr.

A worker can be driven by hand: it reads ``warmup``, ``run`` or ``quit`` lines on stdin and
answers one JSON line per command, e.g.
``echo run | python benchmarks/run.py --worker torch mlp --quick``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc

from bench_common import (
    DEFAULT_DATA,
    REPO_ROOT,
    WORKLOADS,
    inputs_digest,
    loss_rtol,
    make_inputs,
    unit_of,
    workload_config,
)

FRAMEWORKS = ("numpy", "torch", "tinygradnn")
MEMORY_WORKLOADS = ("mlp", "cnn", "conv1d", "autoencoder")
LABELS = {"numpy": "numpy ref", "torch": "torch", "tinygradnn": "tinygradnn"}
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
              "NUMEXPR_NUM_THREADS")
UNIT_SCALE = {"ms": 1e3, "us": 1e6}

WORKLOAD_NOTES = {
    "mlp": "MLP 256-128-64-10 (Tanh), cross-entropy, SGD lr 0.05, batch 64, USPS",
    "cnn": "Conv2d(1,16,3,p1)-ReLU-MaxPool2-Conv2d(16,32,3,p1)-ReLU-MaxPool2-Linear(512,100)-ReLU-"
           "Linear(100,10), SGD lr 0.05, batch 64, USPS as 16x16",
    "conv1d": "Conv1d(1,32,3)-ReLU-MaxPool1d(2)-Linear(4064,100)-ReLU-Linear(100,10), SGD lr 0.05, "
              "batch 64, USPS rows as 256-long signals",
    "overhead": "chain of 1000 elementwise ops (x*1.0001, x+0.001, tanh) on a 4x4 tensor, then backward",
    "matmul": "512x512 float32 A@B forward and backward (dA = G@B.T, dB = A.T@G)",
    "autoencoder": "Linear-Tanh 256-64-16-64-256, Sigmoid output, MSE, Adam lr 1e-3, batch 64, USPS",
    "micrograd": "2-16-16-1 tanh MLP on 0-d tensors (one per weight), squared error over the points, "
                 "backward, SGD",
}


# ---------------------------------------------------------------------------------------------
# Worker side
# ---------------------------------------------------------------------------------------------

_THREAD_LIMITS = None


def thread_pools() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"api": p.get("internal_api"), "version": p.get("version"), "threads": p.get("num_threads"),
             "arch": p.get("architecture"), "lib": os.path.basename(p.get("filepath", ""))}
            for p in threadpool_info()]


def load_framework(framework: str, threads: int):
    """Import one framework, pin its threads; returns (run function, info dict)."""
    import numpy as np

    info = {"numpy": np.__version__, "python": platform.python_version()}
    if framework == "numpy":
        import reference_numpy

        run = reference_numpy.run
        info["version"] = np.__version__
    elif framework in ("torch", "tinygradnn"):
        import framework_workloads

        if framework == "torch":
            import torch as fw

            fw.set_num_threads(threads)
            fw.optim.SGD([fw.zeros(1, requires_grad=True)], lr=0.1)  # pays torch's ~2 s lazy imports now
            info["torch_threads"] = fw.get_num_threads()
            build = [line for line in fw.__config__.show().split(",") if "BLAS_INFO" in line]
            info["torch_blas"] = build[0].split("=")[-1].strip() if build else "unknown"
        else:
            sys.path.insert(0, REPO_ROOT)  # benchmark the working tree
            import tinygradnn as fw

        info["version"] = getattr(fw, "__version__", "unknown")

        def run(workload, inputs, cfg, warmup=False):
            return framework_workloads.run(fw, workload, inputs, cfg, warmup)
    else:
        raise ValueError(f"unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}")

    try:
        from threadpoolctl import threadpool_limits

        global _THREAD_LIMITS
        _THREAD_LIMITS = threadpool_limits(limits=threads)  # in force for the rest of the process
    except ImportError:
        info["threadpoolctl"] = "not installed; threads set through the environment only"
    info["thread_pools"] = thread_pools()
    return run, info


def _gc_setting(threshold) -> str:
    return f"gc.set_threshold({threshold}, 20, 20) in every worker" if threshold else "Python's defaults"


MALLOC_MODES = {
    # How each worker's C allocator is set up. tinygradnn tunes glibc at import (see
    # tinygradnn/_allocator.py); "tuned" gives every framework the same settings through glibc's
    # environment variables, "untuned" none of them.
    "as-shipped": {},
    "tuned": {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)},
    "untuned": {"TINYGRADNN_MALLOC_TUNING": "0"},
}
MALLOC_DESCRIPTIONS = {
    "as-shipped": "as each framework ships (tinygradnn keeps freed memory in the heap, the others use "
                  "glibc's defaults)",
    "tuned": "every worker keeps freed memory in the heap (MALLOC_MMAP_THRESHOLD_=32 MB, "
             "MALLOC_TRIM_THRESHOLD_=128 MB)",
    "untuned": "glibc's defaults in every worker (TINYGRADNN_MALLOC_TUNING=0)",
}


def worker_main(args) -> int:
    framework, workload = args.worker
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed (even from C) goes to stderr, not into the protocol

    def send(message):
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    def failure(exc):
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}

    try:
        if args.gc_threshold:  # the same garbage-collector setting in every framework's worker
            gc.set_threshold(args.gc_threshold, 20, 20)
        run, info = load_framework(framework, args.threads)
        cfg = workload_config(workload, args.quick, args.batches)
        inputs = make_inputs(workload, cfg, args.data, args.seed)
        send({"ok": True, "info": info, "digest": inputs_digest(inputs), "data": inputs["data"]})
    except Exception as exc:
        send(failure(exc))
        return 0

    for line in sys.stdin:
        command = line.strip()
        if command not in ("run", "warmup", "memory"):
            break
        try:
            if command == "memory":  # one untimed run under tracemalloc: its peak (NumPy reports to it)
                tracemalloc.start()
                run(workload, inputs, cfg, warmup=False)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                send({"ok": True, "peak_bytes": peak})
                continue
            send({"ok": True, **run(workload, inputs, cfg, warmup=command == "warmup")})
        except Exception as exc:
            send(failure(exc))
    protocol.close()
    os._exit(0)  # skip interpreter teardown (about a second for torch)


# ---------------------------------------------------------------------------------------------
# Harness side
# ---------------------------------------------------------------------------------------------


class WorkerFailure(Exception):
    pass


class Worker:
    """One worker process, driven one JSON line at a time over pipes."""

    def __init__(self, framework: str, workload: str, args):
        self.framework = framework
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, workload,
               "--threads", str(args.threads), "--seed", str(args.seed), "--data", args.data]
        if args.quick:
            cmd.append("--quick")
        if args.batches is not None:
            cmd += ["--batches", str(args.batches)]
        if args.gc_threshold:
            cmd += ["--gc-threshold", str(args.gc_threshold)]
        env = dict(os.environ, **{name: str(args.threads) for name in THREAD_ENV}, **MALLOC_MODES[args.malloc])
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=env, cwd=REPO_ROOT, bufsize=0)
        self.buffer = b""
        self._hello = None

    def hello(self, timeout: float) -> dict:
        """The worker's first message: its versions and thread pools, or why it could not start."""
        if self._hello is None:
            try:
                self._hello = self.read(timeout)
            except WorkerFailure as exc:
                self._hello = {"ok": False, "error": str(exc)}
        return self._hello

    def stderr_tail(self, chars: int = 2000) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-chars:].strip()

    def read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.proc.kill()
                raise WorkerFailure(f"timeout after {timeout:g} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    code = self.proc.wait()
                    raise WorkerFailure(f"worker died (exit code {code}): {self.stderr_tail(500)}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def request(self, command: str, timeout: float) -> dict:
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerFailure(f"worker died (exit code {self.proc.poll()}): {self.stderr_tail(500)}") from exc
        return self.read(timeout)

    def close(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def bench_workload(workload: str, workers: dict[str, Worker], args) -> dict:
    """Warm up, then time the workload's workers in turn; closes them at the end."""
    cfg = workload_config(workload, args.quick, args.batches)
    unit = unit_of(workload, cfg)
    scale = UNIT_SCALE[unit.split()[0]]
    results = {fw: {"status": "ok", "times": [], "checks": [], "train_losses": []} for fw in workers}
    alive = []

    def fail(fw, reason):
        results[fw]["status"] = reason
        print(f"[{workload}] {fw}: {one_line(reason)}", file=sys.stderr)
        if fw in alive:
            alive.remove(fw)

    def ask(fw, command):
        """The worker's answer, or None once it has failed or has nothing to time (n/a)."""
        time.sleep(args.pause)  # let the previous worker's BLAS/OpenMP threads stop spinning
        try:
            answer = workers[fw].request(command, args.timeout)
        except WorkerFailure as exc:
            fail(fw, str(exc))
            return None
        if not answer["ok"]:
            results[fw]["traceback"] = answer.get("traceback")
            fail(fw, f"unavailable: {answer['error']}")
            return None
        if answer.get("seconds") is None:  # nothing to time; its check value still counts
            results[fw]["checks"].append(answer["check"])
            results[fw]["status"] = answer.get("status", "n/a")
            alive.remove(fw)
            return None
        return answer

    try:
        for fw, worker in workers.items():
            hello = worker.hello(args.timeout + 60)
            if not hello["ok"]:
                results[fw]["traceback"] = hello.get("traceback")
                fail(fw, f"unavailable: {hello['error']}")
                continue
            results[fw].update(info=hello["info"], digest=hello["digest"], data=hello["data"])
            alive.append(fw)

        for fw in list(alive):
            for _ in range(args.warmup):
                if ask(fw, "warmup") is None:
                    break

        for repeat in range(args.repeats):
            order = alive[repeat % len(alive):] + alive[:repeat % len(alive)] if alive else []
            for fw in order:
                answer = ask(fw, "run")
                if answer is None:
                    continue
                per_unit = answer["seconds"] / answer["units"] * scale
                results[fw]["times"].append(per_unit)
                results[fw]["checks"].append(answer["check"])
                if "train_loss" in answer:
                    results[fw]["train_losses"].append(answer["train_loss"])
                print(f"[{workload}] {fw}: repeat {repeat + 1}/{args.repeats}: {per_unit:.4g} {unit}",
                      file=sys.stderr)
        if workload in MEMORY_WORKLOADS:  # tracemalloc sees NumPy's buffers, not PyTorch's allocator
            for fw in [fw for fw in alive if fw != "torch"]:
                try:
                    answer = workers[fw].request("memory", args.timeout)
                except WorkerFailure as exc:
                    answer = {"ok": False, "error": str(exc)}
                if answer["ok"]:
                    results[fw]["peak_mb"] = answer["peak_bytes"] / 2**20
                else:
                    print(f"[{workload}] {fw}: memory run failed: {one_line(answer['error'])}", file=sys.stderr)
    finally:
        for worker in workers.values():
            worker.close()

    return summarize(workload, cfg, unit, results)


def summarize(workload: str, cfg: dict, unit: str, results: dict) -> dict:
    rtol = loss_rtol(workload)
    for res in results.values():
        times = res["times"]
        if times and res["status"] == "ok":
            res.update(median=statistics.median(times), min=min(times), max=max(times))
        if res["checks"]:
            res["loss"] = res["checks"][-1]
            spread = (max(res["checks"]) - min(res["checks"])) / max(abs(res["loss"]), 1e-12)
            res["loss_stable_across_repeats"] = spread <= rtol
        if res["train_losses"]:
            res["train_loss"] = res["train_losses"][-1]

    for baseline in ("torch", "numpy"):
        base = results.get(baseline, {}).get("median")
        for res in results.values():
            if base is not None and res.get("median"):
                res[f"speed_vs_{baseline}"] = base / res["median"]  # > 1: faster than the baseline

    with_loss = [fw for fw in FRAMEWORKS if fw in results and "loss" in results[fw]]
    reference = with_loss[0] if with_loss else None
    match = None
    if len(with_loss) >= 2:
        match = True
        ref_loss = results[reference]["loss"]
        for fw in with_loss:
            rel = abs(results[fw]["loss"] - ref_loss) / max(abs(ref_loss), 1e-12)
            ok = rel <= rtol and results[fw]["loss_stable_across_repeats"]
            results[fw].update(loss_rel_diff=rel, loss_ok=ok)
            match = match and ok
    digests = {res["digest"] for res in results.values() if "digest" in res}
    return {"workload": workload, "description": WORKLOAD_NOTES[workload], "unit": unit, "config": cfg,
            "loss_reference": reference, "loss_rtol": rtol, "losses_match": match,
            "inputs_identical": len(digests) <= 1, "frameworks": results}


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def machine_info(rows: list[dict]) -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    frameworks = {}
    for row in rows:
        for fw, res in row["frameworks"].items():
            if "info" in res and fw not in frameworks:
                frameworks[fw] = res["info"]
    data = next((res["data"] for row in rows for res in row["frameworks"].values() if "USPS" in
                 res.get("data", "")), "seeded random arrays only")
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "usable_cpus": usable,
            "platform": platform.platform(), "python": platform.python_version(),
            "frameworks": frameworks, "data": data}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    for bound, spec in ((100, ".0f"), (10, ".1f"), (1, ".2f")):
        if abs(value) >= bound:
            return format(value, spec)
    return format(value, ".3g")


def describe_pool(pool: dict) -> str:
    """'openblas 0.3.31 (libscipy_openblas64_.so, 2 threads, Haswell)' from threadpoolctl's info."""
    name = " ".join(str(part) for part in (pool["api"], pool["version"]) if part)
    details = [pool["lib"], f"{pool['threads']} threads"] + ([pool["arch"]] if pool.get("arch") else [])
    return f"{name} ({', '.join(details)})"


def markdown(report: dict) -> str:
    machine, settings = report["machine"], report["settings"]
    lines = ["# tinygradnn benchmarks", "", "## Machine", "",
             f"- CPU: {machine['cpu']} ({machine['logical_cpus']} logical CPUs, "
             f"{machine['usable_cpus']} usable)",
             f"- OS: {machine['platform']}; Python {machine['python']}"]
    for fw, info in machine["frameworks"].items():
        pools = "; ".join(describe_pool(p) for p in info.get("thread_pools", []))
        if fw == "numpy":
            what = f"NumPy {info['numpy']}"
        else:
            what = f"{fw} {info.get('version')} with NumPy {info['numpy']}"
        if fw == "torch":
            what += f", BLAS_INFO={info['torch_blas']}, torch.get_num_threads() = {info['torch_threads']}"
        lines.append(f"- {LABELS[fw]} worker: {what}; thread pools: {pools or 'threadpoolctl not installed'}")
    lines += [
        *([f"- Skipped: {', '.join(settings['skipped'])}"] if settings["skipped"] else []),
        f"- Threads: {settings['threads']} per worker ({', '.join(THREAD_ENV[:3])}, threadpoolctl, "
        "torch.set_num_threads)",
        f"- Garbage collector: {_gc_setting(settings.get('gc_threshold'))}",
        f"- Allocator: {MALLOC_DESCRIPTIONS[settings.get('malloc', 'as-shipped')]}",
        f"- Run: {'quick' if settings['quick'] else 'full'}; {settings['warmup']} warm-up run(s), "
        f"then median of {settings['repeats']} repeats interleaved across frameworks; seed {settings['seed']}",
        f"- Data: {machine['data']}",
        f"- Load average (1, 5, 15 min) before: {settings['load_average_before']}, after: "
        f"{settings['load_average_after']}; the whole run took {settings['seconds']} s",
        "", "## Results", "",
        "Median over repeats and the min–max spread. `vs torch` and `vs numpy ref` are throughput ratios "
        "(the other's time divided by this row's time): above 1 means this row is faster. `final loss` is "
        "the loss on the first 512 training samples after the timed run (for overhead and matmul, a "
        "checksum of the gradients); it must agree across frameworks.",
        "",
        "| workload | framework | median | min–max | unit | vs torch | vs numpy ref | final loss | check |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    notes = []
    for row in report["results"]:
        for fw, res in row["frameworks"].items():
            if res["status"] != "ok" or "median" not in res:
                status = one_line(res["status"], 90).replace("|", "\\|")
                loss = fmt_loss(res.get("loss"))
                lines.append(f"| {row['workload']} | {LABELS[fw]} | {status} | | {row['unit']} | | | {loss} "
                             f"| {check_cell(row, res)} |")
                if res["status"].startswith(("unavailable", "worker died", "timeout")):
                    notes.append(f"- {row['workload']} / {LABELS[fw]}: {one_line(res['status'], 400)}")
                continue
            speed = [f"{res[key]:.2f}×" if key in res else "" for key in ("speed_vs_torch", "speed_vs_numpy")]
            lines.append(f"| {row['workload']} | {LABELS[fw]} | {fmt(res['median'])} | "
                         f"{fmt(res['min'])}–{fmt(res['max'])} | {row['unit']} | {speed[0]} | {speed[1]} | "
                         f"{fmt_loss(res.get('loss'))} | {check_cell(row, res)} |")
    lines += ["", "Loss check: relative difference to the first framework listed with a loss, tolerance "
              "1e-3 (cnn 1e-2: max-pool near-ties drift apart in float32 over an epoch).", ""]
    if notes:
        lines += ["Problems:", "", *notes, ""]
    memory = [(row["workload"], row["frameworks"]) for row in report["results"]
              if any("peak_mb" in res for res in row["frameworks"].values())]
    if memory:
        lines += ["## Peak memory", "", "Peak of `tracemalloc` over one untimed training run (NumPy reports its "
                  "buffers to tracemalloc; PyTorch's allocator does not, so it has no row).", "",
                  "| workload | numpy ref | tinygradnn | ratio |", "|---|---:|---:|---:|"]
        for workload, res in memory:
            ref, ours = res.get("numpy", {}).get("peak_mb"), res.get("tinygradnn", {}).get("peak_mb")
            ratio = f"{ours / ref:.2f}×" if ref and ours else ""
            lines.append(f"| {workload} | {_mb(ref)} | {_mb(ours)} | {ratio} |")
        lines.append("")
    lines += ["## Workloads", ""]
    for row in report["results"]:
        lines.append(f"- **{row['workload']}**: {row['description']}; settings {json.dumps(row['config'])}")
    return "\n".join(lines) + "\n"


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} MB"


def fmt_loss(loss: float | None) -> str:
    return "" if loss is None else f"{loss:.6g}"


def check_cell(row: dict, res: dict) -> str:
    if "loss_ok" not in res:
        return ""
    if res is row["frameworks"][row["loss_reference"]]:
        return "reference"
    verdict = "ok" if res["loss_ok"] else "**MISMATCH**"
    return f"{verdict} ({res['loss_rel_diff']:.1e})"


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def parse_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return [item for item in allowed if item in items]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (under a minute)")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="workloads, comma-separated")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="frameworks, comma-separated")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--data", default=DEFAULT_DATA, help="USPS .npz (random data of its shape if absent)")
    parser.add_argument("--repeats", type=int, help="timed repeats per framework (default 5, quick 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs per framework")
    parser.add_argument("--batches", type=int, help="training workloads: batches per run instead of an epoch")
    parser.add_argument("--threads", type=int, default=2, help="threads per framework (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gc-threshold", type=int, default=0,
                        help="gc.set_threshold(N, 20, 20) in every worker (default: Python's own): graphs of "
                             "thousands of scalar tensors spend much of their time in the garbage collector")
    parser.add_argument("--malloc", choices=sorted(MALLOC_MODES), default="as-shipped",
                        help="glibc allocator settings per worker: as each framework ships (default), "
                             "tinygradnn's settings in every worker, or glibc's defaults in every worker")
    parser.add_argument("--timeout", type=float, help="seconds allowed per worker command "
                        "(default 600, quick 30)")
    parser.add_argument("--pause", type=float, help="seconds to wait before each worker command, so "
                        "that idle BLAS threads of the previous one stop spinning (default 0.3, quick 0.05)")
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.timeout is None:
        args.timeout = 30.0 if args.quick else 600.0
    if args.pause is None:
        args.pause = 0.05 if args.quick else 0.3
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args)
    workloads = parse_list(args.only, WORKLOADS, "workload")
    frameworks = parse_list(args.frameworks, FRAMEWORKS, "framework")
    skipped = []
    if "torch" in frameworks and importlib.util.find_spec("torch") is None:
        frameworks.remove("torch")
        skipped.append("torch (not installed)")
        print("torch is not installed: skipping it", file=sys.stderr)
    start = time.perf_counter()
    load_before = load_average()
    if args.quick:
        # Start every worker at once and wait until all have started, so that their imports share
        # both cores; idle workers then wait on stdin and take no CPU from the one being timed.
        workers = {workload: {fw: Worker(fw, workload, args) for fw in frameworks} for workload in workloads}
        for group in workers.values():
            for worker in group.values():
                worker.hello(args.timeout + 60)
        rows = [bench_workload(workload, workers[workload], args) for workload in workloads]
    else:
        rows = [bench_workload(workload, {fw: Worker(fw, workload, args) for fw in frameworks}, args)
                for workload in workloads]
    settings = {"quick": args.quick, "gc_threshold": args.gc_threshold, "malloc": args.malloc,
                "threads": args.threads, "repeats": args.repeats, "warmup": args.warmup,
                "seed": args.seed, "batches": args.batches, "frameworks": frameworks, "skipped": skipped,
                "pause": args.pause,
                "seconds": round(time.perf_counter() - start, 1),
                "load_average_before": load_before, "load_average_after": load_average()}
    report = {"machine": machine_info(rows), "settings": settings, "results": rows}
    print(markdown(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    mismatched = [row["workload"] for row in rows if row["losses_match"] is False or not row["inputs_identical"]]
    if mismatched:
        print(f"loss check failed for: {', '.join(mismatched)}", file=sys.stderr)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
