//===- FusedElementwise.h - per-element formulas of fused chains ----------===//
//
// A `fused_elementwise` kernel (codegen/cpu/FusedElementwiseKernels.cpp)
// runs one loop over the elements of a chain of elementwise ops and computes
// every op of the chain on the element in registers. These are the per-op
// scalar formulas it calls by name: the same arithmetic, in the same order
// and precision, as the op's own kernel (Activations.h, Dropout.h,
// Losses.h, Training.h), so that a fused program computes what the unfused
// one does. Per-call constants (hyperparameters cast to T, Adam's bias
// correction, the dropout stream) are computed once before the loop by the
// `...Scalars` functions.
//
// Header-only C++17, namespace dlk::fused; T is float or double.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_FUSEDELEMENTWISE_H
#define DLC_CODEGEN_CPU_KERNELS_FUSEDELEMENTWISE_H

#include "codegen/cpu/kernels/Dropout.h"
#include "codegen/cpu/kernels/ElementwiseSupport.h"
#include "codegen/cpu/kernels/Losses.h"
#include "codegen/cpu/kernels/StepContext.h"
#include "runtime/Philox.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dlk {
namespace fused {

//===----------------------------------------------------------------------===//
// Activations: y = f(x); dx = dy * f'(x, y)
//===----------------------------------------------------------------------===//

template <typename T> inline T relu(T x) { return x > T(0) ? x : T(0); }
/// relu(x) > 0 exactly when x > 0: the mask comes from y.
template <typename T> inline T relu_grad(T y, T dy) {
  return dy * (y > T(0) ? T(1) : T(0));
}

template <typename T> inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
template <typename T> inline T sigmoid_grad(T y, T dy) {
  return dy * (y * (T(1) - y));
}

template <typename T> inline T tanh(T x) { return std::tanh(x); }
template <typename T> inline T tanh_grad(T y, T dy) {
  return dy * (T(1) - y * y);
}

template <typename T> inline T abs(T x) { return std::fabs(x); }
template <typename T> inline T abs_grad(T x, T dy) {
  return dy * (x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)));
}

template <typename T> inline T leaky_relu(T x, T alpha) {
  return x > T(0) ? x : alpha * x;
}
template <typename T> inline T leaky_relu_grad(T x, T dy, T alpha) {
  return dy * (x > T(0) ? T(1) : alpha);
}

template <typename T> inline T elu(T x, T alpha) {
  return x > T(0) ? x : alpha * (std::exp(x) - T(1));
}
template <typename T> inline T elu_grad(T x, T dy, T alpha) {
  return dy * (x > T(0) ? T(1) : alpha * std::exp(x));
}

//===----------------------------------------------------------------------===//
// Merges: add, subtract, multiply, add_n (a chain of adds, left to right)
//===----------------------------------------------------------------------===//

template <typename T> inline T add(T a, T b) { return a + b; }
template <typename T> inline T subtract(T a, T b) { return a - b; }
template <typename T> inline T multiply(T a, T b) { return a * b; }

/// da = dy, db = -dy.
template <typename T> inline void subtract_grad(T dy, T &da, T &db) {
  da = dy;
  db = -dy;
}

/// da = dy * b, db = dy * a.
template <typename T> inline void multiply_grad(T a, T b, T dy, T &da, T &db) {
  da = dy * b;
  db = dy * a;
}

//===----------------------------------------------------------------------===//
// Dropout: the mask of kernels/Dropout.h (DropoutMask).
//===----------------------------------------------------------------------===//

/// The mask and its scalars: Dropout.h's, shared with the unfused kernels.
template <typename T> using DropoutScalars = DropoutMask<T>;

template <typename T>
inline DropoutScalars<T> dropoutScalars(const StepContext &ctx, double rate,
                                        int64_t seedOffset) {
  return dropoutMask<T>(ctx, rate, seedOffset);
}

/// The factor of an element whose random word is `word`: 0 or keepScale.
template <typename T>
inline T dropoutFactor(const DropoutScalars<T> &s, uint32_t word) {
  return s.factor(word);
}

/// y = factor * x (forward) and dx = factor * dy (gradient).
template <typename T>
inline T dropout(const DropoutScalars<T> &s, uint32_t word, T x) {
  return dropoutFactor(s, word) * x;
}
template <typename T>
inline T dropout_grad(const DropoutScalars<T> &s, uint32_t word, T dy) {
  return dropoutFactor(s, word) * dy;
}

//===----------------------------------------------------------------------===//
// Elementwise loss gradients (Losses.h's elementLossGrad): the derivative
// of element i's term in double, times scale = dloss / count.
//===----------------------------------------------------------------------===//

template <typename T> inline double lossGradScale(T dloss, int64_t count) {
  return count > 0 ? static_cast<double>(dloss) / static_cast<double>(count)
                   : 0.0;
}

template <typename T>
inline void binary_crossentropy_grad(double scale, bool fromLogits, T pred,
                                     T target, T &dpred, T &dtarget) {
  const double p = pred, t = target;
  double dp, dt;
  if (fromLogits) {
    dp = 1 / (1 + std::exp(-p)) - t;
    dt = -p;
  } else {
    const double c = ew::clipProbability(p);
    dp = c != p ? 0.0 : -(t / c - (1 - t) / (1 - c));
    dt = -(std::log(c) - std::log(1 - c));
  }
  dpred = static_cast<T>(scale * dp);
  dtarget = static_cast<T>(scale * dt);
}

template <typename T>
inline void mse_grad(double scale, T pred, T target, T &dpred, T &dtarget) {
  const double dp = 2 * (static_cast<double>(pred) - target);
  dpred = static_cast<T>(scale * dp);
  dtarget = static_cast<T>(scale * -dp);
}

template <typename T>
inline void mae_grad(double scale, T pred, T target, T &dpred, T &dtarget) {
  const double diff = static_cast<double>(pred) - target;
  const double dp = diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0);
  dpred = static_cast<T>(scale * dp);
  dtarget = static_cast<T>(scale * -dp);
}

//===----------------------------------------------------------------------===//
// Training helpers and updates (Training.h). State operands are T& and
// updated in place.
//===----------------------------------------------------------------------===//

/// l2_loss_grad: dw = (2 * l2 * dy) * w; `scale` = T(2 * l2) * dy.
template <typename T> inline T l2LossGradScale(double l2, T dy) {
  return static_cast<T>(2.0 * l2) * dy;
}
template <typename T> inline T l2_loss_grad(T scale, T w) { return scale * w; }

template <typename T> struct MovingAverageScalars { T momentum, rest; };
template <typename T>
inline MovingAverageScalars<T> movingAverageScalars(double momentum) {
  return {static_cast<T>(momentum), static_cast<T>(1.0 - momentum)};
}
template <typename T>
inline void moving_average_update(const MovingAverageScalars<T> &s, T &moving,
                                  T stat) {
  moving = moving * s.momentum + stat * s.rest;
}

template <typename T> struct SgdScalars { T lr, momentum; };
template <typename T>
inline SgdScalars<T> sgdScalars(const StepContext &ctx, double momentum) {
  return {static_cast<T>(ctx.lr), static_cast<T>(momentum)};
}
/// Without a velocity slot: p -= g * lr.
template <typename T>
inline void sgd_update(const SgdScalars<T> &s, T &p, T g) {
  p -= g * s.lr;
}
/// With a velocity slot: v = v * momentum - g * lr, then
/// p += nesterov ? v * momentum - g * lr : v.
template <typename T, bool Nesterov>
inline void sgd_update(const SgdScalars<T> &s, T &p, T g, T &v) {
  v = v * s.momentum - g * s.lr;
  if (Nesterov)
    p += v * s.momentum - g * s.lr;
  else
    p += v;
}

template <typename T> struct RmspropScalars {
  T lr, rho, rest, momentum, epsilon;
};
template <typename T>
inline RmspropScalars<T> rmspropScalars(const StepContext &ctx, double rho,
                                        double momentum, double epsilon) {
  return {static_cast<T>(ctx.lr), static_cast<T>(rho),
          static_cast<T>(1.0 - rho), static_cast<T>(momentum),
          static_cast<T>(epsilon)};
}
/// Keras 3 RMSprop on one element; `mom` is read only with Momentum, `mean`
/// only with Centered.
template <typename T, bool Momentum, bool Centered>
inline void rmsprop_update(const RmspropScalars<T> &s, T &p, T g, T &rms,
                           T &mom, T &mean) {
  const T r = s.rho * rms + s.rest * (g * g);
  rms = r;
  T denominator;
  if (Centered) {
    const T a = s.rho * mean + s.rest * g;
    mean = a;
    denominator = r - a * a + s.epsilon;
  } else {
    denominator = r + s.epsilon;
  }
  const T increment = s.lr * g / std::sqrt(denominator);
  if (Momentum) {
    const T m = s.momentum * mom + increment;
    mom = m;
    p -= m;
  } else {
    p -= increment;
  }
}

template <typename T> struct AdamScalars {
  T alpha, oneMinusBeta1, oneMinusBeta2, epsilon, decay, lr;
  bool decays;
};
/// Adam's per-step constants with t = ctx.step + 1; weightDecay 0 for Adam.
template <typename T>
inline AdamScalars<T> adamScalars(const StepContext &ctx, double beta1,
                                  double beta2, double epsilon,
                                  double weightDecay) {
  const double t = static_cast<double>(ctx.step) + 1.0;
  const double beta1Power = std::pow(beta1, t);
  const double beta2Power = std::pow(beta2, t);
  return {
      static_cast<T>(ctx.lr * std::sqrt(1.0 - beta2Power) / (1.0 - beta1Power)),
      static_cast<T>(1.0 - beta1),
      static_cast<T>(1.0 - beta2),
      static_cast<T>(epsilon),
      static_cast<T>(weightDecay),
      static_cast<T>(ctx.lr),
      weightDecay != 0};
}
/// Keras 3 Adam / AdamW on one element; `vhat` is read only with AmsGrad.
template <typename T, bool AmsGrad>
inline void adam_update(const AdamScalars<T> &s, T &p, T g, T &m, T &v,
                        T &vhat) {
  T pi = p;
  if (s.decays)
    pi = pi - pi * s.decay * s.lr;
  const T mi = m + (g - m) * s.oneMinusBeta1;
  const T vi = v + (g * g - v) * s.oneMinusBeta2;
  m = mi;
  v = vi;
  T second = vi;
  if (AmsGrad) {
    second = std::max(vhat, vi);
    vhat = second;
  }
  p = pi - mi * s.alpha / (std::sqrt(second) + s.epsilon);
}

} // namespace fused
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_FUSEDELEMENTWISE_H
