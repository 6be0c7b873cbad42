//===- ReferenceOps.h - float64 reference semantics of every dl op
//---------===//
//
// Plain, obviously-correct loops in double precision for the forward and
// backward (vector-Jacobian product) of every op of the catalog in
// ir/ShapeRules.h. They are the oracle that generated kernels are tested
// against, and their backward rules are checked against central finite
// differences of their forward (test/unit/ReferenceOpsTest.cpp).
//
// Tensors here include the batch: a per-example value of catalog shape
// [H, W, C] is a RefTensor of shape [N, H, W, C]; a loss is shape [].
// Parameters have their catalog shapes. Attributes are the catalog's, plus:
//   `training` (bool, default false): batchnorm uses batch statistics and
//     dropout drops (inference: moving statistics / identity);
//   `seed` (int): dropout's Philox key; the mask of element i of the batch
//     is PhiloxStream(seed, seed_offset).uniformAt(i) < rate.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_REFERENCE_REFERENCEOPS_H
#define DLC_TEST_REFERENCE_REFERENCEOPS_H

#include "ir/Attrs.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dlc::ref {

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data; // row-major, size = product of shape

  RefTensor() = default;
  explicit RefTensor(std::vector<int64_t> s);
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

/// One op's forward: data inputs and parameters (catalog operand order; a
/// missing bias is simply absent) to its outputs. Returns false with `error`
/// for inputs it cannot handle.
using ForwardFn = std::function<bool(
    const std::vector<RefTensor> &inputs, const std::vector<RefTensor> &params,
    const Attrs &attrs, std::vector<RefTensor> &outputs, std::string &error)>;

/// One op's backward: given the forward's operands and outputs and the
/// gradients of the outputs, fills the gradients of every input and every
/// parameter (same shapes as they are; inputs that are not differentiable,
/// such as i32 labels or ids, get an empty tensor).
using BackwardFn = std::function<bool(
    const std::vector<RefTensor> &inputs, const std::vector<RefTensor> &params,
    const Attrs &attrs, const std::vector<RefTensor> &outputs,
    const std::vector<RefTensor> &outputGrads,
    std::vector<RefTensor> &inputGrads, std::vector<RefTensor> &paramGrads,
    std::string &error)>;

struct RefOp {
  ForwardFn forward;
  BackwardFn backward;
};

/// name -> implementation. Each ops file adds its ops with a register
/// function called from referenceOps().
using RefRegistry = std::map<std::string, RefOp>;

void registerConvolutionOps(RefRegistry &registry); // ConvolutionRef.cpp
void registerElementwiseOps(RefRegistry &registry); // ElementwiseRef.cpp
void registerRecurrentOps(RefRegistry &registry);   // RecurrentRef.cpp

/// Every op with a reference implementation.
const RefRegistry &referenceOps();

} // namespace dlc::ref

#endif // DLC_TEST_REFERENCE_REFERENCEOPS_H
