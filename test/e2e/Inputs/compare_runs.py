"""Compares two runs of the same model (fused and unfused programs):
  compare_runs.py weights A.safetensors B.safetensors TOL
      every tensor of A and B: same names and shapes, and every element
      |a - b| <= TOL * (|b| + mean |b| of its tensor);
  compare_runs.py predict A.jsonl B.jsonl TOL
      `predict --json` lines: same classes, probabilities within
      TOL * (|b| + 1e-3).
Prints the worst relative difference and OK, or what differs and exits 1."""
import json
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    size, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        code = {"F32": "f", "F64": "d", "I32": "i", "I64": "q"}[info["dtype"]]
        count = (end - begin) // struct.calcsize(code)
        tensors[name] = (info["shape"],
                         struct.unpack("<%d%s" % (count, code),
                                       data[base + begin:base + end]))
    return tensors


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def weights(a_path, b_path, tol):
    a, b = read_safetensors(a_path), read_safetensors(b_path)
    if sorted(a) != sorted(b):
        fail("different tensors: %s vs %s" % (sorted(a), sorted(b)))
    worst, where = 0.0, ""
    for name in sorted(a):
        (sa, va), (sb, vb) = a[name], b[name]
        if sa != sb:
            fail("%s: shape %s vs %s" % (name, sa, sb))
        scale = sum(abs(x) for x in vb) / max(len(vb), 1)
        for i, (x, y) in enumerate(zip(va, vb)):
            rel = abs(x - y) / (abs(y) + scale) if abs(y) + scale > 0 else 0.0
            if rel > worst:
                worst, where = rel, "%s[%d]: %.9g vs %.9g" % (name, i, x, y)
    print("%d tensors, worst relative difference %.3g%s" %
          (len(a), worst, " at " + where if where else ""))
    if worst > tol:
        fail("above %g" % tol)


def predict(a_path, b_path, tol):
    def lines(path):
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    a, b = lines(a_path), lines(b_path)
    if len(a) != len(b) or not a:
        fail("%d vs %d prediction lines" % (len(a), len(b)))
    worst, count = 0.0, 0
    for x, y in zip(a, b):
        if (x.get("file"), x.get("index")) != (y.get("file"), y.get("index")):
            fail("lines for different examples: %s vs %s" % (x, y))
        top_a, top_b = x.get("top", []), y.get("top", [])
        if not top_a or len(top_a) != len(top_b):
            fail("different top lists: %s vs %s" % (x, y))
        for s, t in zip(top_a, top_b):
            if s["class"] != t["class"]:
                fail("class %s vs %s in %s" % (s["class"], t["class"], x))
            p, q = s["probability"], t["probability"]
            worst = max(worst, abs(p - q) / (abs(q) + 1e-3))
            count += 1
    print("%d probabilities, worst relative difference %.3g" % (count, worst))
    if worst > tol:
        fail("above %g" % tol)


mode, a_path, b_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
{"weights": weights, "predict": predict}[mode](a_path, b_path, tol)
print("OK")
