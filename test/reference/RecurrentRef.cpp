//===- RecurrentRef.cpp - float64 reference lstm and gru ------------------===//
//
// Forward and backward (backpropagation through time) of the recurrent ops,
// with Keras 3's semantics: activation tanh, recurrent activation sigmoid,
// zero initial states, the GRU with reset_after=true. Tensors carry the
// batch: x is [N, T, D], the output [N, T, u] (return_sequences) or [N, u].
//
//===----------------------------------------------------------------------===//
#include "test/reference/ReferenceOps.h"

#include "ir/ShapeRules.h"

#include <algorithm>
#include <cmath>

namespace dlc::ref {
namespace {

/// The sizes of one recurrent op application, checked against its operands.
struct RecurrentDims {
  int64_t batch = 0, steps = 0, features = 0, units = 0;
  int64_t width = 0; // gates * units: the columns of the kernels
  bool useBias = true;
  bool sequences = false;
  std::vector<int64_t> outShape; // with the batch
};

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// Whether `t` holds exactly as many values as its shape says.
bool isConsistent(const RefTensor &t) {
  int64_t count = checkedElementCount(t.shape);
  return count >= 0 && count == t.size();
}

/// Checks the operands of `op` (with `gates` gates) and fills `dims`.
bool checkOperands(const char *op, int64_t gates,
                   const std::vector<RefTensor> &inputs,
                   const std::vector<RefTensor> &params, const Attrs &attrs,
                   RecurrentDims &dims, std::string &error) {
  std::string name = op;
  if (inputs.size() != 1 || inputs[0].shape.size() != 3 ||
      !isConsistent(inputs[0])) {
    error = name + " expects one input x[N, T, D]";
    return false;
  }
  const RefTensor &x = inputs[0];
  for (int64_t dim : x.shape)
    if (dim < 1) {
      error = name + " expects x[N, T, D] with positive dimensions, got " +
              formatShape(x.shape);
      return false;
    }
  ShapeResult shapes = inferShapes(
      op, {TensorInfo{ElementType::F64, {x.shape[1], x.shape[2]}, true}},
      attrs);
  if (!shapes.ok() || shapes.results.size() != 1) {
    error = name + " " + shapes.error;
    return false;
  }
  dims.batch = x.shape[0];
  dims.steps = x.shape[1];
  dims.features = x.shape[2];
  dims.units = getInt(attrs, "units", 0);
  dims.useBias = getBool(attrs, "use_bias", true);
  dims.sequences = getBool(attrs, "return_sequences", false);
  dims.outShape = shapes.results[0].shape;
  dims.outShape.insert(dims.outShape.begin(), dims.batch);

  size_t expected = dims.useBias ? 3 : 2;
  if (params.size() != expected) {
    error = name + " expects " + std::to_string(expected) +
            " parameters, got " + std::to_string(params.size());
    return false;
  }
  for (const RefTensor &p : params)
    if (!isConsistent(p)) {
      error = name + " got a parameter whose data does not match its shape";
      return false;
    }
  // The kernel's columns bound units, so gates * units cannot overflow.
  const RefTensor &kernel = params[0];
  if (kernel.shape.size() != 2 || dims.units < 1 ||
      dims.units > kernel.shape[1] / gates) {
    error = name + " expects kernel[" + std::to_string(dims.features) + ", " +
            std::to_string(gates) + " * units], got " +
            formatShape(kernel.shape);
    return false;
  }
  dims.width = gates * dims.units;
  std::vector<std::vector<int64_t>> shapesWanted{{dims.features, dims.width},
                                                 {dims.units, dims.width}};
  if (dims.useBias)
    shapesWanted.push_back(gates == 4 ? std::vector<int64_t>{dims.width}
                                      : std::vector<int64_t>{2, dims.width});
  static const char *const roles[] = {"kernel", "recurrent_kernel", "bias"};
  for (size_t i = 0; i < expected; ++i)
    if (params[i].shape != shapesWanted[i]) {
      error = name + " expects " + roles[i] + formatShape(shapesWanted[i]) +
              ", got " + formatShape(params[i].shape);
      return false;
    }
  return true;
}

/// Checks the output gradient of a backward call.
bool checkOutputGrads(const char *op, const RecurrentDims &dims,
                      const std::vector<RefTensor> &outputGrads,
                      std::string &error) {
  if (outputGrads.size() != 1 || outputGrads[0].shape != dims.outShape ||
      !isConsistent(outputGrads[0])) {
    error = std::string(op) + " expects one output gradient of shape " +
            formatShape(dims.outShape);
    return false;
  }
  return true;
}

/// out[j] += sum_k v[k] * m[k * cols + j] for a row vector v of length rows.
void addVecMat(const double *v, const double *m, int64_t rows, int64_t cols,
               double *out) {
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t j = 0; j < cols; ++j)
      out[j] += v[k] * m[k * cols + j];
}

/// out[k] += sum_j m[k * cols + j] * g[j]: the product with m transposed.
void addMatVec(const double *m, const double *g, int64_t rows, int64_t cols,
               double *out) {
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t j = 0; j < cols; ++j)
      out[k] += m[k * cols + j] * g[j];
}

/// dm[k * cols + j] += v[k] * g[j]: the outer product.
void addOuter(const double *v, const double *g, int64_t rows, int64_t cols,
              double *dm) {
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t j = 0; j < cols; ++j)
      dm[k * cols + j] += v[k] * g[j];
}

/// Writes h_t (of example n, step t) to the output when it is part of it.
void storeOutput(const RecurrentDims &dims, int64_t n, int64_t t,
                 const double *h, RefTensor &out) {
  int64_t u = dims.units;
  if (dims.sequences) {
    for (int64_t k = 0; k < u; ++k)
      out.data[(n * dims.steps + t) * u + k] = h[k];
  } else if (t == dims.steps - 1) {
    for (int64_t k = 0; k < u; ++k)
      out.data[n * u + k] = h[k];
  }
}

/// Adds the gradient of the output with respect to h_t to dh.
void loadOutputGrad(const RecurrentDims &dims, int64_t n, int64_t t,
                    const RefTensor &grad, double *dh) {
  int64_t u = dims.units;
  if (dims.sequences) {
    for (int64_t k = 0; k < u; ++k)
      dh[k] += grad.data[(n * dims.steps + t) * u + k];
  } else if (t == dims.steps - 1) {
    for (int64_t k = 0; k < u; ++k)
      dh[k] += grad.data[n * u + k];
  }
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

/// What the LSTM backward needs of every step: the gate activations
/// [i, f, g, o] (4u per step) and the states c_t, h_t (u per step), each
/// [N, T, ...]; the states before step 0 are zero.
struct LstmTrace {
  std::vector<double> gates, cells, hiddens;
};

/// Runs the LSTM over x; fills the output and the trace.
void lstmRun(const RecurrentDims &dims, const std::vector<RefTensor> &inputs,
             const std::vector<RefTensor> &params, RefTensor &out,
             LstmTrace &trace) {
  const int64_t steps = dims.steps, d = dims.features, u = dims.units,
                width = dims.width;
  const double *x = inputs[0].data.data();
  const double *w = params[0].data.data();
  const double *rw = params[1].data.data();
  trace.gates.assign(static_cast<size_t>(dims.batch * steps * width), 0.0);
  trace.cells.assign(static_cast<size_t>(dims.batch * steps * u), 0.0);
  trace.hiddens.assign(trace.cells.size(), 0.0);
  std::vector<double> zeros(static_cast<size_t>(u), 0.0), z(width);
  for (int64_t n = 0; n < dims.batch; ++n) {
    for (int64_t t = 0; t < steps; ++t) {
      int64_t step = n * steps + t;
      const double *hPrev =
          t == 0 ? zeros.data() : &trace.hiddens[(step - 1) * u];
      const double *cPrev =
          t == 0 ? zeros.data() : &trace.cells[(step - 1) * u];
      for (int64_t j = 0; j < width; ++j)
        z[j] = dims.useBias ? params[2].data[j] : 0.0;
      addVecMat(x + step * d, w, d, width, z.data());
      addVecMat(hPrev, rw, u, width, z.data());
      double *gates = &trace.gates[step * width];
      double *c = &trace.cells[step * u];
      double *h = &trace.hiddens[step * u];
      for (int64_t k = 0; k < u; ++k) {
        double i = sigmoid(z[k]), f = sigmoid(z[u + k]);
        double g = std::tanh(z[2 * u + k]), o = sigmoid(z[3 * u + k]);
        gates[k] = i;
        gates[u + k] = f;
        gates[2 * u + k] = g;
        gates[3 * u + k] = o;
        c[k] = f * cPrev[k] + i * g;
        h[k] = o * std::tanh(c[k]);
      }
      storeOutput(dims, n, t, h, out);
    }
  }
}

/// Checks a recurrent op's operands (`gates` gate blocks) and runs its
/// forward with `run`, keeping the trace a backward needs; with
/// `outputGrads`, also checks their shape.
template <typename Trace, typename Run>
bool runRecurrent(const char *op, int64_t gates,
                  const std::vector<RefTensor> &inputs,
                  const std::vector<RefTensor> &params, const Attrs &attrs,
                  const std::vector<RefTensor> *outputGrads, Run run,
                  RecurrentDims &dims, RefTensor &out, Trace &trace,
                  std::string &error) {
  if (!checkOperands(op, gates, inputs, params, attrs, dims, error) ||
      (outputGrads && !checkOutputGrads(op, dims, *outputGrads, error)))
    return false;
  out = RefTensor(dims.outShape);
  run(dims, inputs, params, out, trace);
  return true;
}

/// Zero gradients shaped like `tensors`.
std::vector<RefTensor> zerosLike(const std::vector<RefTensor> &tensors) {
  std::vector<RefTensor> out;
  for (const RefTensor &t : tensors)
    out.emplace_back(t.shape);
  return out;
}

bool lstmForward(const std::vector<RefTensor> &inputs,
                 const std::vector<RefTensor> &params, const Attrs &attrs,
                 std::vector<RefTensor> &outputs, std::string &error) {
  RecurrentDims dims;
  RefTensor out;
  LstmTrace trace;
  if (!runRecurrent("lstm", 4, inputs, params, attrs, nullptr, lstmRun, dims,
                    out, trace, error))
    return false;
  outputs.assign(1, std::move(out));
  return true;
}

bool lstmBackward(const std::vector<RefTensor> &inputs,
                  const std::vector<RefTensor> &params, const Attrs &attrs,
                  const std::vector<RefTensor> & /*outputs*/,
                  const std::vector<RefTensor> &outputGrads,
                  std::vector<RefTensor> &inputGrads,
                  std::vector<RefTensor> &paramGrads, std::string &error) {
  RecurrentDims dims;
  RefTensor out;
  LstmTrace trace;
  if (!runRecurrent("lstm", 4, inputs, params, attrs, &outputGrads, lstmRun,
                    dims, out, trace, error))
    return false;

  const int64_t steps = dims.steps, d = dims.features, u = dims.units,
                width = dims.width;
  const double *x = inputs[0].data.data();
  RefTensor dx(inputs[0].shape);
  std::vector<RefTensor> dParams = zerosLike(params);
  std::vector<double> zeros(static_cast<size_t>(u), 0.0), dh(u), dc(u),
      dhPrev(u), dz(width);
  for (int64_t n = 0; n < dims.batch; ++n) {
    std::fill(dh.begin(), dh.end(), 0.0); // from step t + 1 through U
    std::fill(dc.begin(), dc.end(), 0.0); // from step t + 1 through f
    for (int64_t t = steps - 1; t >= 0; --t) {
      int64_t step = n * steps + t;
      loadOutputGrad(dims, n, t, outputGrads[0], dh.data());
      const double *gates = &trace.gates[step * width];
      const double *c = &trace.cells[step * u];
      const double *hPrev =
          t == 0 ? zeros.data() : &trace.hiddens[(step - 1) * u];
      const double *cPrev =
          t == 0 ? zeros.data() : &trace.cells[(step - 1) * u];
      for (int64_t k = 0; k < u; ++k) {
        double i = gates[k], f = gates[u + k], g = gates[2 * u + k],
               o = gates[3 * u + k];
        double tc = std::tanh(c[k]);
        double dcTotal = dc[k] + dh[k] * o * (1.0 - tc * tc);
        dz[k] = dcTotal * g * i * (1.0 - i);
        dz[u + k] = dcTotal * cPrev[k] * f * (1.0 - f);
        dz[2 * u + k] = dcTotal * i * (1.0 - g * g);
        dz[3 * u + k] = dh[k] * tc * o * (1.0 - o);
        dc[k] = dcTotal * f;
      }
      addOuter(x + step * d, dz.data(), d, width, dParams[0].data.data());
      addOuter(hPrev, dz.data(), u, width, dParams[1].data.data());
      if (dims.useBias)
        for (int64_t j = 0; j < width; ++j)
          dParams[2].data[j] += dz[j];
      addMatVec(params[0].data.data(), dz.data(), d, width,
                dx.data.data() + step * d);
      std::fill(dhPrev.begin(), dhPrev.end(), 0.0);
      addMatVec(params[1].data.data(), dz.data(), u, width, dhPrev.data());
      dh = dhPrev;
    }
  }
  inputGrads.assign(1, std::move(dx));
  paramGrads = std::move(dParams);
  return true;
}

//===----------------------------------------------------------------------===//
// GRU (reset_after = true)
//===----------------------------------------------------------------------===//

/// What the GRU backward needs of every step, each [N, T, u]: the gates z
/// and r, the candidate hh, the recurrent candidate term hz_h = (h U +
/// b_rec)_h, and h_t; the state before step 0 is zero.
struct GruTrace {
  std::vector<double> update, reset, candidate, recurrentCandidate, hiddens;
};

/// Runs the GRU over x; fills the output and the trace.
void gruRun(const RecurrentDims &dims, const std::vector<RefTensor> &inputs,
            const std::vector<RefTensor> &params, RefTensor &out,
            GruTrace &trace) {
  const int64_t steps = dims.steps, d = dims.features, u = dims.units,
                width = dims.width;
  const double *x = inputs[0].data.data();
  size_t states = static_cast<size_t>(dims.batch * steps * u);
  for (std::vector<double> *v : {&trace.update, &trace.reset, &trace.candidate,
                                 &trace.recurrentCandidate, &trace.hiddens})
    v->assign(states, 0.0);
  std::vector<double> zeros(static_cast<size_t>(u), 0.0), xz(width), hz(width);
  for (int64_t n = 0; n < dims.batch; ++n) {
    for (int64_t t = 0; t < steps; ++t) {
      int64_t step = n * steps + t;
      const double *hPrev =
          t == 0 ? zeros.data() : &trace.hiddens[(step - 1) * u];
      for (int64_t j = 0; j < width; ++j) {
        xz[j] = dims.useBias ? params[2].data[j] : 0.0;
        hz[j] = dims.useBias ? params[2].data[width + j] : 0.0;
      }
      addVecMat(x + step * d, params[0].data.data(), d, width, xz.data());
      addVecMat(hPrev, params[1].data.data(), u, width, hz.data());
      for (int64_t k = 0; k < u; ++k) {
        int64_t s = step * u + k;
        double z = sigmoid(xz[k] + hz[k]);
        double r = sigmoid(xz[u + k] + hz[u + k]);
        double hh = std::tanh(xz[2 * u + k] + r * hz[2 * u + k]);
        trace.update[s] = z;
        trace.reset[s] = r;
        trace.candidate[s] = hh;
        trace.recurrentCandidate[s] = hz[2 * u + k];
        trace.hiddens[s] = z * hPrev[k] + (1.0 - z) * hh;
      }
      storeOutput(dims, n, t, &trace.hiddens[step * u], out);
    }
  }
}

bool gruForward(const std::vector<RefTensor> &inputs,
                const std::vector<RefTensor> &params, const Attrs &attrs,
                std::vector<RefTensor> &outputs, std::string &error) {
  RecurrentDims dims;
  RefTensor out;
  GruTrace trace;
  if (!runRecurrent("gru", 3, inputs, params, attrs, nullptr, gruRun, dims, out,
                    trace, error))
    return false;
  outputs.assign(1, std::move(out));
  return true;
}

bool gruBackward(const std::vector<RefTensor> &inputs,
                 const std::vector<RefTensor> &params, const Attrs &attrs,
                 const std::vector<RefTensor> & /*outputs*/,
                 const std::vector<RefTensor> &outputGrads,
                 std::vector<RefTensor> &inputGrads,
                 std::vector<RefTensor> &paramGrads, std::string &error) {
  RecurrentDims dims;
  RefTensor out;
  GruTrace trace;
  if (!runRecurrent("gru", 3, inputs, params, attrs, &outputGrads, gruRun, dims,
                    out, trace, error))
    return false;

  const int64_t steps = dims.steps, d = dims.features, u = dims.units,
                width = dims.width;
  const double *x = inputs[0].data.data();
  RefTensor dx(inputs[0].shape);
  std::vector<RefTensor> dParams = zerosLike(params);
  std::vector<double> zeros(static_cast<size_t>(u), 0.0), dh(u), dhPrev(u),
      dxz(width), dhz(width);
  for (int64_t n = 0; n < dims.batch; ++n) {
    std::fill(dh.begin(), dh.end(), 0.0); // from step t + 1
    for (int64_t t = steps - 1; t >= 0; --t) {
      int64_t step = n * steps + t;
      loadOutputGrad(dims, n, t, outputGrads[0], dh.data());
      const double *hPrev =
          t == 0 ? zeros.data() : &trace.hiddens[(step - 1) * u];
      for (int64_t k = 0; k < u; ++k) {
        int64_t s = step * u + k;
        double z = trace.update[s], r = trace.reset[s], hh = trace.candidate[s],
               hzH = trace.recurrentCandidate[s];
        double dCandidate = dh[k] * (1.0 - z) * (1.0 - hh * hh);
        double dUpdate = dh[k] * (hPrev[k] - hh) * z * (1.0 - z);
        double dReset = dCandidate * hzH * r * (1.0 - r);
        dxz[k] = dhz[k] = dUpdate;
        dxz[u + k] = dhz[u + k] = dReset;
        dxz[2 * u + k] = dCandidate;
        dhz[2 * u + k] = dCandidate * r;
        dhPrev[k] = dh[k] * z;
      }
      addOuter(x + step * d, dxz.data(), d, width, dParams[0].data.data());
      addOuter(hPrev, dhz.data(), u, width, dParams[1].data.data());
      if (dims.useBias)
        for (int64_t j = 0; j < width; ++j) {
          dParams[2].data[j] += dxz[j];
          dParams[2].data[width + j] += dhz[j];
        }
      addMatVec(params[0].data.data(), dxz.data(), d, width,
                dx.data.data() + step * d);
      addMatVec(params[1].data.data(), dhz.data(), u, width, dhPrev.data());
      dh = dhPrev;
    }
  }
  inputGrads.assign(1, std::move(dx));
  paramGrads = std::move(dParams);
  return true;
}

} // namespace

void registerRecurrentOps(RefRegistry &registry) {
  registry["lstm"] = RefOp{lstmForward, lstmBackward};
  registry["gru"] = RefOp{gruForward, gruBackward};
}

} // namespace dlc::ref
