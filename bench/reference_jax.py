#!/usr/bin/env python3
"""The bench models M1-M5 in JAX/XLA, and their timed jitted train and inference steps.

The reference side of bench/frameworks.py: the same math as
bench/models/*.dl (same layers, padding, loss, optimizer and
hyperparameters, Keras defaults: glorot_uniform kernels, zero biases,
batchnorm momentum 0.99 / epsilon 1e-3, Adam(1e-3, 0.9, 0.999, eps 1e-7)),
written natively with jax.numpy and lax.conv_general_dilated in NHWC / HWIO
(padding "SAME" is Keras's), optimizers from optax.

The train step (forward, loss, gradient, optimizer update, batchnorm moving
averages) is one jax.jit function with the parameters, optimizer state and
batchnorm state donated; inference is a jitted eval-mode forward (moving
averages, no dropout). Every timed call ends in jax.block_until_ready. Each
timing is the median of `--steps` steps after the compile and `--warmup`
untimed steps, on synthetic data (uniform images in [0, 1], random labels;
M4 sees the image plus Gaussian noise of stddev 0.2 and is trained against
the clean image).

Prints one JSON object per line:
  {"framework": "jax", "model": "m3", "mode": "train", "batch": 64,
   "median_ms": 12.3, "note": "jax 0.7.1"}

Threads: XLA's CPU client sizes its thread pool from the NPROC environment
variable (else the CPUs this process may run on), so run it with
NPROC=--threads set before the start (frameworks.py does, together with
XLA_FLAGS=--xla_cpu_multi_thread_eigen=true); `--threads` here is a check:
the script fails when NPROC disagrees.

usage: bench/reference_jax.py --model m3 [--threads 2] [--steps 30]
           [--warmup 5] [--train-batches 64,256] [--infer-batches 256]
"""

import argparse
import json
import os
import statistics
import time

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import optax

DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def glorot(key, shape, fan_in, fan_out):
    """A glorot_uniform kernel of `shape`."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def conv_params(key, k, cin, cout, bias=True):
    """A k x k convolution's kernel (HWIO) and optional zero bias."""
    p = {"w": glorot(key, (k, k, cin, cout), k * k * cin, k * k * cout)}
    if bias:
        p["b"] = jnp.zeros((cout,), jnp.float32)
    return p


def dense_params(key, cin, cout):
    """A dense layer's kernel and zero bias."""
    return {"w": glorot(key, (cin, cout), cin, cout),
            "b": jnp.zeros((cout,), jnp.float32)}


def bn_params(channels):
    """(trainable gamma/beta, moving mean/variance) of a batchnorm."""
    return ({"gamma": jnp.ones((channels,)), "beta": jnp.zeros((channels,))},
            {"mean": jnp.zeros((channels,)), "var": jnp.ones((channels,))})


def conv(p, x, stride=1):
    """A "SAME" convolution (plus bias when the layer has one)."""
    y = lax.conv_general_dilated(x, p["w"], (stride, stride), "SAME",
                                 dimension_numbers=DIMENSIONS)
    return y + p["b"] if "b" in p else y


def conv_transpose(p, x, stride):
    """A "SAME" transposed convolution plus bias (Keras Conv2DTranspose)."""
    y = lax.conv_transpose(x, p["w"], (stride, stride), "SAME",
                           dimension_numbers=DIMENSIONS)
    return y + p["b"]


def dense(p, x):
    """x @ W + b."""
    return x @ p["w"] + p["b"]


def maxpool(x):
    """2x2 max pooling, stride 2, valid."""
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1),
                             (1, 2, 2, 1), "VALID")


def batchnorm(p, s, x, train):
    """Keras BatchNormalization (momentum 0.99, eps 1e-3) over N, H, W:
    batch statistics and updated moving averages in training, the moving
    averages otherwise. Returns (y, new state)."""
    if train:
        mean = jnp.mean(x, axis=(0, 1, 2))
        var = jnp.var(x, axis=(0, 1, 2))
        s = {"mean": 0.99 * s["mean"] + 0.01 * mean,
             "var": 0.99 * s["var"] + 0.01 * var}
    else:
        mean, var = s["mean"], s["var"]
    y = (x - mean) * lax.rsqrt(var + 1e-3) * p["gamma"] + p["beta"]
    return y, s


def dropout(x, rate, key, train):
    """Inverted dropout (identity when not training)."""
    if not train:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def init_model(name, key):
    """(params, batchnorm state) of bench model `name` (m1..m5)."""
    keys = iter(jax.random.split(key, 64))
    if name == "m1":
        return {"d1": dense_params(next(keys), 784, 128),
                "d2": dense_params(next(keys), 128, 10)}, {}
    if name == "m2":
        return {"c1": conv_params(next(keys), 5, 1, 32),
                "c2": conv_params(next(keys), 5, 32, 64),
                "d1": dense_params(next(keys), 7 * 7 * 64, 1024),
                "d2": dense_params(next(keys), 1024, 10)}, {}
    if name == "m3":
        (g1, s1), (g2, s2) = bn_params(32), bn_params(64)
        return {"c1": conv_params(next(keys), 3, 1, 32, bias=False),
                "bn1": g1,
                "c2": conv_params(next(keys), 3, 32, 64, bias=False),
                "bn2": g2,
                "d1": dense_params(next(keys), 7 * 7 * 64, 128),
                "d2": dense_params(next(keys), 128, 10)}, \
            {"bn1": s1, "bn2": s2}
    if name == "m4":
        return {"c1": conv_params(next(keys), 3, 1, 16),
                "c2": conv_params(next(keys), 3, 16, 8),
                "t1": conv_params(next(keys), 3, 8, 8),
                "t2": conv_params(next(keys), 3, 8, 16),
                "c3": conv_params(next(keys), 3, 16, 1)}, {}
    if name == "m5":
        return init_resnet20(keys)
    raise ValueError("unknown bench model " + name)


def resnet20_blocks():
    """(name, input channels, filters, stride) of ResNet-20's 9 blocks."""
    blocks, cin = [], 16
    for stage, filters in enumerate((16, 32, 64)):
        for b in range(3):
            stride = 2 if b == 0 and stage > 0 else 1
            blocks.append((f"s{stage}b{b}", cin, filters, stride))
            cin = filters
    return blocks


def init_resnet20(keys):
    """(params, batchnorm state) of ResNet-20."""
    g, s = bn_params(16)
    params = {"stem": conv_params(next(keys), 3, 1, 16, bias=False), "bn": g,
              "fc": dense_params(next(keys), 64, 10)}
    state = {"bn": s}
    for name, cin, filters, stride in resnet20_blocks():
        (g1, s1), (g2, s2) = bn_params(filters), bn_params(filters)
        p = {"c1": conv_params(next(keys), 3, cin, filters, bias=False),
             "bn1": g1,
             "c2": conv_params(next(keys), 3, filters, filters, bias=False),
             "bn2": g2}
        st = {"bn1": s1, "bn2": s2}
        if stride != 1 or cin != filters:
            gp, sp = bn_params(filters)
            p["proj"] = conv_params(next(keys), 1, cin, filters, bias=False)
            p["bnp"] = gp
            st["bnp"] = sp
        params[name], state[name] = p, st
    return params, state


def resnet20(params, state, x, train):
    """ResNet-20's logits and new batchnorm state."""
    new = {}
    h, new["bn"] = batchnorm(params["bn"], state["bn"],
                             conv(params["stem"], x), train)
    x = jax.nn.relu(h)
    for name, _, _, stride in resnet20_blocks():
        p, s, ns = params[name], state[name], {}
        h, ns["bn1"] = batchnorm(p["bn1"], s["bn1"], conv(p["c1"], x, stride),
                                 train)
        h, ns["bn2"] = batchnorm(p["bn2"], s["bn2"],
                                 conv(p["c2"], jax.nn.relu(h)), train)
        shortcut = x
        if "proj" in p:
            shortcut, ns["bnp"] = batchnorm(p["bnp"], s["bnp"],
                                            conv(p["proj"], x, stride), train)
        x = jax.nn.relu(h + shortcut)
        new[name] = ns
    return dense(params["fc"], jnp.mean(x, axis=(1, 2))), new


def forward(name, params, state, x, key, train):
    """Model `name`'s output (logits; M4: the sigmoid image) and new
    batchnorm state."""
    if name == "m1":
        h = jax.nn.relu(dense(params["d1"], x.reshape(x.shape[0], -1)))
        return dense(params["d2"], h), state
    if name == "m2":
        h = maxpool(jax.nn.relu(conv(params["c1"], x)))
        h = maxpool(jax.nn.relu(conv(params["c2"], h)))
        h = jax.nn.relu(dense(params["d1"], h.reshape(h.shape[0], -1)))
        return dense(params["d2"], dropout(h, 0.4, key, train)), state
    if name == "m3":
        new = {}
        h, new["bn1"] = batchnorm(params["bn1"], state["bn1"],
                                  conv(params["c1"], x), train)
        h = maxpool(jax.nn.relu(h))
        h, new["bn2"] = batchnorm(params["bn2"], state["bn2"],
                                  conv(params["c2"], h), train)
        h = maxpool(jax.nn.relu(h))
        h = jax.nn.relu(dense(params["d1"], h.reshape(h.shape[0], -1)))
        return dense(params["d2"], dropout(h, 0.5, key, train)), new
    if name == "m4":
        h = jax.nn.relu(conv(params["c1"], x, 2))
        h = jax.nn.relu(conv(params["c2"], h, 2))
        h = jax.nn.relu(conv_transpose(params["t1"], h, 2))
        h = jax.nn.relu(conv_transpose(params["t2"], h, 2))
        return jax.nn.sigmoid(conv(params["c3"], h)), state
    return resnet20(params, state, x, train)


def loss_value(name, output, target):
    """Keras binary cross-entropy on probabilities (clipped to [1e-7,
    1 - 1e-7]) for M4, else sparse categorical cross-entropy from logits;
    averaged over the batch."""
    if name == "m4":
        p = jnp.clip(output, 1e-7, 1.0 - 1e-7)
        return -jnp.mean(target * jnp.log(p) + (1.0 - target) * jnp.log1p(-p))
    return jnp.mean(
        optax.softmax_cross_entropy_with_integer_labels(output, target))


def optimizer(name):
    """SGD(0.1, momentum 0.9) for M5, else Keras Adam."""
    if name == "m5":
        return optax.sgd(0.1, momentum=0.9)
    return optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-7)


def make_train_step(name, opt):
    """The jitted train step (params, opt_state, bn_state, x, y, key) ->
    (params, opt_state, bn_state, loss), its first three arguments donated."""

    def step(params, opt_state, state, x, y, key):
        """Forward, loss, gradient, update."""

        def objective(p):
            """The loss and the new batchnorm state."""
            out, new_state = forward(name, p, state, x, key, True)
            return loss_value(name, out, y), new_state

        (loss, new_state), grads = jax.value_and_grad(
            objective, has_aux=True)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, new_state, loss

    return jax.jit(step, donate_argnums=(0, 1, 2))


def synthetic_batch(name, batch, key):
    """(input, target): NHWC images uniform in [0, 1]; labels in 0..9, or
    for M4 image + N(0, 0.2) noise as input and the clean image as target."""
    k1, k2 = jax.random.split(key)
    images = jax.random.uniform(k1, (batch, 28, 28, 1), jnp.float32)
    if name == "m4":
        return images + 0.2 * jax.random.normal(k2, images.shape), images
    return images, jax.random.randint(k2, (batch,), 0, 10)


def median_ms(step, steps, warmup):
    """Runs `step` (which blocks until its result is ready) warmup + steps
    times; the median of the timed ones in ms."""
    times = []
    for s in range(warmup + steps):
        start = time.perf_counter()
        step(s)
        if s >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def time_train(name, batch, args):
    """Median ms of the jitted train step of model `name` at `batch`."""
    key = jax.random.PRNGKey(batch)
    params, state = init_model(name, key)
    opt = optimizer(name)
    carry = [params, opt.init(params), state]
    x, y = synthetic_batch(name, batch, jax.random.fold_in(key, 1))
    train_step = make_train_step(name, opt)
    dropout_key = jax.random.PRNGKey(7)

    def step(s):
        """One train step; the state carried to the next."""
        *new, loss = train_step(*carry, x, y,
                                jax.random.fold_in(dropout_key, s))
        jax.block_until_ready((new, loss))
        carry[:] = new

    step(-1)  # compile
    return median_ms(step, args.steps, args.warmup)


def time_inference(name, batch, args):
    """Median ms of the jitted eval-mode forward of model `name` at `batch`."""
    key = jax.random.PRNGKey(batch + 1)
    params, state = init_model(name, key)
    x, _ = synthetic_batch(name, batch, jax.random.fold_in(key, 1))
    predict = jax.jit(lambda p, s, x: forward(name, p, s, x, None, False)[0])

    def step(_):
        """One forward pass."""
        jax.block_until_ready(predict(params, state, x))

    step(-1)  # compile
    return median_ms(step, args.steps, args.warmup)


def batches(text):
    """'64,256' -> [64, 256] ('' -> [])."""
    return [int(b) for b in text.split(",") if b]


def main():
    """Parses the arguments, times what they ask for, prints JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True,
                        choices=["m1", "m2", "m3", "m4", "m5"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--train-batches", type=batches, default=[64, 256])
    parser.add_argument("--infer-batches", type=batches, default=[256])
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("need --steps >= 1, --warmup >= 0, --threads >= 1")
    if os.environ.get("NPROC") != str(args.threads):
        parser.error(f"run with NPROC={args.threads} in the environment "
                     "(XLA's CPU thread pool size); it is "
                     f"{os.environ.get('NPROC')!r}")

    common = {"framework": "jax", "threads": args.threads,
              "note": "jax " + jax.__version__}
    for batch in args.train_batches:
        ms = time_train(args.model, batch, args)
        print(json.dumps(dict(common, model=args.model, mode="train",
                              batch=batch, median_ms=ms)), flush=True)
    for batch in args.infer_batches:
        ms = time_inference(args.model, batch, args)
        print(json.dumps(dict(common, model=args.model, mode="infer",
                              batch=batch, median_ms=ms)), flush=True)


if __name__ == "__main__":
    main()
