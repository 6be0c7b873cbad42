"""Writes the first NTRAIN training and NTEST test examples of Fashion-MNIST
as the four gzipped IDX files of a directory, so that end-to-end tests can
train real models on real images in seconds.
Usage: make_fashion_subset.py OUTDIR NTRAIN NTEST [SOURCE_DIR]"""
import gzip
import os
import struct
import sys

SOURCE = "/usr/share/datasets/fashion-mnist"
FILES = [("train-images-idx3-ubyte", "train"), ("train-labels-idx1-ubyte", "train"),
         ("t10k-images-idx3-ubyte", "test"), ("t10k-labels-idx1-ubyte", "test")]


def read(source, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(source, candidate)
        if os.path.exists(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                return f.read()
    sys.exit("make_fashion_subset.py: no %s in %s" % (name, source))


def subset(data, count):
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = list(struct.unpack(">%dI" % rank, data[4:4 + 4 * rank]))
    if count > dims[0]:
        sys.exit("make_fashion_subset.py: only %d examples" % dims[0])
    per_item = 1
    for d in dims[1:]:
        per_item *= d
    header = 4 + 4 * rank
    dims[0] = count
    return (data[:4] + struct.pack(">%dI" % rank, *dims) +
            data[header:header + count * per_item])


def main():
    out, ntrain, ntest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    source = sys.argv[4] if len(sys.argv) > 4 else SOURCE
    os.makedirs(out, exist_ok=True)
    for name, split in FILES:
        count = ntrain if split == "train" else ntest
        with gzip.open(os.path.join(out, name + ".gz"), "wb") as f:
            f.write(subset(read(source, name), count))


main()
