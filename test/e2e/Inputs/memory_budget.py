"""Trains a model keeping every activation (--keep-activations) and with
the default recomputation of cheap ones plus --memory-budget, and checks
that recomputation changes the memory, not the results:
  1. the arena with --keep-activations (K), by default (U: cheap forward
     results recomputed, U < K) and the least any budget allows (M, from
     the error of an impossible budget of 1 byte);
  2. a budget B halfway between U and M, below U: the plan under it has an
     arena <= B;
  3. the kept and the budget programs train EPOCHS epochs on DATA (same
     seed, one thread): the same per-epoch losses and the same final
     weights, bit for bit.
Prints one line per check.
Usage: memory_budget.py DIR MODEL.dl DATA BATCH EPOCHS"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(args, cwd, expect=0):
    result = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != expect:
        print("FAIL: %s exited %d:\n%s" % (" ".join(args), result.returncode,
                                           result.stdout[-2000:]))
        sys.exit(1)
    return result.stdout


def arena(plan):
    match = re.search(r"^summary: arena (\d+) bytes", plan, re.M)
    if not match:
        print("FAIL: no summary line in the plan")
        sys.exit(1)
    return int(match.group(1))


def epoch_losses(log):
    """The loss and metrics of each epoch's last progress line."""
    lines = re.split(r"[\r\n]", log)
    return [re.sub(r".* - \d+s \d+m?s/step - ", "", line)
            for line in lines if re.match(r"^\d+/\d+ \[=+\]", line)] + \
        [line for line in lines if line.startswith("test loss")]


def main():
    work, source, data, batch, epochs = sys.argv[1:6]
    compile_flags = ["--max-batch", batch]
    kept = arena(run(["dlc", "compile", source, "--emit=plan",
                      "--keep-activations"] + compile_flags, work))
    unconstrained = arena(run(["dlc", "compile", source, "--emit=plan"] +
                              compile_flags, work))
    error = run(["dlc", "compile", source, "--emit=plan", "--memory-budget",
                 "1"] + compile_flags, work, expect=1)
    match = re.search(r"the least this program needs is (\d+) bytes", error)
    if not match:
        print("FAIL: no minimum in: " + error)
        sys.exit(1)
    least = int(match.group(1))
    budget = (unconstrained + least) // 2
    plan = run(["dlc", "compile", source, "--emit=plan", "--memory-budget",
                str(budget)] + compile_flags, work)
    constrained = arena(plan)
    print("kept arena %d bytes, default arena %d bytes (%s)" %
          (kept, unconstrained,
           "smaller" if unconstrained < kept else "NOT SMALLER"))
    print("unconstrained arena %d bytes, least %d bytes, budget %d bytes" %
          (unconstrained, least, budget))
    print("arena under the budget: %d bytes (%s)" %
          (constrained, "fits" if constrained <= budget else "OVER BUDGET"))
    note = re.search(r"^memory budget: .*$", plan, re.M)
    print(note.group(0) if note else "FAIL: no memory budget line")

    logs, weights = {}, {}
    for variant, flags in (("free", ["--keep-activations"]),
                           ("budget", ["--memory-budget", str(budget)])):
        program = os.path.join(work, variant)
        run(["dlc", "compile", source, "-o", program] + compile_flags + flags,
            work)
        checkpoints = os.path.join(work, "ckpt_" + variant)
        logs[variant] = epoch_losses(run(
            [program, "train", "--data", data, "--epochs", epochs,
             "--batch-size", batch, "--threads", "1", "--seed", "3",
             "--checkpoint-dir", checkpoints], work))
        weights[variant] = os.path.join(checkpoints, "final.safetensors")
    for line in logs["free"]:
        print("kept:        " + line)
    for line in logs["budget"]:
        print("with budget: " + line)
    same = logs["free"] == logs["budget"] and len(logs["free"]) > int(epochs)
    print("losses: %s" % ("identical" if same else "DIFFERENT"))
    out = subprocess.run([sys.executable, os.path.join(HERE, "compare_runs.py"),
                          "weights", weights["free"], weights["budget"], "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    print("weights: " + " ".join(out.stdout.split()))


main()
