//===- GradCheck.cpp ------------------------------------------------------===//
#include "test/reference/GradCheck.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace dlc::ref {

RefTensor randomTensor(std::vector<int64_t> shape, uint32_t seed, double low,
                       double high) {
  RefTensor t(std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(low, high);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

namespace {

/// L = sum_k sum_i outputs[k][i] * weights[k][i].
double weightedSum(const std::vector<RefTensor> &outputs,
                   const std::vector<RefTensor> &weights) {
  double sum = 0;
  for (size_t k = 0; k < outputs.size(); ++k)
    for (size_t i = 0; i < outputs[k].data.size(); ++i)
      sum += outputs[k].data[i] * weights[k].data[i];
  return sum;
}

} // namespace

GradCheckResult gradCheck(const RefOp &op, const std::vector<RefTensor> &inputs,
                          const std::vector<RefTensor> &params,
                          const Attrs &attrs,
                          const std::vector<int> &skipInputs, double h,
                          int64_t maxElements, uint32_t seed) {
  GradCheckResult result;
  std::vector<RefTensor> outputs;
  if (!op.forward(inputs, params, attrs, outputs, result.error))
    return result;
  std::vector<RefTensor> weights;
  for (size_t k = 0; k < outputs.size(); ++k)
    weights.push_back(randomTensor(outputs[k].shape, seed + 101 * k));
  std::vector<RefTensor> inputGrads, paramGrads;
  if (!op.backward(inputs, params, attrs, outputs, weights, inputGrads,
                   paramGrads, result.error))
    return result;

  auto numeric = [&](bool isParam, size_t which, size_t element,
                     double &value) {
    std::vector<RefTensor> in = inputs, ps = params;
    RefTensor &t = isParam ? ps[which] : in[which];
    double original = t.data[element];
    std::vector<RefTensor> out;
    t.data[element] = original + h;
    if (!op.forward(in, ps, attrs, out, result.error))
      return false;
    double plus = weightedSum(out, weights);
    t.data[element] = original - h;
    if (!op.forward(in, ps, attrs, out, result.error))
      return false;
    double minus = weightedSum(out, weights);
    value = (plus - minus) / (2 * h);
    return true;
  };

  auto check = [&](bool isParam, size_t which, const RefTensor &t,
                   const std::vector<RefTensor> &grads) {
    if (which >= grads.size() || grads[which].data.size() != t.data.size()) {
      result.error = std::string(isParam ? "param " : "input ") +
                     std::to_string(which) +
                     ": backward gave no gradient of the right size";
      return false;
    }
    int64_t n = t.size();
    int64_t stride =
        std::max<int64_t>(1, n / std::max<int64_t>(1, maxElements));
    for (int64_t e = 0; e < n; e += stride) {
      double value = 0;
      if (!numeric(isParam, which, static_cast<size_t>(e), value))
        return false;
      double analytic = grads[which].data[static_cast<size_t>(e)];
      double err =
          std::fabs(analytic - value) / std::max(1.0, std::fabs(value));
      if (err > result.worst || std::isnan(err)) {
        result.worst = std::isnan(err) ? INFINITY : err;
        result.where = std::string(isParam ? "param " : "input ") +
                       std::to_string(which) + " element " + std::to_string(e);
      }
    }
    return true;
  };

  for (size_t i = 0; i < inputs.size(); ++i) {
    if (std::find(skipInputs.begin(), skipInputs.end(), int(i)) !=
        skipInputs.end())
      continue;
    if (!check(false, i, inputs[i], inputGrads))
      return result;
  }
  for (size_t p = 0; p < params.size(); ++p)
    if (!check(true, p, params[p], paramGrads))
      return result;
  result.ok = true;
  return result;
}

} // namespace dlc::ref
