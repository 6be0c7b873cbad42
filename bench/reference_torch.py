#!/usr/bin/env python3
"""The bench models M1-M5 in PyTorch, and their timed train and inference steps.

The reference side of bench/frameworks.py: the same math as
bench/models/*.dl (same layers, padding, loss, optimizer and
hyperparameters, Keras defaults: glorot_uniform kernels, zero biases,
batchnorm momentum 0.99 / epsilon 1e-3, Adam(1e-3, 0.9, 0.999, eps 1e-7)),
written natively in PyTorch: NCHW, in the memory format that is fastest for
PyTorch (see MEMORY_FORMAT_HELP; `--memory-format` overrides).

A train step is zero_grad, forward, loss, backward and the optimizer's
update; inference is model.eval() under torch.no_grad(). Each timing is the
median of `--steps` steps after `--warmup` untimed ones, on synthetic data
(uniform images in [0, 1], random labels; M4 sees the image plus Gaussian
noise of stddev 0.2 and is trained against the clean image).

Prints one JSON object per line:
  {"framework": "torch", "model": "m3", "mode": "train", "batch": 64,
   "median_ms": 12.3, "note": "contiguous"}
and with `--sgemm N` first the FP32 matmul rate at n=N:
  {"framework": "torch", "mode": "sgemm", "n": 2048, "gflops": 301.2, ...}

The thread count is torch.set_num_threads(--threads); run it with
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to the same number (frameworks.py
does) so that OpenBLAS, which torch's dense layers and matmul call, uses it
too.

usage: bench/reference_torch.py --model m3 [--threads 2] [--steps 30]
           [--warmup 5] [--train-batches 64,256] [--infer-batches 256]
           [--memory-format auto|contiguous|channels_last] [--sgemm 2048]
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F

MEMORY_FORMAT_HELP = (
    "auto (default): for the convolutional models, time a few steps in "
    "both contiguous NCHW and channels_last and keep the faster (neither "
    "won everywhere with Debian's torch 1.13 and its oneDNN convolutions); "
    "M1 stays contiguous")


def glorot_init(module):
    """Keras initialization: glorot_uniform kernels, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def batchnorm(channels):
    """A Keras-default batchnorm: momentum 0.99 (torch: 0.01), eps 1e-3."""
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class BasicBlock(nn.Module):
    """A ResNet basic block: two 3x3 conv-BN, a 1x1 conv-BN projection
    shortcut where the shape changes, relu after the sum."""

    def __init__(self, cin, filters, stride):
        """Builds the block from `cin` to `filters` channels."""
        super().__init__()
        self.conv1 = nn.Conv2d(cin, filters, 3, stride, 1, bias=False)
        self.bn1 = batchnorm(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, 1, bias=False)
        self.bn2 = batchnorm(filters)
        self.project = None
        if stride != 1 or cin != filters:
            self.project = nn.Sequential(
                nn.Conv2d(cin, filters, 1, stride, 0, bias=False),
                batchnorm(filters))

    def forward(self, x):
        """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))."""
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        shortcut = x if self.project is None else self.project(x)
        return F.relu(h + shortcut)


def resnet20():
    """ResNet-20 for 28x28x1: stem conv 16 + BN + relu, 3 stages x 3 basic
    blocks of 16/32/64 filters, global average pool, dense 10."""
    layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), batchnorm(16), nn.ReLU()]
    cin = 16
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        for block in range(3):
            layers.append(BasicBlock(cin, filters, stride if block == 0 else 1))
            cin = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def build_model(name):
    """The PyTorch module of bench model `name` (m1..m5), initialized."""
    if name == "m1":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(),
                              nn.Linear(128, 10))
    elif name == "m2":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(),
            nn.Dropout(0.4), nn.Linear(1024, 10))
    elif name == "m3":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), batchnorm(32),
            nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), batchnorm(64),
            nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(128, 10))
    elif name == "m4":
        # Keras "same" with stride 2: 28 -> 14 -> 7 -> 14 -> 28; torch's
        # symmetric padding (and output_padding=1 on the transposed ones)
        # gives the same shapes and cost, the taps one pixel apart at the
        # border.
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1,
                               output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1,
                               output_padding=1), nn.ReLU(),
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())
    elif name == "m5":
        model = resnet20()
    else:
        raise ValueError("unknown bench model " + name)
    glorot_init(model)
    return model


def build_optimizer(name, model):
    """The model's optimizer: SGD(0.1, momentum 0.9) for M5, else Keras Adam."""
    if name == "m5":
        return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
                            eps=1e-7)


def loss_function(name):
    """Binary cross-entropy on the sigmoid output for M4, else sparse
    categorical cross-entropy from logits (both averaged over the batch)."""
    if name == "m4":
        return F.binary_cross_entropy
    return F.cross_entropy


def synthetic_batch(name, batch, generator):
    """(input, target) for one step: images uniform in [0, 1]; labels in
    0..9, or for M4 the clean image as target and image + N(0, 0.2) noise
    as input."""
    images = torch.rand(batch, 1, 28, 28, generator=generator)
    if name == "m4":
        noisy = images + 0.2 * torch.randn(images.shape, generator=generator)
        return noisy, images
    return images, torch.randint(0, 10, (batch,), generator=generator)


def to_format(tensor, memory_format):
    """`tensor` in the memory format (images only; labels stay as they are)."""
    if tensor.dim() == 4:
        return tensor.contiguous(memory_format=memory_format)
    return tensor


def median_ms(step, steps, warmup):
    """Runs `step` warmup + steps times; the median of the timed ones, ms."""
    times = []
    for s in range(warmup + steps):
        start = time.perf_counter()
        step()
        if s >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def train_step_timer(name, batch, memory_format):
    """A function (steps, warmup) -> median ms of a full train step of
    model `name` at `batch`, the model built in `memory_format`."""
    generator = torch.Generator().manual_seed(batch)
    model = build_model(name).to(memory_format=memory_format)
    model.train()
    optimizer = build_optimizer(name, model)
    loss_fn = loss_function(name)
    x, y = (to_format(t, memory_format)
            for t in synthetic_batch(name, batch, generator))

    def step():
        """zero_grad, forward, loss, backward, update."""
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    return lambda steps, warmup: median_ms(step, steps, warmup)


def inference_timer(name, batch, memory_format):
    """A function (steps, warmup) -> median ms of an eval-mode forward of
    model `name` at `batch`, the model built in `memory_format`."""
    generator = torch.Generator().manual_seed(batch + 1)
    model = build_model(name).to(memory_format=memory_format)
    model.eval()
    x, _ = synthetic_batch(name, batch, generator)
    x = to_format(x, memory_format)

    def step():
        """One forward pass without autograd."""
        with torch.no_grad():
            model(x)

    return lambda steps, warmup: median_ms(step, steps, warmup)


def layouts(name, choice):
    """The memory formats to try for model `name` under --memory-format."""
    formats = {"contiguous": torch.contiguous_format,
               "channels_last": torch.channels_last}
    if choice != "auto":
        return {choice: formats[choice]}
    if name == "m1":
        return {"contiguous": formats["contiguous"]}
    return formats


def time_fastest(make_timer, name, batch, args):
    """(median ms, layout): with several layouts, each is probed for a few
    steps (after the warm-up) and the faster one timed for --steps."""
    candidates = layouts(name, args.memory_format)
    timers = {k: make_timer(name, batch, f) for k, f in candidates.items()}
    if len(timers) == 1:
        layout, timer = next(iter(timers.items()))
        return timer(args.steps, args.warmup), layout
    probe = {k: t(3, args.warmup) for k, t in timers.items()}
    layout = min(probe, key=probe.get)
    return timers[layout](args.steps, 1), layout


def sgemm_gflops(n, repeats):
    """The FP32 matmul rate (GFLOP/s) of torch.mm at n x n x n, the median
    of `repeats` timed calls after two untimed ones."""
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    c = torch.empty(n, n)
    ms = median_ms(lambda: torch.mm(a, b, out=c), repeats, 2)
    return 2.0 * n ** 3 / (ms / 1000.0) / 1e9


def batches(text):
    """'64,256' -> [64, 256] ('' -> [])."""
    return [int(b) for b in text.split(",") if b]


def main():
    """Parses the arguments, times what they ask for, prints JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["m1", "m2", "m3", "m4", "m5"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--train-batches", type=batches, default=[64, 256])
    parser.add_argument("--infer-batches", type=batches, default=[256])
    parser.add_argument("--memory-format", default="auto",
                        choices=["auto", "contiguous", "channels_last"],
                        help=MEMORY_FORMAT_HELP)
    parser.add_argument("--sgemm", type=int, default=0, metavar="N",
                        help="first time torch.mm at n=N (0: no)")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("need --steps >= 1, --warmup >= 0, --threads >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    common = {"framework": "torch", "threads": torch.get_num_threads()}

    if args.sgemm:
        gflops = sgemm_gflops(args.sgemm, max(args.steps // 3, 5))
        print(json.dumps(dict(common, mode="sgemm", n=args.sgemm,
                              gflops=gflops, note="torch.mm " +
                              torch.__version__)), flush=True)
    if not args.model:
        return
    for batch in args.train_batches:
        ms, layout = time_fastest(train_step_timer, args.model, batch, args)
        print(json.dumps(dict(common, model=args.model, mode="train",
                              batch=batch, median_ms=ms, note=layout)),
              flush=True)
    for batch in args.infer_batches:
        ms, layout = time_fastest(inference_timer, args.model, batch, args)
        print(json.dumps(dict(common, model=args.model, mode="infer",
                              batch=batch, median_ms=ms, note=layout)),
              flush=True)


if __name__ == "__main__":
    main()
