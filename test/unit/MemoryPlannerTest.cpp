//===- MemoryPlannerTest.cpp - the arena plan on hand-built programs ------===//
//
// Hand-built kernel programs (chains, diamonds, reshape aliases, in-place
// candidates, workspaces, several functions sharing arguments, i32 and
// unbatched values) and hundreds of random DAGs, each checked by a
// brute-force verifier that recomputes the fixed offsets (persistent values,
// then arguments) and liveness on its own and compares every pair of
// placements; and the exact text of `--emit=plan` for a small program.
//
//===----------------------------------------------------------------------===//

#include "codegen/MemoryPlanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace dlc;
using namespace dlc::codegen;

namespace {

using Kind = KernelValue::Kind;

/// Builds programs by hand.
struct ProgramBuilder {
  KernelProgram program;

  explicit ProgramBuilder(int64_t maxBatch = 2) {
    program.modelName = "m";
    program.maxBatch = maxBatch;
  }

  int value(Kind kind, Shape shape, bool batched = true,
            ElementType type = ElementType::F32, std::string name = "") {
    KernelValue value;
    value.kind = kind;
    value.type.elementType = type;
    value.type.shape = std::move(shape);
    value.type.batched = batched;
    int id = static_cast<int>(program.values.size());
    value.name = name.empty() ? "%" + std::to_string(id) : name;
    program.values.push_back(value);
    return id;
  }
  int param(const std::string &name, Shape shape) {
    int id = value(Kind::Persistent, std::move(shape), false, ElementType::F32,
                   name);
    program.values[id].trainable = true;
    return id;
  }
  KernelFunction &function(const std::string &name,
                           const std::string &role = "predict") {
    program.functions.emplace_back();
    program.functions.back().name = name;
    program.functions.back().role = role;
    return program.functions.back();
  }
  int argument(size_t function, Shape shape, bool batched = true,
               ElementType type = ElementType::F32, std::string name = "") {
    int id = value(Kind::Argument, std::move(shape), batched, type, name);
    program.functions[function].arguments.push_back(id);
    return id;
  }
  /// Lists an existing Argument value as an argument of `function` too.
  int shareArgument(size_t function, int argument) {
    program.functions[function].arguments.push_back(argument);
    return argument;
  }
  /// A call with one result per entry of `results` (shapes, batched f32).
  std::vector<int> call(size_t function, const std::string &op,
                        std::vector<int> operands, std::vector<Shape> results,
                        Attrs attrs = {}, bool batched = true,
                        ElementType type = ElementType::F32) {
    KernelCall call;
    call.op = op;
    call.attrs = std::move(attrs);
    call.operands = std::move(operands);
    for (Shape &shape : results)
      call.results.push_back(
          value(Kind::Temporary, std::move(shape), batched, type));
    std::vector<int> ids = call.results;
    program.functions[function].calls.push_back(std::move(call));
    return ids;
  }
  int call1(size_t function, const std::string &op, std::vector<int> operands,
            Shape result, Attrs attrs = {}) {
    return call(function, op, std::move(operands), {std::move(result)},
                std::move(attrs))[0];
  }
  void returns(size_t function, std::vector<int> results) {
    program.functions[function].results = std::move(results);
  }
};

/// Test ops: "reshape" aliases; "relu"/"add" are in place on operand 0;
/// "ip1" is in place on operand 1; any call with an int attribute "ws" has
/// that workspace; "skip0" never reads operand 0; "wgrad" reads operand 0
/// only when result 1 gets a buffer, and is in place on operand 1.
CallMemory testCallMemory(const KernelFunction &, const KernelCall &call) {
  CallMemory memory;
  if (call.op == "skip0")
    memory.readsOperand = [](size_t operand, const std::vector<bool> &) {
      return operand != 0;
    };
  if (call.op == "wgrad") {
    memory.inPlaceOperand = 1;
    memory.readsOperand = [](size_t operand,
                             const std::vector<bool> &resultPassed) {
      return operand != 0 || (resultPassed.size() > 1 && resultPassed[1]);
    };
  }
  memory.workspaceBytes = getInt(call.attrs, "ws", 0);
  if (call.op == "reshape")
    memory.aliasesOperand = true;
  if (call.op == "relu" || call.op == "add")
    memory.inPlaceOperand = 0;
  if (call.op == "ip1")
    memory.inPlaceOperand = 1;
  return memory;
}

int64_t aligned(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/// Brute force: recomputes liveness and sharing from the program alone and
/// checks the plan against them; reports every violation.
void verifyPlan(const KernelProgram &program, const MemoryPlan &plan,
                const CallMemoryFn &callMemory) {
  ASSERT_TRUE(plan.ok()) << plan.error;
  ASSERT_EQ(plan.functions.size(), program.functions.size());
  const int eb = plan.elementBytes;
  EXPECT_EQ(plan.stepBase % 64, 0);
  ASSERT_EQ(plan.persistentOffset.size(), program.values.size());

  // Fixed values: the persistent ones packed first in value order, then
  // the arguments (of every function) packed in value order, each 64-byte
  // aligned; the step region starts right after them.
  int64_t cursor = 0;
  for (Kind kind : {Kind::Persistent, Kind::Argument}) {
    int64_t start = cursor;
    int64_t end = cursor; // of the last value, unaligned
    for (size_t v = 0; v < program.values.size(); ++v) {
      if (program.values[v].kind != kind)
        continue;
      int64_t offset = plan.persistentOffset[v];
      int64_t bytes = valueBytes(program, static_cast<int>(v), eb);
      EXPECT_EQ(offset % 64, 0) << "value " << v;
      EXPECT_EQ(offset, cursor) << "value " << v;
      EXPECT_LE(offset + bytes, plan.stepBase) << "value " << v;
      end = offset + bytes;
      cursor = offset + aligned(bytes);
    }
    if (kind == Kind::Persistent) {
      EXPECT_EQ(plan.persistentBytes, end);
    } else {
      EXPECT_EQ(plan.argumentBytes, cursor - start);
    }
  }
  EXPECT_EQ(plan.stepBase, cursor);
  // Temporaries have no fixed offset; fixed values never overlap.
  std::vector<int> fixed;
  for (size_t v = 0; v < program.values.size(); ++v) {
    bool isFixed = program.values[v].kind != Kind::Temporary;
    ASSERT_EQ(plan.persistentOffset[v] >= 0, isFixed) << "value " << v;
    if (isFixed)
      fixed.push_back(static_cast<int>(v));
  }
  auto overlaps = [](int64_t offsetA, int64_t bytesA, int64_t offsetB,
                     int64_t bytesB) {
    return bytesA > 0 && bytesB > 0 && offsetA < offsetB + bytesB &&
           offsetB < offsetA + bytesA;
  };
  for (size_t a = 0; a < fixed.size(); ++a)
    for (size_t b = a + 1; b < fixed.size(); ++b)
      EXPECT_FALSE(overlaps(
          plan.persistentOffset[fixed[a]], valueBytes(program, fixed[a], eb),
          plan.persistentOffset[fixed[b]], valueBytes(program, fixed[b], eb)))
          << "values " << fixed[a] << " and " << fixed[b];

  int64_t maxPeak = 0;
  for (size_t f = 0; f < program.functions.size(); ++f) {
    SCOPED_TRACE("function " + program.functions[f].name);
    const KernelFunction &function = program.functions[f];
    const FunctionPlan &fplan = plan.functions[f];
    int calls = static_cast<int>(function.calls.size());
    int end = std::max(calls - 1, 0);
    maxPeak = std::max(maxPeak, fplan.peakBytes);
    EXPECT_EQ(fplan.peakBytes % 64, 0);
    EXPECT_GE(fplan.peakBytes, fplan.lowerBound);

    // Independent liveness: a value lives to the last call that reads it;
    // one that calls list but none reads, during its own call.
    std::map<int, int> first, last;
    std::set<int> read, returned, listed;
    for (int arg : function.arguments)
      first[arg] = 0, last[arg] = 0;
    for (const KernelCall &call : function.calls)
      listed.insert(call.operands.begin(), call.operands.end());
    listed.insert(function.results.begin(), function.results.end());
    ASSERT_EQ(fplan.operandRead.size(), function.calls.size());
    for (int i = 0; i < calls; ++i) {
      const KernelCall &call = function.calls[i];
      CallMemory memory =
          callMemory ? callMemory(function, call) : CallMemory();
      std::vector<bool> passed;
      for (int result : call.results)
        passed.push_back(listed.count(result) > 0);
      ASSERT_EQ(fplan.operandRead[i].size(), call.operands.size());
      for (size_t j = 0; j < call.operands.size(); ++j) {
        bool reads = !memory.readsOperand || memory.readsOperand(j, passed);
        EXPECT_EQ(fplan.operandRead[i][j], reads) << "call " << i;
        EXPECT_EQ(plan.operandRead(f, i, j), reads) << "call " << i;
        int operand = call.operands[j];
        if (reads && program.values[operand].kind != Kind::Persistent)
          last[operand] = i, read.insert(operand);
      }
      for (int result : call.results) {
        first[result] = i, last[result] = i;
        if (listed.count(result))
          read.insert(result);
      }
    }
    for (int result : function.results)
      if (program.values[result].kind != Kind::Persistent)
        last[result] = end, read.insert(result), returned.insert(result);

    // Every Argument/Temporary value has a placement with that interval.
    ASSERT_EQ(fplan.buffers.size(), first.size());
    std::map<int, const BufferPlacement *> byValue;
    for (const BufferPlacement &buffer : fplan.buffers) {
      byValue[buffer.value] = &buffer;
      ASSERT_TRUE(first.count(buffer.value)) << buffer.value;
      EXPECT_EQ(buffer.firstCall, first[buffer.value]) << buffer.value;
      EXPECT_EQ(buffer.lastCall, last[buffer.value]) << buffer.value;
      bool isArgument = program.values[buffer.value].kind == Kind::Argument;
      EXPECT_EQ(buffer.unread, !isArgument && !read.count(buffer.value));
      if (buffer.unread) {
        EXPECT_EQ(plan.offsetOf(f, buffer.value), -1);
        continue;
      }
      EXPECT_EQ(buffer.bytes, valueBytes(program, buffer.value, eb));
      int64_t offset = plan.offsetOf(f, buffer.value);
      EXPECT_GE(offset, 0);
      EXPECT_EQ(offset % 64, 0) << buffer.value;
      if (!buffer.inPersistent) {
        EXPECT_EQ(offset, plan.stepBase + buffer.offset) << buffer.value;
        EXPECT_GE(buffer.offset, 0) << buffer.value;
        EXPECT_LE(buffer.offset + buffer.bytes, fplan.peakBytes);
      } else {
        EXPECT_EQ(offset, buffer.offset) << buffer.value;
        EXPECT_LE(offset + buffer.bytes, plan.stepBase) << buffer.value;
      }
      // An argument is at its fixed offset, the same in every function.
      if (isArgument) {
        EXPECT_TRUE(buffer.inPersistent) << buffer.value;
        EXPECT_EQ(buffer.aliasOf, -1) << buffer.value;
        EXPECT_EQ(buffer.offset, plan.persistentOffset[buffer.value]);
      }
      EXPECT_LE(offset + buffer.bytes, plan.arenaBytes);
    }

    // Sharing links are legal; roots of the shared buffers.
    std::map<int, int> root;
    std::function<int(int)> rootOf = [&](int value) {
      const BufferPlacement *buffer =
          byValue.count(value) ? byValue[value] : nullptr;
      if (!buffer || buffer->aliasOf < 0)
        return value;
      return rootOf(buffer->aliasOf);
    };
    // A buffer is fixed exactly when its sharing root is persistent or an
    // argument (then it is the root's bytes); else it is in the step region.
    for (const BufferPlacement &buffer : fplan.buffers) {
      if (buffer.unread)
        continue;
      int groupRoot = rootOf(buffer.value);
      bool rootFixed = program.values[groupRoot].kind != Kind::Temporary;
      EXPECT_EQ(buffer.inPersistent, rootFixed) << buffer.value;
      if (rootFixed) {
        EXPECT_EQ(buffer.offset, plan.persistentOffset[groupRoot])
            << buffer.value;
      }
    }
    for (int i = 0; i < calls; ++i) {
      const KernelCall &call = function.calls[i];
      CallMemory memory =
          callMemory ? callMemory(function, call) : CallMemory();
      for (size_t r = 0; r < call.results.size(); ++r) {
        const BufferPlacement &buffer = *byValue[call.results[r]];
        if (buffer.aliasOf < 0)
          continue;
        ASSERT_EQ(r, 0u) << "only result 0 may share";
        EXPECT_FALSE(buffer.unread);
        int operand = buffer.aliasOf;
        EXPECT_EQ(plan.offsetOf(f, operand), plan.offsetOf(f, call.results[0]));
        if (!buffer.inPlace) {
          EXPECT_TRUE(memory.aliasesOperand);
          EXPECT_EQ(operand, call.operands[0]);
          continue;
        }
        ASSERT_GE(memory.inPlaceOperand, 0);
        EXPECT_EQ(operand, call.operands[memory.inPlaceOperand]);
        EXPECT_EQ(valueBytes(program, operand, eb),
                  valueBytes(program, call.results[0], eb));
        int groupRoot = rootOf(operand);
        EXPECT_EQ(program.values[groupRoot].kind, Kind::Temporary);
        // Every value sharing the buffer and defined before this call is
        // dead after it, and no other operand reads the buffer.
        for (const BufferPlacement &other : fplan.buffers) {
          if (other.unread || other.firstCall >= i ||
              rootOf(other.value) != groupRoot)
            continue;
          EXPECT_LE(other.lastCall, i) << "value " << other.value;
          EXPECT_FALSE(returned.count(other.value));
          EXPECT_EQ(program.values[other.value].kind, Kind::Temporary);
        }
        EXPECT_TRUE(fplan.operandRead[i][memory.inPlaceOperand]);
        for (size_t j = 0; j < call.operands.size(); ++j) {
          if (static_cast<int>(j) != memory.inPlaceOperand &&
              fplan.operandRead[i][j] && byValue.count(call.operands[j])) {
            EXPECT_NE(rootOf(call.operands[j]), groupRoot);
          }
        }
      }
    }

    // Every pair of regions live at the same call must be disjoint unless
    // they share a buffer legally.
    struct Item {
      int64_t offset, bytes;
      int first, last;
      int root; // -1 for a workspace
    };
    std::vector<Item> items;
    for (const BufferPlacement &buffer : fplan.buffers)
      if (!buffer.unread && !buffer.inPersistent)
        items.push_back({plan.offsetOf(f, buffer.value), buffer.bytes,
                         buffer.firstCall, buffer.lastCall,
                         rootOf(buffer.value)});
    ASSERT_EQ(fplan.workspaceOffset.size(), function.calls.size());
    for (int i = 0; i < calls; ++i) {
      CallMemory memory =
          callMemory ? callMemory(function, function.calls[i]) : CallMemory();
      EXPECT_EQ(fplan.workspaceBytes[i], memory.workspaceBytes);
      if (memory.workspaceBytes == 0) {
        EXPECT_EQ(fplan.workspaceOffset[i], -1);
        continue;
      }
      EXPECT_EQ(fplan.workspaceOffset[i] % 64, 0);
      EXPECT_GE(fplan.workspaceOffset[i], 0);
      EXPECT_LE(fplan.workspaceOffset[i] + memory.workspaceBytes,
                fplan.peakBytes);
      items.push_back({plan.stepBase + fplan.workspaceOffset[i],
                       memory.workspaceBytes, i, i, -1});
    }
    // The step region never touches a fixed value (persistent or argument),
    // whether or not this function uses it.
    for (const Item &item : items)
      for (int value : fixed)
        EXPECT_FALSE(overlaps(item.offset, item.bytes,
                              plan.persistentOffset[value],
                              valueBytes(program, value, eb)))
            << "step bytes [" << item.offset << ", +" << item.bytes
            << ") over fixed value " << value;
    for (size_t a = 0; a < items.size(); ++a)
      for (size_t b = a + 1; b < items.size(); ++b) {
        const Item &x = items[a], &y = items[b];
        bool sameTime = x.first <= y.last && y.first <= x.last;
        bool sameBytes = overlaps(x.offset, x.bytes, y.offset, y.bytes);
        if (!sameTime || !sameBytes)
          continue;
        EXPECT_TRUE(x.root >= 0 && x.root == y.root && x.offset == y.offset)
            << "overlap: [" << x.offset << ", +" << x.bytes << ") live ["
            << x.first << ", " << x.last << "] and [" << y.offset << ", +"
            << y.bytes << ") live [" << y.first << ", " << y.last << "]";
      }

    // The lower bound: bytes of the distinct step buffers (no argument or
    // persistent value) and workspaces live at each call.
    std::map<int, std::pair<int, int>> groupLive;
    std::map<int, int64_t> groupBytes;
    for (const Item &item : items) {
      if (item.root < 0)
        continue;
      auto it = groupLive.find(item.root);
      if (it == groupLive.end()) {
        groupLive[item.root] = {item.first, item.last};
      } else {
        it->second.first = std::min(it->second.first, item.first);
        it->second.second = std::max(it->second.second, item.last);
      }
      groupBytes[item.root] =
          std::max(groupBytes[item.root], aligned(item.bytes));
    }
    int64_t lowerBound = 0;
    for (int i = 0; i <= end; ++i) {
      int64_t live = 0;
      for (const auto &[groupRoot, interval] : groupLive)
        if (interval.first <= i && i <= interval.second)
          live += groupBytes[groupRoot];
      if (i < calls)
        live += aligned(fplan.workspaceBytes[i]);
      lowerBound = std::max(lowerBound, live);
    }
    EXPECT_EQ(fplan.lowerBound, lowerBound);

    // The sums as if nothing shared memory: the step region's tensors
    // (in-place results count, views and arguments do not).
    int64_t tensors = 0, workspaces = 0;
    for (const BufferPlacement &buffer : fplan.buffers)
      if (!buffer.unread && !buffer.inPersistent &&
          (buffer.aliasOf < 0 || buffer.inPlace))
        tensors += valueBytes(program, buffer.value, eb);
    for (int64_t bytes : fplan.workspaceBytes)
      workspaces += bytes;
    EXPECT_EQ(fplan.tensorBytes, tensors);
    EXPECT_EQ(fplan.workspaceTotal, workspaces);
    EXPECT_EQ(fplan.sumBytes(), tensors + workspaces);
  }
  EXPECT_EQ(plan.arenaBytes, plan.stepBase + maxPeak);
}

MemoryPlan planAndVerify(const KernelProgram &program, int elementBytes = 4,
                         const CallMemoryFn &callMemory = testCallMemory) {
  MemoryPlan plan = planMemory(program, elementBytes, callMemory);
  verifyPlan(program, plan, callMemory);
  return plan;
}

const BufferPlacement &bufferOf(const MemoryPlan &plan, size_t function,
                                int value) {
  const FunctionPlan &fplan = plan.functions[function];
  return fplan.buffers[fplan.bufferIndex[value]];
}

TEST(ValueBytes, BatchElementSizeAndI32) {
  ProgramBuilder b(8);
  int batched = b.value(Kind::Temporary, {3, 5});
  int unbatched = b.value(Kind::Temporary, {3, 5}, false);
  int ids = b.value(Kind::Temporary, {7}, true, ElementType::I32);
  int scalar = b.value(Kind::Temporary, {}, false);
  EXPECT_EQ(valueBytes(b.program, batched, 4), 8 * 15 * 4);
  EXPECT_EQ(valueBytes(b.program, batched, 8), 8 * 15 * 8);
  EXPECT_EQ(valueBytes(b.program, unbatched, 8), 15 * 8);
  EXPECT_EQ(valueBytes(b.program, ids, 8), 8 * 7 * 4);
  EXPECT_EQ(valueBytes(b.program, scalar, 4), 4);
  EXPECT_EQ(valueBytes(b.program, -1, 4), -1);
  EXPECT_EQ(valueBytes(b.program, 99, 4), -1);
  EXPECT_EQ(valueBytes(b.program, batched, 0), -1);
  int huge = b.value(Kind::Temporary, {int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_EQ(valueBytes(b.program, huge, 4), -1);
  int negative = b.value(Kind::Temporary, {-1, 3});
  EXPECT_EQ(valueBytes(b.program, negative, 4), -1);
}

TEST(MemoryPlanner, ChainReachesTheLowerBound) {
  ProgramBuilder b(1);
  b.function("chain");
  int x = b.argument(0, {16});         // 64 bytes
  int a = b.call1(0, "f", {x}, {80});  // 320
  int c = b.call1(0, "f", {a}, {48});  // 192
  int d = b.call1(0, "f", {c}, {160}); // 640
  int e = b.call1(0, "f", {d}, {16});  // 64
  b.returns(0, {e});
  MemoryPlan plan = planAndVerify(b.program);
  // x is fixed at 0: the step region holds the temporaries only.
  EXPECT_EQ(plan.persistentOffset[x], 0);
  EXPECT_EQ(plan.argumentBytes, 64);
  EXPECT_EQ(plan.stepBase, 64);
  EXPECT_EQ(plan.functions[0].lowerBound, 192 + 640);
  EXPECT_EQ(plan.functions[0].peakBytes, plan.functions[0].lowerBound);
  EXPECT_EQ(plan.arenaBytes, 64 + 832);
}

TEST(MemoryPlanner, RandomChainsReachTheLowerBound) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    ProgramBuilder b(1 + rng() % 4);
    b.function("chain");
    int value = b.argument(0, {1 + static_cast<int64_t>(rng() % 200)});
    int length = 1 + rng() % 20;
    for (int i = 0; i < length; ++i)
      value = b.call1(0, "f", {value}, {1 + static_cast<int64_t>(rng() % 200)});
    b.returns(0, {value});
    MemoryPlan plan = planAndVerify(b.program);
    EXPECT_EQ(plan.functions[0].peakBytes, plan.functions[0].lowerBound);
  }
}

TEST(MemoryPlanner, DiamondKeepsBranchesApart) {
  ProgramBuilder b(4);
  b.function("diamond");
  int x = b.argument(0, {8});
  int left = b.call1(0, "f", {x}, {8});
  int right = b.call1(0, "f", {x}, {8});
  int joined = b.call1(0, "g", {left, right}, {8});
  b.returns(0, {joined});
  MemoryPlan plan = planAndVerify(b.program);
  // x is read until call 1 but sits at its fixed offset; left, right and
  // joined are live together at call 2.
  EXPECT_EQ(bufferOf(plan, 0, x).lastCall, 1);
  EXPECT_TRUE(bufferOf(plan, 0, x).inPersistent);
  EXPECT_EQ(plan.offsetOf(0, x), 0);
  EXPECT_EQ(plan.stepBase, 128);
  EXPECT_EQ(plan.functions[0].lowerBound, 3 * 128);
  EXPECT_EQ(plan.functions[0].peakBytes, 3 * 128);
  std::set<int64_t> offsets{plan.offsetOf(0, x), plan.offsetOf(0, left),
                            plan.offsetOf(0, right), plan.offsetOf(0, joined)};
  EXPECT_EQ(offsets.size(), 4u);
}

TEST(MemoryPlanner, ReshapeAliasesItsOperandAndExtendsItsLife) {
  ProgramBuilder b(2);
  b.function("alias");
  int x = b.argument(0, {4, 4});
  int a = b.call1(0, "f", {x}, {4, 4});
  int r = b.call1(0, "reshape", {a}, {16});
  int c = b.call1(0, "f", {x}, {16});
  int d = b.call1(0, "g", {r, c}, {16});
  b.returns(0, {d});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(plan.offsetOf(0, r), plan.offsetOf(0, a));
  EXPECT_EQ(bufferOf(plan, 0, r).aliasOf, a);
  EXPECT_FALSE(bufferOf(plan, 0, r).inPlace);
  // a's bytes stay live until call 3 (through r): c must not take them.
  EXPECT_NE(plan.offsetOf(0, c), plan.offsetOf(0, a));
  EXPECT_NE(plan.offsetOf(0, d), plan.offsetOf(0, a));
  EXPECT_EQ(plan.functions[0].lowerBound, 3 * 128);
}

TEST(MemoryPlanner, ReshapeOfArgumentAndPersistent) {
  ProgramBuilder b(2);
  int w = b.param("dense.kernel", {4, 4});
  b.function("alias");
  int x = b.argument(0, {4, 4});
  int rx = b.call1(0, "reshape", {x}, {16});
  int rw = b.call(0, "reshape", {w}, {{16}}, {}, false)[0];
  int y = b.call1(0, "relu", {rx}, {16});
  b.returns(0, {y, rw});
  MemoryPlan plan = planAndVerify(b.program);
  // w at 0 (64 bytes), x at 64 (128 bytes); the reshapes share their
  // fixed bytes.
  EXPECT_EQ(plan.persistentOffset[x], 64);
  EXPECT_EQ(plan.stepBase, 192);
  EXPECT_EQ(plan.offsetOf(0, x), 64);
  EXPECT_EQ(plan.offsetOf(0, rx), 64);
  EXPECT_TRUE(bufferOf(plan, 0, rx).inPersistent);
  EXPECT_EQ(bufferOf(plan, 0, rx).offset, 64);
  EXPECT_EQ(bufferOf(plan, 0, rx).aliasOf, x);
  EXPECT_EQ(plan.offsetOf(0, rw), plan.persistentOffset[w]);
  EXPECT_TRUE(bufferOf(plan, 0, rw).inPersistent);
  // relu may not write over the argument's bytes.
  EXPECT_EQ(bufferOf(plan, 0, y).aliasOf, -1);
  EXPECT_FALSE(bufferOf(plan, 0, y).inPersistent);
  EXPECT_EQ(plan.offsetOf(0, y), 192);
  // Only y is in the step region.
  EXPECT_EQ(plan.functions[0].lowerBound, 128);
  EXPECT_EQ(plan.functions[0].peakBytes, 128);
  EXPECT_EQ(plan.arenaBytes, 192 + 128);
}

TEST(MemoryPlanner, InPlaceWhenAllowed) {
  ProgramBuilder b(2);
  b.function("inplace");
  int x = b.argument(0, {32});
  int a = b.call1(0, "f", {x}, {32});
  int r = b.call1(0, "relu", {a}, {32});
  b.returns(0, {r});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_TRUE(bufferOf(plan, 0, r).inPlace);
  EXPECT_EQ(bufferOf(plan, 0, r).aliasOf, a);
  EXPECT_EQ(plan.offsetOf(0, r), plan.offsetOf(0, a));
  // One step buffer: x is fixed, r takes a's bytes.
  EXPECT_EQ(plan.functions[0].lowerBound, 256);
  EXPECT_EQ(plan.functions[0].peakBytes, 256);
}

TEST(MemoryPlanner, InPlaceRefusedCases) {
  ProgramBuilder b(2);
  b.function("refused");
  int x = b.argument(0, {32});
  // On an argument.
  int r0 = b.call1(0, "relu", {x}, {32});
  // Operand read later.
  int a = b.call1(0, "f", {r0}, {32});
  int r1 = b.call1(0, "relu", {a}, {32});
  // Different byte size.
  int r2 = b.call1(0, "relu", {r1}, {16});
  // The operand is a function result.
  int c = b.call1(0, "f", {r2}, {16});
  int r3 = b.call1(0, "relu", {c}, {16});
  // The operand also appears at another operand position.
  int e = b.call1(0, "f", {r3}, {16});
  int r4 = b.call1(0, "add", {e, e}, {16});
  // Through a reshape whose operand is read later.
  int g = b.call1(0, "f", {r4}, {16});
  int gr = b.call1(0, "reshape", {g}, {4, 4});
  int r5 = b.call1(0, "relu", {gr}, {4, 4});
  int h = b.call1(0, "g", {g, r5, a}, {16});
  b.returns(0, {h, c});
  MemoryPlan plan = planAndVerify(b.program);
  for (int refused : {r0, r1, r2, r3, r4, r5})
    EXPECT_EQ(bufferOf(plan, 0, refused).aliasOf, -1) << refused;
}

TEST(MemoryPlanner, InPlaceOnLaterOperandAndThroughReshape) {
  ProgramBuilder b(2);
  b.function("ip");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {16});
  int c = b.call1(0, "f", {x}, {16});
  int d = b.call1(0, "ip1", {a, c}, {16});
  int dr = b.call1(0, "reshape", {d}, {4, 4});
  int e = b.call1(0, "relu", {dr}, {4, 4});
  b.returns(0, {e, a});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_TRUE(bufferOf(plan, 0, d).inPlace);
  EXPECT_EQ(bufferOf(plan, 0, d).aliasOf, c);
  EXPECT_TRUE(bufferOf(plan, 0, e).inPlace);
  EXPECT_EQ(bufferOf(plan, 0, e).aliasOf, dr);
  EXPECT_EQ(plan.offsetOf(0, e), plan.offsetOf(0, c));
}

TEST(MemoryPlanner, WorkspacesLiveDuringTheirCall) {
  ProgramBuilder b(1);
  b.function("ws");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {16}, {{"ws", int64_t{100}}});
  int c = b.call1(0, "f", {a}, {16}, {{"ws", int64_t{1000}}});
  int d = b.call1(0, "f", {c}, {16});
  b.returns(0, {d});
  MemoryPlan plan = planAndVerify(b.program);
  const FunctionPlan &fplan = plan.functions[0];
  EXPECT_EQ(fplan.workspaceBytes, (std::vector<int64_t>{100, 1000, 0}));
  EXPECT_EQ(fplan.workspaceOffset[2], -1);
  EXPECT_EQ(fplan.lowerBound, 64 + 64 + 1024);
  EXPECT_EQ(fplan.peakBytes, fplan.lowerBound);
}

TEST(MemoryPlanner, FunctionsShareOneArenaAfterThePersistentValues) {
  ProgramBuilder b(4);
  int w = b.param("dense.kernel", {3, 5});
  int bias = b.param("dense.bias", {5});
  int slot = b.param("dense.kernel.adam_m", {3, 5});
  b.program.values[slot].optimizerState = true;
  b.function("small");
  int x = b.argument(0, {3});
  int y = b.call1(0, "dense", {x, w, bias}, {5});
  b.returns(0, {y});
  b.function("big", "train_step");
  int x2 = b.argument(1, {300});
  int y2 = b.call1(1, "f", {x2}, {300});
  b.call(1, "adam_update", {w, y2, slot}, {});
  b.returns(1, {y2});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(plan.persistentOffset[w], 0);
  EXPECT_EQ(plan.persistentOffset[bias], 64);
  EXPECT_EQ(plan.persistentOffset[slot], 128);
  EXPECT_EQ(plan.persistentBytes, 128 + 60);
  // Then the arguments of both functions, in value order: x (48 bytes),
  // x2 (4800 bytes).
  EXPECT_EQ(plan.persistentOffset[x], 192);
  EXPECT_EQ(plan.persistentOffset[x2], 256);
  EXPECT_EQ(plan.argumentBytes, 64 + 4800);
  EXPECT_EQ(plan.stepBase, 256 + 4800);
  // Each function's temporaries from the step base, on its own.
  EXPECT_EQ(plan.offsetOf(0, y), 5056);
  EXPECT_EQ(plan.offsetOf(1, y2), 5056);
  EXPECT_EQ(plan.functions[0].peakBytes, 128);
  EXPECT_EQ(plan.functions[1].peakBytes, 4800);
  EXPECT_EQ(plan.offsetOf(0, x), 192);
  EXPECT_EQ(plan.offsetOf(1, x2), 256);
  EXPECT_EQ(plan.offsetOf(0, w), 0);
  // Fixed values have their offset in every function; another function's
  // temporary has none.
  EXPECT_EQ(plan.offsetOf(0, x2), 256);
  EXPECT_EQ(plan.offsetOf(1, x), 192);
  EXPECT_EQ(plan.offsetOf(0, y2), -1);
  EXPECT_EQ(plan.offsetOf(1, y), -1);
  EXPECT_EQ(plan.offsetOf(2, y), -1);
  EXPECT_EQ(plan.arenaBytes, 5056 + 4800);
}

TEST(MemoryPlanner, FunctionsSharingArgumentsGetTheSameOffsets) {
  ProgramBuilder b(4);
  int w = b.param("dense.kernel", {3});
  b.function("train", "train_step");
  int x = b.argument(0, {8}); // 128 bytes
  int t = b.argument(0, {4}); // 64 bytes
  int a = b.call1(0, "f", {x, w}, {4});
  int loss = b.call(0, "loss", {a, t}, {{}}, {}, false)[0];
  b.returns(0, {loss});
  // Listed in the other order: the offsets follow value order.
  b.function("evaluate", "evaluate");
  b.shareArgument(1, t);
  b.shareArgument(1, x);
  int e = b.call1(1, "g", {x, w}, {16}); // 256 bytes
  int eloss = b.call(1, "loss", {e, t}, {{}}, {}, false)[0];
  b.returns(1, {eloss, e});
  // Reads x through a reshape, which shares its fixed bytes.
  b.function("predict", "predict");
  b.shareArgument(2, x);
  int flat = b.call1(2, "reshape", {x}, {2, 4});
  int y = b.call1(2, "relu", {flat}, {2, 4});
  b.returns(2, {y});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(plan.persistentOffset[w], 0);
  EXPECT_EQ(plan.persistentOffset[x], 64);
  EXPECT_EQ(plan.persistentOffset[t], 192);
  EXPECT_EQ(plan.argumentBytes, 128 + 64);
  EXPECT_EQ(plan.stepBase, 256);
  for (size_t f = 0; f < 3; ++f) {
    SCOPED_TRACE("function " + std::to_string(f));
    EXPECT_EQ(plan.offsetOf(f, x), 64);
    EXPECT_TRUE(bufferOf(plan, f, x).inPersistent);
    EXPECT_EQ(bufferOf(plan, f, x).offset, 64);
    if (f < 2) {
      EXPECT_EQ(plan.offsetOf(f, t), 192);
      EXPECT_TRUE(bufferOf(plan, f, t).inPersistent);
      EXPECT_EQ(bufferOf(plan, f, t).offset, 192);
    }
  }
  // Each function's step region holds its temporaries only.
  EXPECT_EQ(plan.offsetOf(0, a), 256);
  EXPECT_EQ(plan.functions[0].lowerBound, 64 + 64);
  EXPECT_EQ(plan.offsetOf(1, e), 256);
  EXPECT_EQ(plan.functions[1].lowerBound, 256 + 64);
  EXPECT_EQ(plan.offsetOf(2, flat), 64);
  EXPECT_TRUE(bufferOf(plan, 2, flat).inPersistent);
  EXPECT_EQ(bufferOf(plan, 2, y).aliasOf, -1); // not in place over x
  EXPECT_EQ(plan.offsetOf(2, y), 256);
  EXPECT_EQ(plan.functions[2].lowerBound, 128);
  EXPECT_EQ(plan.arenaBytes, 256 + 320);
}

TEST(MemoryPlanner, I32AndUnbatchedValues) {
  ProgramBuilder b(8);
  b.function("mixed", "evaluate");
  int ids = b.argument(0, {5}, true, ElementType::I32);
  int labels = b.argument(0, {}, true, ElementType::I32);
  int emb = b.call1(0, "embedding", {ids}, {5, 3});
  int loss = b.call(0, "loss", {emb, labels}, {{}}, {}, false)[0];
  b.returns(0, {loss});
  for (int eb : {4, 8}) {
    MemoryPlan plan = planAndVerify(b.program, eb);
    EXPECT_EQ(bufferOf(plan, 0, ids).bytes, 8 * 5 * 4);
    EXPECT_EQ(bufferOf(plan, 0, labels).bytes, 8 * 4);
    EXPECT_EQ(bufferOf(plan, 0, emb).bytes, 8 * 15 * eb);
    EXPECT_EQ(bufferOf(plan, 0, loss).bytes, eb);
    // i32 arguments are 4 bytes whatever the f32 size.
    EXPECT_EQ(plan.persistentOffset[ids], 0);
    EXPECT_EQ(plan.persistentOffset[labels], 192);
    EXPECT_EQ(plan.argumentBytes, 256);
    EXPECT_EQ(plan.stepBase, 256);
    EXPECT_EQ(plan.functions[0].lowerBound, aligned(8 * 15 * eb) + 64);
  }
}

TEST(MemoryPlanner, UnreadResultsTakeNoBytes) {
  ProgramBuilder b(2);
  b.function("grad", "gradients");
  int x = b.argument(0, {64});
  std::vector<int> out = b.call(0, "two", {x}, {{64}, {64}});
  int r = b.call1(0, "relu", {x}, {64});
  b.call(0, "reshape", {out[1]}, {{8, 8}});
  b.returns(0, {out[1], r});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_TRUE(bufferOf(plan, 0, out[0]).unread);
  EXPECT_EQ(plan.offsetOf(0, out[0]), -1);
  // out[1] and r at call 1 (x is fixed).
  EXPECT_EQ(plan.functions[0].lowerBound, 2 * 512);
}

TEST(MemoryPlanner, UnreadOperandsDoNotExtendLiveness) {
  // a feeds b; "skip0" lists a but does not read it, so a dies at b and
  // c may take its bytes.
  ProgramBuilder b(1);
  b.function("g");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {64});
  int c1 = b.call1(0, "f", {a}, {64});
  int c2 = b.call1(0, "f", {c1}, {64});
  int d = b.call1(0, "skip0", {a, c2}, {16});
  b.returns(0, {d});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(bufferOf(plan, 0, a).lastCall, 1);
  EXPECT_FALSE(bufferOf(plan, 0, a).unread);
  EXPECT_FALSE(plan.operandRead(0, 3, 0));
  EXPECT_TRUE(plan.operandRead(0, 3, 1));
  EXPECT_TRUE(plan.operandRead(0, 1, 0));
  EXPECT_TRUE(plan.operandRead(0, 9, 0)); // unknown calls read everything
  // a and c1 at call 1, c1 and c2 at call 2: two 256-byte buffers.
  EXPECT_EQ(plan.functions[0].lowerBound, 512);
  EXPECT_EQ(plan.functions[0].peakBytes, 512);
  // Reading every operand keeps a to call 3: three buffers.
  MemoryPlan reading = planAndVerify(
      b.program, 4, [](const KernelFunction &function, const KernelCall &call) {
        CallMemory memory = testCallMemory(function, call);
        memory.readsOperand = nullptr;
        return memory;
      });
  EXPECT_EQ(bufferOf(reading, 0, a).lastCall, 3);
  EXPECT_EQ(reading.functions[0].peakBytes, 768);
}

TEST(MemoryPlanner, ReadsMayDependOnWhichResultsArePassed) {
  ProgramBuilder b(1);
  b.function("g");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {64});
  int dy = b.call1(0, "f", {a}, {64});
  // wgrad(a, dy) -> (dx, dk): dk is listed nowhere, so a is not read.
  std::vector<int> grads = b.call(0, "wgrad", {a, dy}, {{64}, {8}});
  b.returns(0, {grads[0]});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_TRUE(bufferOf(plan, 0, grads[1]).unread);
  EXPECT_FALSE(plan.operandRead(0, 2, 0));
  EXPECT_EQ(bufferOf(plan, 0, a).lastCall, 1);
  // dx takes dy's bytes in place; a's are free by then.
  EXPECT_TRUE(bufferOf(plan, 0, grads[0]).inPlace);
  EXPECT_EQ(plan.functions[0].peakBytes, 512);

  // Returning dk makes wgrad read a.
  b.returns(0, {grads[0], grads[1]});
  MemoryPlan both = planAndVerify(b.program);
  EXPECT_TRUE(both.operandRead(0, 2, 0));
  EXPECT_EQ(bufferOf(both, 0, a).lastCall, 2);
  EXPECT_FALSE(bufferOf(both, 0, grads[1]).unread);
}

TEST(MemoryPlanner, ListedButUnreadResultLivesDuringItsCall) {
  ProgramBuilder b(1);
  b.function("g");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {64});
  int y = b.call1(0, "skip0", {a, x}, {16});
  b.returns(0, {y});
  MemoryPlan plan = planAndVerify(b.program);
  const BufferPlacement &buffer = bufferOf(plan, 0, a);
  EXPECT_FALSE(buffer.unread); // its kernel still gets a buffer to write
  EXPECT_EQ(buffer.firstCall, 0);
  EXPECT_EQ(buffer.lastCall, 0);
  EXPECT_GE(plan.offsetOf(0, a), 0);
  EXPECT_EQ(plan.functions[0].tensorBytes, 256 + 64); // not the argument
}

TEST(MemoryPlanner, EmptyProgramsAndFunctions) {
  ProgramBuilder b(2);
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(plan.arenaBytes, 0);
  b.function("identity");
  int x = b.argument(0, {3});
  b.returns(0, {x});
  plan = planAndVerify(b.program);
  EXPECT_EQ(plan.arenaBytes, 64);
  EXPECT_EQ(plan.stepBase, 64);
  EXPECT_EQ(plan.offsetOf(0, x), 0);
  EXPECT_EQ(plan.functions[0].lowerBound, 0);
  EXPECT_EQ(plan.functions[0].peakBytes, 0);
}

TEST(MemoryPlanner, MalformedProgramsAreErrorsNotCrashes) {
  auto planError = [](const KernelProgram &program) {
    return planMemory(program, 4, testCallMemory).error;
  };
  {
    ProgramBuilder b;
    b.function("f");
    b.call1(0, "f", {42}, {3});
    EXPECT_NE(planError(b.program).find("operand value 42"), std::string::npos);
  }
  {
    ProgramBuilder b;
    b.function("f");
    int x = b.argument(0, {3});
    int a = b.call1(0, "f", {x}, {3});
    b.program.functions[0].calls.push_back(b.program.functions[0].calls[0]);
    b.returns(0, {a});
    EXPECT_NE(planError(b.program).find("defined twice"), std::string::npos);
  }
  {
    ProgramBuilder b;
    b.function("f");
    int x = b.argument(0, {3});
    int later = b.value(Kind::Temporary, {3});
    b.call1(0, "f", {x, later}, {3});
    EXPECT_FALSE(planError(b.program).empty());
  }
  {
    ProgramBuilder b;
    b.function("f");
    b.function("g");
    int x = b.argument(0, {3});
    b.returns(1, {x}); // another function's argument
    EXPECT_FALSE(planError(b.program).empty());
  }
  {
    ProgramBuilder b(int64_t{1} << 40);
    b.function("f");
    int x = b.argument(0, {int64_t{1} << 30});
    b.returns(0, {x});
    EXPECT_NE(planError(b.program).find("no valid byte size"),
              std::string::npos);
  }
  {
    // Arguments that fit one by one but not together.
    ProgramBuilder b(1);
    b.function("f");
    b.function("g");
    int x = b.argument(0, {int64_t{1} << 60});
    int y = b.argument(1, {int64_t{1} << 60});
    b.returns(0, {x});
    b.returns(1, {y});
    EXPECT_FALSE(planError(b.program).empty());
  }
  {
    // Persistent values and arguments that do not fit together.
    ProgramBuilder b(1);
    b.param("w", {int64_t{1} << 60});
    b.function("f");
    int x = b.argument(0, {int64_t{1} << 60});
    b.returns(0, {x});
    EXPECT_FALSE(planError(b.program).empty());
  }
  {
    // Sizes that fit one by one but not together.
    ProgramBuilder b(1);
    b.function("f");
    int x = b.argument(0, {int64_t{1} << 60});
    int y = b.call1(0, "f", {x}, {int64_t{1} << 60});
    b.returns(0, {y, x});
    EXPECT_NE(planError(b.program).find("exceed"), std::string::npos);
  }
  {
    ProgramBuilder b;
    b.function("f");
    int x = b.argument(0, {3});
    b.call1(0, "f", {x}, {3}, {{"ws", int64_t{-5}}});
    EXPECT_NE(planError(b.program).find("negative workspace"),
              std::string::npos);
  }
  {
    // A reshape that changes the byte size cannot alias (and runs no kernel).
    ProgramBuilder b;
    b.function("f");
    int x = b.argument(0, {3});
    int r = b.call1(0, "reshape", {x}, {4});
    b.returns(0, {r});
    EXPECT_NE(planError(b.program).find("aliasing result"), std::string::npos);
  }
  ProgramBuilder b;
  EXPECT_FALSE(planMemory(b.program, 3, nullptr).ok());
  EXPECT_EQ(printPlan(b.program, planMemory(b.program, 3, nullptr)),
            "error: element size must be 4 or 8 bytes, got 3\n");
}

TEST(MemoryPlanner, NullCallMemoryMeansNoSharing) {
  ProgramBuilder b(2);
  b.function("f");
  int x = b.argument(0, {16});
  int a = b.call1(0, "f", {x}, {16});
  int r = b.call1(0, "reshape", {a}, {4, 4});
  b.returns(0, {r});
  MemoryPlan plan = planAndVerify(b.program, 4, nullptr);
  EXPECT_NE(plan.offsetOf(0, r), plan.offsetOf(0, a));
}

/// A random DAG over every feature: aliases, in-place candidates of equal
/// and different sizes, workspaces, multi-result calls, unread results,
/// i32 and unbatched values, persistent operands, several functions.
KernelProgram randomProgram(std::mt19937 &rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  ProgramBuilder b(1 + pick(5));
  std::vector<int> params;
  for (int p = pick(4); p > 0; --p)
    params.push_back(b.param("p" + std::to_string(p), {1 + pick(40)}));
  std::vector<int> arguments; // of every function so far
  for (int f = 0, functions = 1 + pick(3); f < functions; ++f) {
    b.function("f" + std::to_string(f));
    std::vector<int> available;
    // Some arguments of earlier functions (each at most once), then new ones.
    for (int argument : arguments)
      if (pick(2) == 0)
        available.push_back(b.shareArgument(f, argument));
    for (int a = 1 + pick(3); a > 0; --a)
      available.push_back(
          b.argument(f, {1 + pick(30)}, pick(4) != 0,
                     pick(5) == 0 ? ElementType::I32 : ElementType::F32));
    for (int argument : b.program.functions[f].arguments)
      if (std::find(arguments.begin(), arguments.end(), argument) ==
          arguments.end())
        arguments.push_back(argument);
    std::vector<int> candidates;
    for (int c = 1 + pick(30); c > 0; --c) {
      std::vector<int> operands;
      for (int o = 1 + pick(3); o > 0; --o)
        operands.push_back(available[pick(available.size())]);
      if (!params.empty() && pick(4) == 0)
        operands.insert(pick(2) ? operands.end() : operands.begin(),
                        params[pick(params.size())]);
      Attrs attrs;
      if (pick(4) == 0)
        attrs["ws"] = static_cast<int64_t>(pick(500));
      const KernelValue &first = b.program.values[operands[0]];
      int kind = pick(6);
      std::vector<int> results;
      if (kind == 0) {
        results = b.call(f, "reshape", {operands[0]}, {first.type.shape}, attrs,
                         first.type.batched, first.type.elementType);
      } else if (kind <= 2) {
        // In-place candidate: result 0 usually of operand 0's type.
        TensorInfo type = first.type;
        if (pick(4) == 0)
          type.shape = {1 + pick(30)};
        results = b.call(f, kind == 1 ? "relu" : "add", operands, {type.shape},
                         attrs, type.batched, type.elementType);
      } else {
        std::vector<Shape> shapes;
        for (int r = 1 + pick(3); r > 0; --r)
          shapes.push_back({1 + pick(30)});
        int op = pick(4);
        results = b.call(f, op == 0 ? "skip0" : (op == 1 ? "wgrad" : "f"),
                         operands, shapes, attrs, pick(5) != 0);
      }
      for (int result : results)
        if (pick(5) != 0)
          available.push_back(result);
      candidates.insert(candidates.end(), results.begin(), results.end());
    }
    std::vector<int> returned;
    for (int value : available)
      if (pick(4) == 0)
        returned.push_back(value);
    if (!params.empty() && pick(5) == 0)
      returned.push_back(params[0]);
    b.returns(f, returned);
  }
  return b.program;
}

TEST(MemoryPlanner, RandomDagsNeverOverlap) {
  std::mt19937 rng(12345);
  int inPlace = 0, aliases = 0, persistentAliases = 0, argumentAliases = 0;
  int sharedArguments = 0, unread = 0, workspaces = 0, atBound = 0;
  int functions = 0, unreadOperands = 0;
  for (int trial = 0; trial < 500; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    KernelProgram program = randomProgram(rng);
    MemoryPlan plan = planAndVerify(program, trial % 2 ? 8 : 4);
    if (HasFailure())
      return;
    std::map<int, int> listings; // argument -> functions listing it
    for (const KernelFunction &function : program.functions)
      for (int argument : function.arguments)
        ++listings[argument];
    for (const auto &[argument, count] : listings)
      sharedArguments += count > 1;
    for (const FunctionPlan &fplan : plan.functions) {
      for (const BufferPlacement &buffer : fplan.buffers) {
        inPlace += buffer.inPlace;
        aliases += buffer.aliasOf >= 0 && !buffer.inPlace;
        if (buffer.aliasOf >= 0 && buffer.inPersistent) {
          // The kind of the fixed value at the end of its alias chain (the
          // verifier checked that the chain ends there).
          int root = buffer.aliasOf;
          while (fplan.bufferIndex[root] >= 0 &&
                 fplan.buffers[fplan.bufferIndex[root]].aliasOf >= 0)
            root = fplan.buffers[fplan.bufferIndex[root]].aliasOf;
          persistentAliases += program.values[root].kind == Kind::Persistent;
          argumentAliases += program.values[root].kind == Kind::Argument;
        }
        unread += buffer.unread;
      }
      for (int64_t offset : fplan.workspaceOffset)
        workspaces += offset >= 0;
      for (const std::vector<bool> &reads : fplan.operandRead)
        unreadOperands += std::count(reads.begin(), reads.end(), false);
      atBound += fplan.peakBytes == fplan.lowerBound;
      ++functions;
    }
  }
  // The programs exercise every feature, and the heuristics mostly reach
  // the bound.
  EXPECT_GT(inPlace, 100);
  EXPECT_GT(aliases, 100);
  EXPECT_GT(persistentAliases, 10);
  EXPECT_GT(argumentAliases, 50);
  EXPECT_GT(sharedArguments, 100);
  EXPECT_GT(unread, 100);
  EXPECT_GT(workspaces, 100);
  EXPECT_GT(unreadOperands, 100);
  EXPECT_GT(atBound * 3, functions * 2);
}

TEST(MemoryPlanner, PlanIsDeterministic) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 20; ++trial) {
    KernelProgram program = randomProgram(rng);
    std::string first =
        printPlan(program, planMemory(program, 4, testCallMemory));
    EXPECT_EQ(first,
              printPlan(program, planMemory(program, 4, testCallMemory)));
  }
}

TEST(PrintPlan, SmallProgram) {
  ProgramBuilder b(32);
  b.program.modelName = "tiny";
  int w = b.param("dense.kernel", {4, 3});
  int bias = b.param("dense.bias", {3});
  b.program.values[bias].trainable = false;
  b.function("tiny", "predict");
  int x = b.argument(0, {2, 2}, true, ElementType::F32, "image");
  int flat = b.call1(0, "reshape", {x}, {4});
  int y = b.call1(0, "dense", {flat, w, bias}, {3}, {{"ws", int64_t{256}}});
  b.program.functions[0].calls[1].location = "dense (tiny.dl:4:3)";
  int r = b.call1(0, "relu", {y}, {3});
  b.returns(0, {r});
  MemoryPlan plan = planAndVerify(b.program);
  EXPECT_EQ(
      printPlan(b.program, plan),
      "memory plan for tiny: max batch 32, f32 as float (4 bytes)\n"
      "persistent:\n"
      "  dense.kernel  f32[4, 3]      48 bytes   @0    trainable\n"
      "  dense.bias    f32[3]         12 bytes   @64   frozen\n"
      "  image         f32[32, 2, 2]  512 bytes  @128  argument\n"
      "persistent: 76 bytes, arguments: 512 bytes, step base: @640\n"
      "arena: 1280 bytes\n"
      "\n"
      "function tiny (predict): 3 calls\n"
      "  buffers:\n"
      "    image  f32[32, 2, 2]  512 bytes  [0, 0]  @128\n"
      "    %3     f32[32, 4]     512 bytes  [0, 1]  @128  alias of image\n"
      "    %4     f32[32, 3]     384 bytes  [1, 2]  @640\n"
      "    %5     f32[32, 3]     384 bytes  [2, 2]  @640  in place of %4\n"
      "  kernels:\n"
      "    #0  reshape  -                    (image@128) -> (%3@128)\n"
      "    #1  dense    dense (tiny.dl:4:3)  (%3@128, dense.kernel@0, "
      "dense.bias@64) -> (%4@640)  workspace 256 bytes @1024\n"
      "    #2  relu     -                    (%4@640) -> (%5@640)\n"
      "  peak: 640 bytes (lower bound: 640 bytes)\n"
      "  sum: 1024 bytes (tensors 768 + workspaces 256); peak/lower bound: "
      "1.000, peak/sum: 0.625\n"
      "\n"
      "summary: arena 1280 bytes; largest step peak 640 bytes (tiny, lower "
      "bound 640 bytes); sum: 1024 bytes (tensors 768 + workspaces 256); "
      "peak/lower bound: 1.000, peak/sum: 0.625\n");
}

} // namespace
