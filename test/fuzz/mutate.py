#!/usr/bin/env python3
"""Random-mutation robustness check for `dlc`.

Takes .dl files (by default the repository's examples/ and the spec's
examples), applies random mutations to them (line edits, character and token
edits from the language's vocabulary, random bytes including NUL and invalid
UTF-8, truncation, bursts of nested brackets, huge identifiers and numbers)
and runs `dlc` on every mutant: mostly `compile --emit=ir`, sometimes
`summary` or `compile --emit=ast`.

A run passes when dlc exits 0, or exits 1 having printed "error:" (and no
"internal error"). It fails when dlc is killed by a signal, runs past the
timeout, exits with any other status, exits 1 silently, or reports an
internal error (IR that does not verify).

Each case is derived from (seed, case index) alone, so a run is
deterministic for a seed whatever --jobs is. Prints one line per failure and
a final summary line `N passed, M failed`; the exit status is 1 when any
case failed.
"""

import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIRS = [
    os.path.join(REPO, "examples"),
    os.path.join(REPO, "..", "shared", "spec", "examples"),
]

KEYWORDS = ["sequential", "model", "block", "train", "import", "if", "else",
            "return", "true", "false", "and", "or", "not"]
LAYERS = ["dense", "flatten", "reshape", "dropout", "activation", "embedding",
          "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "conv1d",
          "conv2d", "depthwise_conv2d", "separable_conv2d",
          "conv2d_transpose", "upsampling2d", "zero_padding2d", "maxpool2d",
          "avgpool2d", "global_avgpool2d", "global_maxpool2d", "batchnorm",
          "layernorm", "add", "subtract", "multiply", "concat", "abs", "lstm",
          "gru", "channels", "shape", "len", "min", "max"]
KWARGS = ["units", "activation", "use_bias", "filters", "kernel", "strides",
          "padding", "dilation", "groups", "depth_multiplier",
          "output_padding", "pool", "axis", "rate", "shape", "input_dim",
          "output_dim", "return_sequences", "name", "trainable",
          "kernel_init", "momentum", "epsilon", "alpha", "size", "pad"]
WORDS = ["relu", "sigmoid", "softmax", "same", "valid", "causal", "linear",
         "he_normal", "zeros", "label", "input", "accuracy", "horizontal",
         "auto", "f32", "f64", "i32", "f16", "x", "h", "image", "left"]
TRAIN = ["data", "validation", "loss", "loss_weights", "optimizer",
         "schedule", "batch_size", "epochs", "metrics", "seed", "init",
         "regularizer", "clip_norm", "augment", "target", "input_noise",
         "callbacks", "idx", "csv", "npy", "pairs", "mse", "mae",
         "binary_crossentropy", "categorical_crossentropy",
         "sparse_categorical_crossentropy", "sgd", "adam", "adamw", "rmsprop",
         "cosine_decay", "step_decay", "exponential_decay", "l2",
         "gaussian_noise", "random_flip", "early_stopping", "checkpoint",
         "load", "from_logits", "lr"]
NUMBERS = ["0", "1", "2", "3", "-1", "-2", "0.5", "1e-3", "-0", "0.0",
           "65536", "65537", "2147483647", "2147483648", "4294967296",
           "9007199254740992", "9007199254740993", "99999999999999999999",
           "1e308", "1e309", "1e-400", "-1e308", "123456789012", "1000000",
           "100000", "3.5", "1e3", "1.", "007"]
PUNCT = ["(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "==", "!=", "<",
         "<=", ">", ">=", "+", "-", "*", "/", "%", "\n", "#", '"', "\\",
         "!", "&", "|", "'", ".", "@", "$", "`", "~", "^", "?"]
STRINGS = ['"x"', '""', '"a\\"b"', '"bad\\q"', '"unterminated',
           '"/usr/share/datasets/fashion-mnist"', '"missing.dl"',
           '"name with space"', '"' + "s" * 300 + '"']
SNIPPETS = [
    "x = relu(x)", "return x", "return", "h = add(h, x)", "if true {", "}",
    "else {", "y = concat(x, x, axis=-1)", "dense(10)", "conv2d(8, 3)",
    "block b(n=1)(x) { return dense(n)(x) }", "import \"missing.dl\"",
    "import \"SELF\"", "sequential s(x: f32[4]) { dense(2) }",
    "model m(a: f32[4], b: f32[4]) { return add(a, b) }",
    "train s { loss = mse; data = idx(\"d\") }", "x, y = x",
    "shape(x)[0]", "channels(x) * 2", "sequential { relu() }",
    "name=\"dup\"", "trainable=false", "e = encoder()", "a = e(a)",
    "x = reshape([-1])(x)", "x = reshape([-1, -1])(x)",
    "f32[0]", "f32[-1]", "i32[]", "f32[1,1,1,1,1,1,1,1,1]",
]


def small_number(rng):
    return rng.choice(["0", "1", "2", "3", "4", "5", "7", "8", "16", "28",
                       "64", "-1", "-3", "100000", "0.5", "1e9"])


def layer_line(rng):
    """A layer constructor with random (often plausible) arguments: keeps
    the syntax valid so that sema, the shape rules and the IR builder run."""
    n = lambda: small_number(rng)
    pad = rng.choice(["same", "valid", "causal", "full"])
    act = rng.choice(["relu", "sigmoid", "softmax", "tanh", "elu",
                      "leaky_relu", "linear", "gelu"])
    return rng.choice([
        "dense(%s)" % n(), "dense(%s, activation=%s)" % (n(), act),
        "conv2d(%s, %s)" % (n(), n()),
        "conv2d(%s, %s, strides=%s, padding=%s, dilation=%s)" %
        (n(), n(), n(), pad, n()),
        "conv2d(%s, [%s, %s], groups=%s)" % (n(), n(), n(), n()),
        "conv1d(%s, %s, padding=%s)" % (n(), n(), pad),
        "depthwise_conv2d(%s, depth_multiplier=%s)" % (n(), n()),
        "separable_conv2d(%s, %s, strides=%s)" % (n(), n(), n()),
        "conv2d_transpose(%s, %s, strides=%s, padding=%s, "
        "output_padding=%s)" % (n(), n(), n(), pad, n()),
        "maxpool2d(%s)" % n(), "avgpool2d(%s, strides=%s, padding=%s)" %
        (n(), n(), pad),
        "global_avgpool2d()", "global_maxpool2d()", "flatten()",
        "reshape([%s, %s])" % (n(), n()), "reshape([-1])",
        "dropout(%s)" % n(), "batchnorm()", "layernorm()",
        "batchnorm(momentum=%s, epsilon=%s)" % (n(), n()),
        "upsampling2d(%s)" % n(), "zero_padding2d(%s)" % n(),
        "zero_padding2d([[%s, %s], [%s, %s]])" % (n(), n(), n(), n()),
        "embedding(%s, %s)" % (n(), n()), "lstm(%s)" % n(),
        "gru(%s, return_sequences=true)" % n(), "softmax(axis=%s)" % n(),
        "activation(%s)" % act, "leaky_relu(alpha=%s)" % n(),
        "relu()", "abs()", "dense(%s, trainable=false)" % n(),
        "dense(%s, name=\"dup\")" % n(),
        "sequential { dense(%s) }" % n(),
    ])


def vocabulary_token(rng):
    pool = rng.choice([KEYWORDS, LAYERS, KWARGS, WORDS, TRAIN, NUMBERS,
                       PUNCT, STRINGS, SNIPPETS])
    return rng.choice(pool)


TOKEN_RE = re.compile(rb'[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9.eE+-]*|"[^"\n]*"'
                      rb'|==|!=|<=|>=|\S')


def random_bytes(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return b"\x00" * rng.randint(1, 4)
    if kind == 1:  # invalid UTF-8: lone continuation bytes, bad leads
        return bytes(rng.choice([0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xff, 0xfe])
                     for _ in range(rng.randint(1, 4)))
    if kind == 2:  # a valid multi-byte character
        return rng.choice(["é", "λ", "→", "𝔁", "\u200b", "\ufeff"]).encode()
    if kind == 3:  # control characters
        return bytes(rng.choice([1, 7, 8, 11, 12, 13, 27, 127])
                     for _ in range(rng.randint(1, 3)))
    if kind == 4:  # a truncated UTF-8 sequence
        return rng.choice([b"\xe2\x82", b"\xf0\x9f", b"\xc3"])
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))


def nesting_burst(rng):
    depth = rng.choice([10, 150, 199, 200, 201, 300, 1000, 5000, 20000])
    kind = rng.randrange(6)
    if kind == 0:
        return b"(" * depth
    if kind == 1:
        return b"[" * depth
    if kind == 2:
        return b"{" * depth
    if kind == 3:  # balanced: an expression nested `depth` deep
        return b"(" * depth + b"x" + b")" * depth
    if kind == 4:  # long operator chains and unary runs
        op = rng.choice([b" + 1", b" * 2", b" and true", b" or x"])
        return b"1" + op * depth if rng.random() < 0.5 else b"-" * depth + b"1"
    return bytes(rng.choice(b"([{") for _ in range(depth))


def long_thing(rng):
    n = rng.choice([65, 129, 1000, 100000])
    kind = rng.randrange(4)
    if kind == 0:
        return b"a" * n
    if kind == 1:
        return b"9" * n
    if kind == 2:
        return b'"' + b"s" * n + b'"'
    return b"dense(" + b"1, " * min(n, 5000) + b")"


def mutate_once(rng, data, self_name):
    lines = data.split(b"\n")
    op = rng.randrange(18)
    pos = rng.randint(0, len(data))
    if op == 0 and len(lines) > 1:  # delete a line
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if op == 1:  # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(rng.randint(0, len(lines)), lines[i])
        return b"\n".join(lines)
    if op == 2 and len(lines) > 1:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if op == 3:  # delete characters
        n = rng.randint(1, 12)
        return data[:pos] + data[pos + n:]
    if op == 4:  # insert a character
        return data[:pos] + bytes([rng.choice(b"()[]{},:;=\"#\\-+.\n ")]) + \
            data[pos:]
    if op in (5, 6):  # insert a vocabulary token
        token = vocabulary_token(rng).replace("SELF", self_name).encode()
        sep = rng.choice([b"", b" "])
        return data[:pos] + sep + token + sep + data[pos:]
    if op in (7, 8):  # replace a token with a vocabulary token
        tokens = list(TOKEN_RE.finditer(data))
        if tokens:
            m = rng.choice(tokens)
            token = vocabulary_token(rng).replace("SELF", self_name).encode()
            return data[:m.start()] + token + data[m.end():]
        return data
    if op == 9:  # replace a number with an interesting one
        numbers = list(re.finditer(rb"\b[0-9][0-9.eE+-]*", data))
        if numbers:
            m = rng.choice(numbers)
            return data[:m.start()] + rng.choice(NUMBERS).encode() + \
                data[m.end():]
        return data
    if op == 10:  # swap two tokens
        tokens = list(TOKEN_RE.finditer(data))
        if len(tokens) > 1:
            a, b = sorted(rng.sample(tokens, 2), key=lambda m: m.start())
            return (data[:a.start()] + b.group() + data[a.end():b.start()] +
                    a.group() + data[b.end():])
        return data
    if op == 11:  # random bytes
        return data[:pos] + random_bytes(rng) + data[pos:]
    if op == 12:  # truncate
        return data[:pos]
    if op == 13:  # nesting burst
        return data[:pos] + nesting_burst(rng) + data[pos:]
    if op == 14:  # very long identifier, number or string
        return data[:pos] + long_thing(rng) + data[pos:]
    if op in (16, 17):  # insert a layer line, or replace a line with one
        i = rng.randrange(len(lines))
        indent = "  " * rng.randint(1, 2)
        layer = layer_line(rng)
        if rng.random() < 0.5:  # a statement of a model or block body
            var = rng.choice(["x", "h", "r", "code", "a", "image", "shortcut"])
            layer = "%s = %s(%s)" % (var, layer, var)
        line = indent + layer
        if op == 16:
            lines.insert(i, line.encode())
        else:
            lines[i] = line.encode()
        return b"\n".join(lines)
    # Duplicate a block of lines (often a whole definition).
    i = rng.randrange(len(lines))
    j = min(len(lines), i + rng.randint(1, 20))
    lines[j:j] = lines[i:j]
    return b"\n".join(lines)


def make_case(seed, index, sources):
    """The input text and the command-line mode of case `index`."""
    rng = random.Random("%s:%d" % (seed, index))
    name, data = rng.choice(sources)
    self_name = "case%d.dl" % index
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 6])):
        data = mutate_once(rng, data, self_name)
    r = rng.random()
    if r < 0.7:
        mode = ["compile", "--emit=ir"]
    elif r < 0.85:
        mode = ["summary"]
    else:
        mode = ["compile", "--emit=ast"]
    return name, data, mode


def run_case(args, sources, workdir, index):
    name, data, mode = make_case(args.seed, index, sources)
    path = os.path.join(workdir, "case%d.dl" % index)
    with open(path, "wb") as f:
        f.write(data)
    command = [args.dlc, mode[0], path] + mode[1:]
    problem = None
    stderr = b""
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=args.timeout)
        stderr = proc.stderr
        rc = proc.returncode
        if rc < 0:
            problem = "killed by signal %d" % -rc
        elif rc not in (0, 1):
            problem = "exit status %d" % rc
        elif b"internal error" in stderr:
            problem = "internal error"
        elif rc == 1 and b"error:" not in stderr:
            problem = "exit status 1 without an error message"
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr or b""
        problem = "timed out after %gs" % args.timeout
    os.remove(path)
    if problem:
        return False, (index, name, " ".join(mode), problem, data, stderr)
    return rc == 0, None


def load_sources(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += [os.path.join(p, f) for f in sorted(os.listdir(p))
                      if f.endswith(".dl")]
        else:
            files.append(p)
    sources = []
    for f in files:
        with open(f, "rb") as fh:
            sources.append((os.path.basename(f), fh.read()))
    return sources


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*",
                        help=".dl files or folders (default: the examples)")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dlc", default="dlc",
                        help="the dlc binary (default: dlc on PATH)")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--keep-failures", metavar="DIR",
                        help="save each failing input (and its stderr) here")
    parser.add_argument("--dump", type=int, metavar="INDEX",
                        help="write case INDEX's input to stdout and exit")
    args = parser.parse_args()

    sources = load_sources(args.inputs or DEFAULT_DIRS)
    if not sources:
        print("mutate.py: no .dl inputs found", file=sys.stderr)
        return 2
    if args.dump is not None:
        name, data, mode = make_case(args.seed, args.dump, sources)
        sys.stderr.write("case %d: from %s, dlc %s\n" %
                         (args.dump, name, " ".join(mode)))
        sys.stdout.buffer.write(data)
        return 0

    start = time.time()
    failures = []
    accepted = 0
    with tempfile.TemporaryDirectory(prefix="dlc-fuzz-") as workdir:
        with concurrent.futures.ThreadPoolExecutor(
                max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_case, args, sources, workdir, i)
                       for i in range(args.count)]
            for future in futures:
                ok, failure = future.result()
                accepted += 1 if ok else 0
                if failure:
                    failures.append(failure)
                    index, name, mode, problem, _, stderr = failure
                    last = stderr.decode("utf-8", "replace").strip()
                    last = last.splitlines()[-1][:200] if last else ""
                    print("FAIL case %d (from %s, dlc %s): %s%s" %
                          (index, name, mode, problem,
                           " -- " + last if last else ""))
    if args.keep_failures and failures:
        os.makedirs(args.keep_failures, exist_ok=True)
        for index, name, mode, problem, data, stderr in failures:
            base = os.path.join(args.keep_failures,
                                "seed%s-case%d" % (args.seed, index))
            with open(base + ".dl", "wb") as f:
                f.write(data)
            with open(base + ".txt", "wb") as f:
                f.write(("from %s; dlc %s FILE: %s\n" %
                         (name, mode, problem)).encode())
                f.write(stderr[-20000:])
    passed = args.count - len(failures)
    print("%d passed, %d failed (seed %s, %d inputs accepted, %d rejected "
          "with an error, %.1fs)" %
          (passed, len(failures), args.seed, accepted, passed - accepted,
           time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
