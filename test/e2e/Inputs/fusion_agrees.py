"""For each named spec example: compile it with and without the fusion
passes, train both programs for exactly one step of 64 examples of
Fashion-MNIST (same seed, one thread), and compare their weights after that
step, then their predictions on the same weights (compare_runs.py, 1e-5
relative). One step, because training amplifies rounding differences
(another summation order in a batch statistic) step after step.
Prints one line per check.
Usage: fusion_agrees.py DIR SPEC_EXAMPLES MODEL..."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = "1e-5"
BATCH = 64


def run(args, cwd, log=None):
    result = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if log:
        with open(os.path.join(cwd, log), "w") as f:
            f.write(result.stdout)
    if result.returncode != 0:
        print("FAIL: %s exited %d:\n%s" % (" ".join(args), result.returncode,
                                           result.stdout[-2000:]))
        sys.exit(1)
    return result.stdout


def compare(model, what, a, b):
    out = subprocess.run([sys.executable, os.path.join(HERE, "compare_runs.py"),
                          what, a, b, TOLERANCE], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    print("%s: %s: %s" % (model, what, " ".join(out.stdout.split())))
    if out.returncode != 0:
        sys.exit(1)


def main():
    top, examples, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    for model in models:
        work = os.path.join(top, model)
        os.makedirs(work, exist_ok=True)
        source = os.path.join(examples, model + ".dl")
        # One batch of training examples: a validation split of 0.1 keeps
        # floor(72 * 0.9) = 64 of 72.
        with open(source) as f:
            held_out = "validation" in f.read()
        data = os.path.join(work, "data")
        run([sys.executable, os.path.join(HERE, "make_fashion_subset.py"),
             data, str(72 if held_out else BATCH), str(BATCH)], work)
        images = os.path.join(data, "t10k-images-idx3-ubyte.gz")
        weights = {}
        for variant, flags in (("fused", []), ("unfused", ["--no-fusion"])):
            program = os.path.join(work, variant)
            run(["dlc", "compile", source, "-o", program,
                 "--max-batch", str(BATCH)] + flags, work)
            checkpoints = os.path.join(work, "ckpt_" + variant)
            run([program, "train", "--data", data, "--epochs", "1",
                 "--batch-size", str(BATCH), "--threads", "1", "--seed", "3",
                 "--checkpoint-dir", checkpoints], work, variant + "-train.log")
            weights[variant] = os.path.join(checkpoints, "final.safetensors")
        compare(model, "weights", weights["fused"], weights["unfused"])
        for variant in ("fused", "unfused"):
            out = run([os.path.join(work, variant), "predict", "--json",
                       "--threads", "1", "--top", "3", "--weights",
                       weights["unfused"], images], work)
            with open(os.path.join(work, variant + "-predict.jsonl"), "w") as f:
                f.write(out)
        compare(model, "predict", os.path.join(work, "fused-predict.jsonl"),
                os.path.join(work, "unfused-predict.jsonl"))


main()
