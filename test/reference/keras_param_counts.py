#!/usr/bin/env python3
"""Builds the spec's example models in Keras 3 and prints their parameter
counts, to check `dlc summary` against Keras itself (not run in CI: it needs
Keras and a backend from PyPI).

  python3 -m venv /tmp/k && /tmp/k/bin/pip install keras jax jaxlib
  KERAS_BACKEND=jax /tmp/k/bin/python test/reference/keras_param_counts.py

Each line: model name, total, trainable, non-trainable.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from keras import layers as L  # noqa: E402


def fashion_mlp():
    return keras.Sequential([keras.Input((28, 28)), L.Flatten(),
                             L.Dense(128, activation="relu"), L.Dense(10)])


def fashion_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, padding="same", use_bias=False), L.BatchNormalization(),
        L.ReLU(), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", use_bias=False), L.BatchNormalization(),
        L.ReLU(), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.5),
        L.Dense(10)])


def fashion_lstm():
    return keras.Sequential([keras.Input((28, 28)), L.LSTM(128), L.Dense(10)])


def denoise_ae():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(1, 3, padding="same", activation="sigmoid")])


def mobilenet_tiny():
    image = keras.Input((28, 28, 1))
    stem = keras.Sequential([L.Conv2D(16, 3, padding="same", use_bias=False),
                             L.BatchNormalization(), L.ReLU()])
    x = stem(image)
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = L.ReLU()(L.BatchNormalization()(x))
    x = L.Conv2D(32, 1, use_bias=False)(x)
    x = L.ReLU()(L.BatchNormalization()(x))
    x = L.SeparableConv2D(64, 3, strides=2, padding="same",
                          activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.2)(x)
    return keras.Model(image, L.Dense(10)(x))


def multitask():
    image = keras.Input((28, 28, 1))
    h = L.Conv2D(32, 3, padding="same", activation="relu")(image)
    h = L.MaxPooling2D(2)(h)
    h = L.Conv2D(64, 3, padding="same", activation="relu")(h)
    code = L.MaxPooling2D(2)(h)
    logits = L.Dense(10)(L.Flatten()(code))
    r = L.Conv2DTranspose(32, 3, strides=2, padding="same",
                          activation="relu")(code)
    r = L.Conv2DTranspose(1, 3, strides=2, padding="same",
                          activation="sigmoid")(r)
    return keras.Model(image, [logits, r])


def resnet_mini():
    def residual(x, filters, strides=1):
        h = L.Conv2D(filters, 3, strides=strides, padding="same",
                     use_bias=False)(x)
        h = L.ReLU()(L.BatchNormalization()(h))
        h = L.Conv2D(filters, 3, padding="same", use_bias=False)(h)
        h = L.BatchNormalization()(h)
        shortcut = x
        if strides != 1 or x.shape[-1] != filters:
            shortcut = L.BatchNormalization()(
                L.Conv2D(filters, 1, strides=strides, use_bias=False)(x))
        return L.ReLU()(L.Add()([h, shortcut]))

    image = keras.Input((28, 28, 1))
    x = L.Conv2D(16, 3, padding="same", use_bias=False)(image)
    x = L.ReLU()(L.BatchNormalization()(x))
    x = residual(x, 16)
    x = residual(x, 32, strides=2)
    x = residual(x, 64, strides=2)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(image, L.Dense(10)(x))


def siamese():
    encoder = keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2), L.Conv2D(64, 3, activation="relu"),
        L.GlobalAveragePooling2D(), L.Dense(64)])
    left, right = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    a, b = encoder(left), encoder(right)
    diff = L.Lambda(lambda t: keras.ops.abs(t))(L.Subtract()([a, b]))
    return keras.Model([left, right], L.Dense(1, activation="sigmoid")(diff))


def counts(model):
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    frozen = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return trainable + frozen, trainable, frozen


for build in [fashion_mlp, fashion_cnn, fashion_lstm, denoise_ae,
              mobilenet_tiny, multitask, resnet_mini, siamese]:
    total, trainable, frozen = counts(build())
    print(f"{build.__name__} {total} {trainable} {frozen}")
