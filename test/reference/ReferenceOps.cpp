//===- ReferenceOps.cpp ---------------------------------------------------===//
#include "test/reference/ReferenceOps.h"

namespace dlc::ref {

RefTensor::RefTensor(std::vector<int64_t> s) : shape(std::move(s)) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  data.assign(static_cast<size_t>(n), 0.0);
}

const RefRegistry &referenceOps() {
  static const RefRegistry registry = [] {
    RefRegistry r;
    registerConvolutionOps(r);
    registerElementwiseOps(r);
    registerRecurrentOps(r);
    return r;
  }();
  return registry;
}

} // namespace dlc::ref
