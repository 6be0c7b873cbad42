#!/usr/bin/env python3
"""dlc against PyTorch and JAX/XLA on the CPU, the same models measured side by side.

Compiles each bench model (bench/models/*.dl) once with `dlc compile
--max-batch 256`, then for each model, in one run and one framework after
another (never two at once), times:
  - dlc:     `prog bench` train step at batch 64 and 256, predict at 256;
  - PyTorch: bench/reference_torch.py, train step at 64 and 256, eval-mode
             inference under torch.no_grad() at 256;
  - JAX:     bench/reference_jax.py, jitted train step at 64 and 256, jitted
             inference at 256.
Each timing is the median of --steps steps after --warmup untimed ones on
synthetic data; with --rounds R the frameworks take turns R times and the
median of the rounds' medians is reported. Every framework is held to
--threads threads: `prog bench --threads`, torch.set_num_threads plus
OMP/MKL_NUM_THREADS (and OPENBLAS_NUM_THREADS below the core count: see
thread_environment), and for XLA the NPROC variable its CPU client
sizes its thread pool from (XLA_FLAGS=--xla_cpu_multi_thread_eigen=true;
XLA has no intra-op thread count flag). OPENBLAS_CORETYPE is removed from
the references' environment so that OpenBLAS picks its kernels for the
CPU it runs on.

First prints the machine's FP32 reference: torch.mm (OpenBLAS sgemm) at
n=2048 with the same thread count. Then per model and batch: images/s of
dlc, torch and jax, dlc's achieved GFLOP/s (forward FLOPs per example
counted from the model definition: conv 2*OH*OW*KH*KW*Cin*Cout, transposed
conv 2*IH*IW*KH*KW*Cin*Cout, dense 2*in*out, elementwise work ignored;
training counted as 3x forward) and the ratios dlc/torch and dlc/jax.
Last, markdown tables: all the numbers, and the issue's acceptance lines,
each ratio next to its target, marked met or not met.

This is a benchmark, not a test: it never fails on a timing (exit 0 unless
something errors). Run tools/setup-bench.sh first; it makes the venv whose
python runs this script.

usage: build/bench-venv/bin/python bench/frameworks.py [--models m1,m5]
           [--steps 30] [--warmup 5] [--threads 2] [--rounds 1]
           [--dlc build/bin/dlc] [--compile-retries 0]
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

TRAIN_LINE = re.compile(r"^train_step\s+median\s+([0-9.]+) ms/step")
PREDICT_LINE = re.compile(r"^predict\s+median\s+([0-9.]+) ms/step")
TRAIN_BATCHES = (64, 256)
INFER_BATCH = 256
MAX_BATCH = 256


def bench_models():
    """Short name -> (.dl file stem, title) of the issue's bench models."""
    return {
        "m1": ("m1_mlp", "M1 MLP"),
        "m2": ("m2_cnn", "M2 CNN"),
        "m3": ("m3_cnn_bn", "M3 CNN+BN"),
        "m4": ("m4_denoise_ae", "M4 denoising AE"),
        "m5": ("m5_resnet20", "M5 ResNet-20"),
    }


def model_layers(name):
    """The layers of model `name` as the FLOP count sees them: ("conv", k,
    filters, stride), ("conv_t", k, filters, stride), ("pool", size),
    ("dense", units), ("block", filters, stride) (a ResNet basic block),
    ("flatten",), ("global_pool",). Mirrors bench/models/*.dl."""
    if name == "m1":
        return [("flatten",), ("dense", 128), ("dense", 10)]
    if name == "m2":
        return [("conv", 5, 32, 1), ("pool", 2), ("conv", 5, 64, 1),
                ("pool", 2), ("flatten",), ("dense", 1024), ("dense", 10)]
    if name == "m3":
        return [("conv", 3, 32, 1), ("pool", 2), ("conv", 3, 64, 1),
                ("pool", 2), ("flatten",), ("dense", 128), ("dense", 10)]
    if name == "m4":
        return [("conv", 3, 16, 2), ("conv", 3, 8, 2), ("conv_t", 3, 8, 2),
                ("conv_t", 3, 16, 2), ("conv", 3, 1, 1)]
    if name == "m5":
        blocks = [("block", f, 2 if i == 0 and f > 16 else 1)
                  for f in (16, 32, 64) for i in range(3)]
        return ([("conv", 3, 16, 1)] + blocks +
                [("global_pool",), ("dense", 10)])
    raise ValueError("unknown bench model " + name)


def conv_flops(shape, k, filters, stride):
    """(FLOPs, output shape) of a "same" k x k convolution on (h, w, c)."""
    h, w, c = shape
    oh, ow = -(-h // stride), -(-w // stride)
    return 2 * oh * ow * k * k * c * filters, (oh, ow, filters)


def forward_flops(name):
    """Forward FLOPs per example of model `name` on a 28x28x1 image."""
    shape, total = (28, 28, 1), 0
    for layer in model_layers(name):
        kind = layer[0]
        if kind == "conv":
            flops, shape = conv_flops(shape, *layer[1:])
        elif kind == "conv_t":
            _, k, filters, stride = layer
            h, w, c = shape
            flops = 2 * h * w * k * k * c * filters
            shape = (h * stride, w * stride, filters)
        elif kind == "block":
            _, filters, stride = layer
            flops, inner = conv_flops(shape, 3, filters, stride)
            more, _ = conv_flops(inner, 3, filters, 1)
            flops += more
            if stride != 1 or shape[2] != filters:
                more, _ = conv_flops(shape, 1, filters, stride)
                flops += more
            shape = inner
        elif kind == "pool":
            size = layer[1]
            shape = (shape[0] // size, shape[1] // size, shape[2])
            flops = 0
        elif kind == "flatten":
            shape, flops = (shape[0] * shape[1] * shape[2],), 0
        elif kind == "global_pool":
            shape, flops = (shape[2],), 0
        elif kind == "dense":
            flops = 2 * shape[0] * layer[1]
            shape = (layer[1],)
        total += flops
    return total


def thread_environment(threads, framework):
    """The environment of a timed child process: `threads` OpenMP and MKL
    threads, OPENBLAS_CORETYPE removed; for "jax" also NPROC (XLA's CPU
    thread pool) and XLA_FLAGS.

    OPENBLAS_NUM_THREADS (which torch.set_num_threads does not set) is set
    only below the machine's core count: OpenBLAS uses every core when it
    is unset, and setting it to that count made PyTorch's Adam step on M1
    3x slower here (4.4 ms instead of 1.3), which would understate PyTorch."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_NUM_THREADS", None)
    if threads < (os.cpu_count() or threads):
        env["OPENBLAS_NUM_THREADS"] = str(threads)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    if framework == "jax":
        env["NPROC"] = str(threads)
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=true").strip()
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_checked(command, env=None):
    """Runs `command`; its stdout, or a RuntimeError with its output."""
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit "
                           f"{result.returncode}):\n{result.stdout}"
                           f"{result.stderr}")
    return result.stdout


def compile_program(dlc, model, output, retries):
    """`dlc compile model -o output --max-batch 256`, retried `retries` times
    a minute apart (the kernels may be mid-edit); returns the seconds."""
    command = [dlc, "compile", model, "-o", output, "--max-batch",
               str(MAX_BATCH)]
    for attempt in range(retries + 1):
        start = time.perf_counter()
        try:
            run_checked(command)
            return time.perf_counter() - start
        except (RuntimeError, OSError) as error:
            if attempt == retries:
                raise
            print(f"  compile failed, retrying in 60 s:\n{error}",
                  file=sys.stderr, flush=True)
            time.sleep(60)
    raise AssertionError("unreachable")


def time_dlc(program, batch, args):
    """(train ms, predict ms) of `prog bench` at `batch`."""
    out = run_checked(
        [program, "bench", "--steps", str(args.steps), "--warmup",
         str(args.warmup), "--batch-size", str(batch), "--threads",
         str(args.threads)], thread_environment(args.threads, "dlc"))
    train = predict = None
    for line in out.splitlines():
        line = line.strip()
        if TRAIN_LINE.match(line):
            train = float(TRAIN_LINE.match(line).group(1))
        elif PREDICT_LINE.match(line):
            predict = float(PREDICT_LINE.match(line).group(1))
    if train is None or predict is None:
        raise RuntimeError(program + " bench printed no train_step or "
                           "predict line:\n" + out)
    return train, predict


def run_reference(script, framework, extra, args):
    """Runs a reference script; its JSON lines as dicts."""
    command = [sys.executable, script, "--threads", str(args.threads),
               "--steps", str(args.steps), "--warmup", str(args.warmup)]
    out = run_checked(command + extra,
                      thread_environment(args.threads, framework))
    return [json.loads(line) for line in out.splitlines()
            if line.startswith("{")]


def time_model(short, program, here, args, record):
    """One round for model `short`: dlc, then PyTorch, then JAX, one after
    another; appends (framework, mode, batch) -> ms and notes to `record`."""
    def add(framework, mode, batch, ms, note=""):
        """Keeps one median."""
        entry = record.setdefault((framework, mode, batch),
                                  {"ms": [], "notes": set()})
        entry["ms"].append(ms)
        if note:
            entry["notes"].add(note)

    for batch in TRAIN_BATCHES:
        train, predict = time_dlc(program, batch, args)
        add("dlc", "train", batch, train)
        if batch == INFER_BATCH:
            add("dlc", "infer", batch, predict)
    extra = ["--model", short, "--train-batches",
             ",".join(map(str, TRAIN_BATCHES)), "--infer-batches",
             str(INFER_BATCH)]
    for framework in ("torch", "jax"):
        script = os.path.join(here, f"reference_{framework}.py")
        for row in run_reference(script, framework, extra, args):
            add(framework, row["mode"], row["batch"], row["median_ms"],
                row.get("note", ""))


def machine_peak(here, args):
    """The torch.mm sgemm rate at n=2048 with --threads threads (GFLOP/s)."""
    rows = run_reference(os.path.join(here, "reference_torch.py"), "torch",
                         ["--sgemm", "2048"], args)
    return rows[0]["gflops"]


def summarize(record, batch_size):
    """The median over rounds of each timing, as images/s, keyed like
    `record`; plus the notes (torch layouts) joined."""
    rates, notes = {}, {}
    for key, entry in record.items():
        ms = statistics.median(entry["ms"])
        rates[key] = batch_size(key) * 1000.0 / ms
        notes[key] = "/".join(sorted(entry["notes"]))
    return rates, notes


def ratio_text(value):
    """'1.23x'."""
    return f"{value:.2f}x"


def load_text():
    """The 1-minute load average (other work on the machine skews timings)."""
    return f"load average {os.getloadavg()[0]:.2f}"


def print_model(title, flops, rates, notes, peak):
    """The per-batch lines of one model."""
    print(f"\n{title}: {flops / 1e6:.2f} MFLOP/example forward, "
          f"{3 * flops / 1e6:.2f} training; after it {load_text()}")
    for mode, batch in [("train", b) for b in TRAIN_BATCHES] + \
            [("infer", INFER_BATCH)]:
        per_example = flops * (3 if mode == "train" else 1)
        d, t, j = (rates[(f, mode, batch)] for f in ("dlc", "torch", "jax"))
        gflops = d * per_example / 1e9
        layout = notes[("torch", mode, batch)]
        print(f"  {mode:<5} b{batch:<4} dlc {d:10.1f} img/s {gflops:7.1f} "
              f"GFLOP/s ({100 * gflops / peak:4.1f}% of sgemm) | torch "
              f"{t:10.1f} img/s ({layout}) | jax {j:10.1f} img/s | "
              f"dlc/torch {ratio_text(d / t)}  dlc/jax {ratio_text(d / j)}",
              flush=True)


def results_table(summaries):
    """Markdown: images/s of every framework, dlc GFLOP/s and the ratios."""
    lines = ["| model | step | batch | dlc img/s | torch img/s | jax img/s "
             "| dlc GFLOP/s | dlc/torch | dlc/jax |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for title, flops, rates in summaries:
        for mode, batch in [("train", b) for b in TRAIN_BATCHES] + \
                [("infer", INFER_BATCH)]:
            d, t, j = (rates[(f, mode, batch)]
                       for f in ("dlc", "torch", "jax"))
            gflops = d * flops * (3 if mode == "train" else 1) / 1e9
            lines.append(f"| {title} | {mode} | {batch} | {d:.1f} | {t:.1f} "
                         f"| {j:.1f} | {gflops:.1f} | {ratio_text(d / t)} "
                         f"| {ratio_text(d / j)} |")
    return "\n".join(lines)


def acceptance_rows(short, title, flops, rates):
    """(criterion, measured text, target text, met) of the issue's
    acceptance lines that concern model `short`."""
    rows = []
    is_resnet = short == "m5"
    for batch, target in ((64, 1.5 if is_resnet else 2.0),
                          (256, 1.3 if is_resnet else 1.5)):
        r = rates[("dlc", "train", batch)] / rates[("torch", "train", batch)]
        rows.append((f"{title} train b{batch} vs PyTorch", ratio_text(r),
                     f">= {target:.1f}x", r >= target))
    for batch in TRAIN_BATCHES:
        r = rates[("dlc", "train", batch)] / rates[("jax", "train", batch)]
        rows.append((f"{title} train b{batch} vs JAX", ratio_text(r),
                     "> 1.00x", r > 1.0))
    if short in ("m2", "m5"):
        for batch in TRAIN_BATCHES:
            g = rates[("dlc", "train", batch)] * 3 * flops / 1e9
            rows.append((f"{title} train b{batch} GFLOP/s", f"{g:.1f}",
                         ">= 200", g >= 200.0))
    if short == "m3":
        r = rates[("dlc", "infer", INFER_BATCH)] / \
            rates[("torch", "infer", INFER_BATCH)]
        rows.append((f"{title} inference b{INFER_BATCH} vs PyTorch",
                     ratio_text(r), ">= 3.0x", r >= 3.0))
    return rows


def acceptance_table(rows):
    """Markdown: each acceptance line, its measurement, target, met or not."""
    lines = ["| acceptance line | measured | target | result |",
             "|---|---:|---:|---|"]
    for criterion, measured, target, met in rows:
        lines.append(f"| {criterion} | {measured} | {target} | "
                     f"{'met' if met else 'NOT met'} |")
    met = sum(row[3] for row in rows)
    lines.append(f"\n{met} of {len(rows)} acceptance lines met.")
    return "\n".join(lines)


def selected_models(text, parser):
    """'m1,m5' (or file stems like m5_resnet20) -> ['m1', 'm5']."""
    known = bench_models()
    chosen = []
    for item in text.split(","):
        short = item.strip().split("_")[0].lower()
        if short not in known:
            parser.error(f"unknown model {item!r}; expected some of "
                         f"{','.join(known)}")
        if short not in chosen:
            chosen.append(short)
    return chosen


def describe_machine(args):
    """A header line: CPU, cores, threads, and the environment note."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    text = (f"machine: {cpu}, {os.cpu_count()} CPUs; every framework at "
            f"{args.threads} thread(s); {args.steps} timed steps after "
            f"{args.warmup} warm-up, {args.rounds} round(s); {load_text()}")
    if "OPENBLAS_CORETYPE" in os.environ:
        text += (f"\nnote: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
                 " is set here; removed for the timed processes")
    return text


def main():
    """Parses the arguments, compiles, times, prints."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="m1,m2,m3,m4,m5",
                        help="comma-separated subset of m1..m5")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="times each model's frameworks take turns")
    parser.add_argument("--dlc", default="build/bin/dlc")
    parser.add_argument("--compile-retries", type=int, default=0,
                        help="retry a failed dlc compile, a minute apart")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.threads < 1 or \
            args.rounds < 1 or args.compile_retries < 0:
        parser.error("need --steps, --threads, --rounds >= 1 and --warmup, "
                     "--compile-retries >= 0")
    shorts = selected_models(args.models, parser)
    here = os.path.dirname(os.path.abspath(__file__))
    dlc = os.path.abspath(args.dlc)
    started = time.perf_counter()

    print(describe_machine(args), flush=True)
    peak = machine_peak(here, args)
    print(f"FP32 reference: torch.mm (OpenBLAS sgemm) n=2048, "
          f"{args.threads} thread(s): {peak:.1f} GFLOP/s", flush=True)

    summaries, rows = [], []
    with tempfile.TemporaryDirectory(prefix="dlc-bench-") as work:
        programs = {}
        for short in shorts:
            stem, _ = bench_models()[short]
            programs[short] = os.path.join(work, stem)
            seconds = compile_program(
                dlc, os.path.join(here, "models", stem + ".dl"),
                programs[short], args.compile_retries)
            print(f"compiled {stem}.dl in {seconds:.1f} s", flush=True)
        for short in shorts:
            stem, title = bench_models()[short]
            record = {}
            for _ in range(args.rounds):
                time_model(short, programs[short], here, args, record)
            rates, notes = summarize(record, lambda key: key[2])
            flops = forward_flops(short)
            print_model(title, flops, rates, notes, peak)
            summaries.append((title, flops, rates))
            rows += acceptance_rows(short, title, flops, rates)

    print(f"\n## Results ({args.threads} thread(s), images/s; FP32 sgemm "
          f"reference {peak:.1f} GFLOP/s)\n")
    print(results_table(summaries))
    print("\n## Acceptance (issue #5)\n")
    print(acceptance_table(rows))
    print(f"\nbench took {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
