//===- ReferenceOpsTest.cpp - the reference covers the whole op catalog ---===//
#include "test/reference/ReferenceOps.h"
#include "ir/ShapeRules.h"

#include <gtest/gtest.h>

using namespace dlc;

TEST(ReferenceOps, EveryCatalogOpHasForwardAndBackward) {
  const ref::RefRegistry &ops = ref::referenceOps();
  for (const std::string &op : knownOps()) {
    auto it = ops.find(op);
    ASSERT_NE(it, ops.end()) << op << " has no reference implementation";
    EXPECT_TRUE(static_cast<bool>(it->second.forward)) << op;
    EXPECT_TRUE(static_cast<bool>(it->second.backward)) << op;
  }
  for (const auto &[name, op] : ops)
    EXPECT_TRUE(isKnownOp(name)) << name << " is not a catalog op";
}
