//===- GradCheck.h - central finite differences against a backward rule
//----===//
#ifndef DLC_TEST_REFERENCE_GRADCHECK_H
#define DLC_TEST_REFERENCE_GRADCHECK_H

#include "test/reference/ReferenceOps.h"

#include <string>
#include <vector>

namespace dlc::ref {

/// The outcome of one gradient check: the worst relative error over every
/// checked element, and where it was.
struct GradCheckResult {
  bool ok = false;   // the op ran; `worst` is meaningful
  std::string error; // why it did not run
  double worst = 0;  // max |analytic - numeric| / max(1, |numeric|)
  std::string where; // "input 0 element 17" / "param 1 element 3"
};

/// Checks `op`'s backward against central differences of its forward for
/// the scalar L = sum(outputs[k] * weights[k]) with fixed random weights
/// (seeded), perturbing every element of every float input and parameter
/// (at most `maxElements` per tensor, spread evenly) by +-h. Inputs listed
/// in `skipInputs` (labels, ids) are not perturbed.
GradCheckResult gradCheck(const RefOp &op, const std::vector<RefTensor> &inputs,
                          const std::vector<RefTensor> &params,
                          const Attrs &attrs,
                          const std::vector<int> &skipInputs = {},
                          double h = 1e-6, int64_t maxElements = 64,
                          uint32_t seed = 1);

/// A tensor of `shape` with values uniform in [low, high) from `seed`.
RefTensor randomTensor(std::vector<int64_t> shape, uint32_t seed,
                       double low = -1.0, double high = 1.0);

} // namespace dlc::ref

#endif // DLC_TEST_REFERENCE_GRADCHECK_H
