#!/usr/bin/env python3
"""Fused vs unfused train-step time, measured side by side.

For each model, compiles the program twice with the same dlc (with the
fusion passes, and with --no-fusion), then runs the two programs' `bench`
in alternation (fused, unfused, fused, ...) for several rounds, so that a
change in the machine's load hits both alike. Prints each round's median
ms/step, then per model the median over rounds and the ratio unfused/fused
(above 1: the fused program is faster), and how many rounds the fused one
won.

This is a benchmark, not a test: it never fails on a timing.

usage: bench/fusion_speed.py [--dlc build/bin/dlc] [--rounds 5]
           [--steps 40] [--batch-size 64] [--threads 1] MODEL.dl ...
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

LINE = re.compile(r"^train_step\s+median\s+([0-9.]+) ms/step")


def compile_program(dlc, model, output, batch, fusion):
    command = [dlc, "compile", model, "-o", output, "--max-batch", str(batch)]
    if not fusion:
        command.append("--no-fusion")
    subprocess.run(command, check=True)


def bench(program, args):
    out = subprocess.run(
        [program, "bench", "--steps", str(args.steps), "--batch-size",
         str(args.batch_size), "--threads", str(args.threads)],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        match = LINE.match(line.strip())
        if match:
            return float(match.group(1))
    raise RuntimeError(program + " bench printed no train_step line:\n" + out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dlc", default="build/bin/dlc")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        summary = []
        for model in args.models:
            name = os.path.splitext(os.path.basename(model))[0]
            fused = os.path.join(work, name + "-fused")
            unfused = os.path.join(work, name + "-unfused")
            compile_program(args.dlc, model, fused, args.batch_size, True)
            compile_program(args.dlc, model, unfused, args.batch_size, False)
            times = {"fused": [], "unfused": []}
            for r in range(args.rounds):
                times["fused"].append(bench(fused, args))
                times["unfused"].append(bench(unfused, args))
                print(f"{name} round {r + 1}: fused "
                      f"{times['fused'][-1]:.2f} ms/step, unfused "
                      f"{times['unfused'][-1]:.2f} ms/step", flush=True)
            f = statistics.median(times["fused"])
            u = statistics.median(times["unfused"])
            wins = sum(a < b for a, b in zip(times["fused"], times["unfused"]))
            summary.append((name, f, u, wins))
        print(f"\nbatch {args.batch_size}, {args.threads} thread(s), "
              f"{args.rounds} rounds of {args.steps} steps; median of the "
              f"rounds' medians")
        print(f"{'model':<16} {'fused ms':>9} {'unfused ms':>11} "
              f"{'unfused/fused':>14} {'fused won':>10}")
        for name, f, u, wins in summary:
            print(f"{name:<16} {f:9.2f} {u:11.2f} {u / f:14.3f} "
                  f"{wins:>4}/{args.rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
