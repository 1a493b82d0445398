#!/usr/bin/env python
"""Where a training step's time goes: tinygradnn and the NumPy reference, phase by phase.

``run.py`` gives one figure per epoch, each framework in its own process. This script answers the
next question, *which part of the step* makes the difference: it trains tinygradnn and the
reference side by side in one process, alternating one step of each (so both see the same load of
a shared machine), and times four phases of every step:

* forward: ``from_numpy``, ``zero_grad`` and the model (the reference: its forward function);
* loss: the loss function (the reference also computes the loss's gradient here; tinygradnn does in
  its backward);
* backward: ``loss.backward()`` (the reference: its backward function);
* step: ``optimizer.step()`` and ``loss.item()``.

Usage (from the repository root)::

    python benchmarks/phases.py --workload conv1d        # one epoch, 5 repeats
    python benchmarks/phases.py --workload mlp --batches 20 --repeats 3

It prints, per phase, the fastest repeat's microseconds per step for both and their difference.
"""

from __future__ import annotations

import argparse
import gc
import time

PHASES = ("forward", "loss", "backward", "step")


def run(workload: str, inputs: dict, cfg: dict, repeats: int) -> tuple[dict, dict, float, float]:
    """Per-phase seconds per step (fastest repeat) of tinygradnn and the reference, and their mean losses."""
    import framework_workloads as fwl
    import reference_numpy as ref

    import tinygradnn as tg

    model = fwl.build_model(tg, workload, inputs["weights"])
    optimizer = fwl.make_optimizer(tg, model.parameters(), cfg)
    loss_fn = fwl.make_loss_fn(tg, workload)
    forward, backward, ref_loss_fn = ref.MODELS[workload]
    params = {key: value.copy() for key, value in inputs["weights"].items()}
    ref_optimizer = {"SGD": ref.SGD, "Adam": ref.Adam}[cfg["optimizer"]](params, cfg["lr"])

    clock, batches = time.perf_counter, inputs["batches"]
    best_tg, best_ref = dict.fromkeys(PHASES, float("inf")), dict.fromkeys(PHASES, float("inf"))
    losses_tg, losses_ref = [], []
    for _ in range(repeats):
        spent_tg, spent_ref = dict.fromkeys(PHASES, 0.0), dict.fromkeys(PHASES, 0.0)
        gc.collect()
        for xb, yb in batches:
            t0 = clock()
            x, y = tg.from_numpy(xb), tg.from_numpy(yb)
            optimizer.zero_grad()
            out = model(x)
            t1 = clock()
            loss = loss_fn(out, y)
            t2 = clock()
            loss.backward()
            t3 = clock()
            optimizer.step()
            losses_tg.append(loss.item())
            t4 = clock()
            for phase, start, end in zip(PHASES, (t0, t1, t2, t3), (t1, t2, t3, t4)):
                spent_tg[phase] += end - start

            t0 = clock()
            out, cache = forward(params, xb)
            t1 = clock()
            value, dout = ref_loss_fn(out, yb)
            t2 = clock()
            grads = backward(params, cache, dout)
            t3 = clock()
            ref_optimizer.step(grads)
            losses_ref.append(value)
            t4 = clock()
            for phase, start, end in zip(PHASES, (t0, t1, t2, t3), (t1, t2, t3, t4)):
                spent_ref[phase] += end - start
        for best, spent in ((best_tg, spent_tg), (best_ref, spent_ref)):
            for phase in PHASES:
                best[phase] = min(best[phase], spent[phase] / len(batches))
    return best_tg, best_ref, sum(losses_tg) / len(losses_tg), sum(losses_ref) / len(losses_ref)


def main(argv=None) -> int:
    from bench_common import TRAINING, loss_rtol, make_inputs, parse_in_process_args, workload_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=TRAINING, default="mlp")
    args = parse_in_process_args(parser, argv, repeats=5)
    cfg = workload_config(args.workload, batches=args.batches)
    inputs = make_inputs(args.workload, cfg, args.data, 0)
    best_tg, best_ref, loss_tg, loss_ref = run(args.workload, inputs, cfg, args.repeats)
    print(f"{args.workload}, {len(inputs['batches'])} steps alternating with the reference's, fastest of "
          f"{args.repeats} repeats, {args.threads} threads; us per step")
    print("| phase | tinygradnn | numpy ref | difference |\n|---|---:|---:|---:|")
    for phase in (*PHASES, "total"):
        ours = sum(best_tg.values()) if phase == "total" else best_tg[phase]
        theirs = sum(best_ref.values()) if phase == "total" else best_ref[phase]
        print(f"| {phase} | {ours * 1e6:.1f} | {theirs * 1e6:.1f} | {(ours - theirs) * 1e6:+.1f} |")
    if abs(loss_tg - loss_ref) > loss_rtol(args.workload) * abs(loss_ref):
        print(f"the mean training losses disagree ({loss_tg} vs {loss_ref}): the two did not do the same work")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
