//===- MemoryPlanner.cpp - one arena for every tensor of a program --------===//

#include "codegen/MemoryPlanner.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

namespace dlc::codegen {
namespace {

constexpr int64_t kAlignment = 64;
constexpr int kNotDefined = -2;
constexpr int kArgument = -1;

/// `bytes` rounded up to kAlignment, or false on overflow.
bool alignUp(int64_t bytes, int64_t &out) {
  if (bytes < 0 || bytes > std::numeric_limits<int64_t>::max() - kAlignment)
    return false;
  out = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return true;
}

/// a + b for non-negative a and b, at most int64's maximum.
int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum)
             ? std::numeric_limits<int64_t>::max()
             : sum;
}

std::string callName(const KernelFunction &function, size_t index) {
  return "function " + function.name + ", call " + std::to_string(index) +
         " (" + function.calls[index].op + ")";
}

/// A region placed by best fit: a buffer shared by some values, or a
/// workspace.
struct Region {
  int64_t bytes = 0; ///< aligned
  int first = 0;
  int last = 0;
  int64_t offset = 0;
};

/// Places `regions` one by one in `order`, each in the free gap (between
/// the placed regions that overlap it in time) that wastes least. With
/// `capacity` < 0 the space is unbounded and a region that fits no gap goes
/// above the others; else every region must fit below `capacity` and one in
/// the gap under the top goes to the top of it (so neighbours in time
/// alternate between the two ends). Returns the peak, or -1 when a region
/// does not fit. Sizes are multiples of kAlignment and their sum fits in
/// int64, so no offset overflows.
int64_t placeInOrder(std::vector<Region> &regions,
                     const std::vector<size_t> &order, int64_t capacity) {
  std::vector<size_t> placed; // by offset
  int64_t peak = 0;
  for (size_t index : order) {
    Region &region = regions[index];
    region.offset = 0;
    if (region.bytes == 0)
      continue;
    int64_t bestOffset = -1;
    int64_t bestWaste = 0;
    auto consider = [&](int64_t begin, int64_t end) {
      int64_t gap = end - begin;
      if (gap < region.bytes ||
          (bestOffset >= 0 && gap - region.bytes >= bestWaste))
        return;
      bool top = end == capacity && begin > 0;
      bestOffset = top ? end - region.bytes : begin;
      bestWaste = gap - region.bytes;
    };
    int64_t cursor = 0;
    for (size_t other : placed) {
      const Region &p = regions[other];
      if (p.first > region.last || region.first > p.last)
        continue;
      if (p.offset > cursor)
        consider(cursor, p.offset);
      cursor = std::max(cursor, p.offset + p.bytes);
    }
    if (capacity >= 0) {
      if (cursor < capacity)
        consider(cursor, capacity);
      if (bestOffset < 0)
        return -1;
    } else if (bestOffset < 0) {
      bestOffset = cursor;
    }
    region.offset = bestOffset;
    peak = std::max(peak, region.offset + region.bytes);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), index,
                                   [&](size_t a, size_t b) {
                                     return regions[a].offset <
                                            regions[b].offset;
                                   }),
                  index);
  }
  return peak;
}

/// Places `regions` with a peak as close to `lowerBound` as the heuristics
/// get: best fit biggest first with no bound, then (when that is above the
/// bound) best fit under a capacity found by bisection, in time order and
/// biggest first. Returns the peak.
int64_t placeRegions(std::vector<Region> &regions, int64_t lowerBound) {
  std::vector<size_t> bySize(regions.size());
  std::iota(bySize.begin(), bySize.end(), size_t{0});
  std::vector<size_t> byTime = bySize;
  std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) {
    const Region &x = regions[a], &y = regions[b];
    if (x.bytes != y.bytes)
      return x.bytes > y.bytes;
    if (x.first != y.first)
      return x.first < y.first;
    return x.last > y.last;
  });
  std::stable_sort(byTime.begin(), byTime.end(), [&](size_t a, size_t b) {
    const Region &x = regions[a], &y = regions[b];
    if (x.first != y.first)
      return x.first < y.first;
    if (x.bytes != y.bytes)
      return x.bytes > y.bytes;
    return x.last > y.last;
  });
  int64_t bestPeak = placeInOrder(regions, bySize, -1);
  std::vector<Region> best = regions;
  // Bisect the capacity between the bound (which may be unreachable) and
  // the best peak so far; a fit is not monotone in the capacity, so this
  // only keeps the best one it meets.
  // Each attempt costs up to n^2 steps: fewer attempts for big functions.
  int64_t n = static_cast<int64_t>(regions.size());
  int64_t attempts =
      n == 0 ? 0 : std::clamp<int64_t>(int64_t{300000000} / n / n, 1, 16);
  int64_t low = lowerBound - kAlignment; // known not to be better
  int64_t high = bestPeak;
  for (int64_t step = 0; step < attempts && high - low > kAlignment; ++step) {
    int64_t capacity = step == 0
                           ? lowerBound
                           : low + (high - low) / 2 / kAlignment * kAlignment;
    if (capacity <= low)
      capacity = low + kAlignment;
    bool fitted = false;
    for (const std::vector<size_t> *order : {&byTime, &bySize}) {
      int64_t peak = placeInOrder(regions, *order, capacity);
      if (peak >= 0 && peak < bestPeak) {
        bestPeak = peak;
        best = regions;
      }
      if (peak >= 0) {
        fitted = true;
        break;
      }
    }
    if (fitted)
      high = capacity;
    else
      low = capacity;
  }
  regions = std::move(best);
  return bestPeak;
}

/// Plans one function; returns an error message or "".
class FunctionPlanner {
public:
  FunctionPlanner(const KernelProgram &program, const KernelFunction &function,
                  const MemoryPlan &plan, const CallMemoryFn &callMemory)
      : program(program), function(function), plan(plan),
        callMemory(callMemory) {}

  std::string run(FunctionPlan &out);

private:
  std::string validate();
  std::string shareBuffers();
  int find(int value) {
    while (parent[value] != value) {
      parent[value] = parent[parent[value]];
      value = parent[value];
    }
    return value;
  }
  void join(int value, int root) {
    parent[value] = root;
    groupBytes[root] = std::max(groupBytes[root], alignedBytes[value]);
    groupLast[root] = std::max(groupLast[root], lastUse[value]);
    groupReturned[root] = groupReturned[root] || returned[value];
  }
  bool isRead(int value) const { return lastUse[value] >= 0; }
  bool isTemporary(int value) const {
    return program.values[value].kind == KernelValue::Kind::Temporary;
  }

  const KernelProgram &program;
  const KernelFunction &function;
  const MemoryPlan &plan;
  const CallMemoryFn &callMemory;

  int endCall = 0;            ///< the last call index (0 for an empty function)
  std::vector<int> defCall;   ///< kArgument, a call index, or kNotDefined
  std::vector<int> lastUse;   ///< last reading call (endCall if returned)
  std::vector<int64_t> bytes; ///< valueBytes
  std::vector<int64_t> alignedBytes;
  std::vector<CallMemory> memory; ///< per call
  std::vector<int> parent;        ///< union-find over shared buffers
  std::vector<int64_t> groupBytes;
  std::vector<int> groupLast;
  std::vector<bool> returned; ///< a function result
  std::vector<bool> groupReturned;
  std::vector<int> sharesWith; ///< the operand whose bytes a value took
  std::vector<bool> inPlace;
  std::vector<std::vector<bool>> operandRead; ///< per call, per operand
};

std::string FunctionPlanner::validate() {
  size_t count = program.values.size();
  auto valid = [&](int value) {
    return value >= 0 && static_cast<size_t>(value) < count;
  };
  defCall.assign(count, kNotDefined);
  lastUse.assign(count, -1);
  returned.assign(count, false);
  bytes.assign(count, 0);
  alignedBytes.assign(count, 0);
  endCall = function.calls.empty()
                ? 0
                : static_cast<int>(std::min<size_t>(
                      function.calls.size() - 1,
                      static_cast<size_t>(std::numeric_limits<int>::max())));
  if (function.calls.size() >
      static_cast<size_t>(std::numeric_limits<int>::max()))
    return "function " + function.name + " has too many calls";

  auto measure = [&](int value) -> bool {
    bytes[value] = valueBytes(program, value, plan.elementBytes);
    return bytes[value] >= 0 && alignUp(bytes[value], alignedBytes[value]);
  };
  auto tooLarge = [&](int value) {
    return "function " + function.name + ": value " + std::to_string(value) +
           " (" + program.values[value].name + ") has no valid byte size";
  };

  for (int arg : function.arguments) {
    if (!valid(arg) || program.values[arg].kind != KernelValue::Kind::Argument)
      return "function " + function.name + ": argument value " +
             std::to_string(arg) + " is not an Argument value";
    if (defCall[arg] != kNotDefined)
      return "function " + function.name + ": argument value " +
             std::to_string(arg) + " is listed twice";
    defCall[arg] = kArgument;
    if (!measure(arg))
      return tooLarge(arg);
  }
  auto available = [&](int value) {
    return program.values[value].kind == KernelValue::Kind::Persistent ||
           defCall[value] != kNotDefined;
  };
  memory.assign(function.calls.size(), CallMemory());
  std::vector<bool> listed(count, false); // an operand of some call
  for (size_t i = 0; i < function.calls.size(); ++i) {
    const KernelCall &call = function.calls[i];
    for (int operand : call.operands) {
      if (!valid(operand) || !available(operand))
        return callName(function, i) + ": operand value " +
               std::to_string(operand) + " is not defined before the call";
      listed[operand] = true;
    }
    for (int result : call.results) {
      if (!valid(result) || !isTemporary(result))
        return callName(function, i) + ": result value " +
               std::to_string(result) + " is not a Temporary value";
      if (defCall[result] != kNotDefined)
        return callName(function, i) + ": result value " +
               std::to_string(result) + " is defined twice";
      defCall[result] = static_cast<int>(i);
      if (!measure(result))
        return tooLarge(result);
    }
    if (callMemory)
      memory[i] = callMemory(function, call);
    if (memory[i].workspaceBytes < 0)
      return callName(function, i) + ": negative workspace size";
    int64_t aligned = 0;
    if (!alignUp(memory[i].workspaceBytes, aligned))
      return callName(function, i) + ": workspace too large";
  }
  for (int result : function.results) {
    if (!valid(result) || !available(result))
      return "function " + function.name + ": result value " +
             std::to_string(result) + " is not defined";
    returned[result] = true;
  }
  // Liveness from the operands each call reads; a result gets a buffer
  // when some call lists it or the function returns it.
  operandRead.assign(function.calls.size(), {});
  for (size_t i = 0; i < function.calls.size(); ++i) {
    const KernelCall &call = function.calls[i];
    std::vector<bool> resultPassed;
    for (int result : call.results)
      resultPassed.push_back(listed[result] || returned[result]);
    std::vector<bool> &reads = operandRead[i];
    for (size_t j = 0; j < call.operands.size(); ++j)
      reads.push_back(!memory[i].readsOperand ||
                      memory[i].readsOperand(j, resultPassed));
    for (size_t j = 0; j < call.operands.size(); ++j)
      if (reads[j])
        lastUse[call.operands[j]] = static_cast<int>(i);
  }
  for (int result : function.results)
    lastUse[result] = endCall;
  for (size_t i = 0; i < function.calls.size(); ++i)
    for (int result : function.calls[i].results)
      if (listed[result] && lastUse[result] < 0)
        lastUse[result] = static_cast<int>(i); // listed, never read
  return "";
}

std::string FunctionPlanner::shareBuffers() {
  size_t count = program.values.size();
  parent.resize(count);
  std::iota(parent.begin(), parent.end(), 0);
  groupBytes = alignedBytes;
  groupLast = lastUse;
  groupReturned = returned;
  sharesWith.assign(count, -1);
  inPlace.assign(count, false);
  for (size_t i = 0; i < function.calls.size(); ++i) {
    const KernelCall &call = function.calls[i];
    const CallMemory &mem = memory[i];
    if (call.results.empty() || !isRead(call.results[0]))
      continue;
    int result = call.results[0];
    if (mem.aliasesOperand) {
      // No kernel runs: result 0 must be operand 0's bytes exactly.
      if (call.operands.empty() ||
          valueBytes(program, call.operands[0], plan.elementBytes) !=
              bytes[result])
        return callName(function, i) +
               ": an aliasing result must have its operand's byte size";
      sharesWith[result] = call.operands[0];
      join(result, find(call.operands[0]));
      continue;
    }
    if (mem.inPlaceOperand < 0 ||
        static_cast<size_t>(mem.inPlaceOperand) >= call.operands.size())
      continue;
    int operand = call.operands[mem.inPlaceOperand];
    int root = find(operand);
    if (!isTemporary(root) || groupBytes[root] != alignedBytes[result] ||
        bytes[operand] != bytes[result] ||
        groupLast[root] != static_cast<int>(i) || groupReturned[root])
      continue;
    if (!operandRead[i][mem.inPlaceOperand])
      continue;
    bool usedElsewhere = false;
    for (size_t j = 0; j < call.operands.size(); ++j)
      if (j != static_cast<size_t>(mem.inPlaceOperand) && operandRead[i][j] &&
          find(call.operands[j]) == root)
        usedElsewhere = true;
    if (usedElsewhere)
      continue;
    sharesWith[result] = operand;
    inPlace[result] = true;
    join(result, root);
  }
  return "";
}

std::string FunctionPlanner::run(FunctionPlan &out) {
  out = FunctionPlan();
  out.function = function.name;
  if (std::string error = validate(); !error.empty())
    return error;
  if (std::string error = shareBuffers(); !error.empty())
    return error;

  // The values with a buffer: arguments, then results in call order.
  std::vector<int> members(function.arguments);
  for (const KernelCall &call : function.calls)
    members.insert(members.end(), call.results.begin(), call.results.end());

  // One region per shared buffer whose root is not persistent, then one per
  // workspace.
  std::vector<Region> regions;
  std::vector<int> regionOf(program.values.size(), -1);
  for (int value : members) {
    if (defCall[value] >= 0 && !isRead(value))
      continue;
    int root = find(value);
    if (!isTemporary(root)) // persistent or argument: a fixed offset
      continue;
    int first = defCall[value] == kArgument ? 0 : defCall[value];
    int last = std::max(first, lastUse[value]);
    if (regionOf[root] < 0) {
      regionOf[root] = static_cast<int>(regions.size());
      regions.push_back({groupBytes[root], first, last, 0});
    } else {
      Region &region = regions[regionOf[root]];
      region.first = std::min(region.first, first);
      region.last = std::max(region.last, last);
    }
  }
  std::vector<int> workspaceRegion(function.calls.size(), -1);
  for (size_t i = 0; i < function.calls.size(); ++i) {
    int64_t aligned = 0;
    alignUp(memory[i].workspaceBytes, aligned);
    if (aligned == 0)
      continue;
    workspaceRegion[i] = static_cast<int>(regions.size());
    regions.push_back({aligned, static_cast<int>(i), static_cast<int>(i), 0});
  }

  int64_t total = 0;
  for (const Region &region : regions)
    if (__builtin_add_overflow(total, region.bytes, &total))
      return "function " + function.name + ": buffers exceed int64 bytes";
  if (total > std::numeric_limits<int64_t>::max() - plan.stepBase)
    return "function " + function.name + ": buffers exceed int64 bytes";
  // The bytes live at each call (totals are <= `total`), then offsets.
  std::vector<int64_t> liveDelta(static_cast<size_t>(endCall) + 2, 0);
  for (const Region &region : regions) {
    liveDelta[region.first] += region.bytes;
    liveDelta[static_cast<size_t>(region.last) + 1] -= region.bytes;
  }
  int64_t live = 0;
  for (int i = 0; i <= endCall; ++i) {
    live += liveDelta[i];
    out.lowerBound = std::max(out.lowerBound, live);
  }
  out.peakBytes = placeRegions(regions, out.lowerBound);
  out.operandRead = operandRead;

  out.bufferIndex.assign(program.values.size(), -1);
  for (int value : members) {
    BufferPlacement placement;
    placement.value = value;
    placement.firstCall = defCall[value] == kArgument ? 0 : defCall[value];
    placement.lastCall = std::max(placement.firstCall, lastUse[value]);
    placement.aliasOf = sharesWith[value];
    placement.inPlace = inPlace[value];
    if (defCall[value] >= 0 && !isRead(value)) {
      placement.unread = true;
      placement.offset = -1;
    } else {
      placement.bytes = bytes[value];
      int root = find(value);
      if (regionOf[root] >= 0) {
        placement.offset = regions[regionOf[root]].offset;
        // A view (reshape) is not a tensor of its own; an in-place result
        // is (a plan without reuse would give it its own buffer).
        if (placement.aliasOf < 0 || placement.inPlace)
          out.tensorBytes = saturatingAdd(out.tensorBytes, bytes[value]);
      } else {
        placement.inPersistent = true;
        placement.offset = plan.persistentOffset[root];
      }
    }
    out.bufferIndex[value] = static_cast<int>(out.buffers.size());
    out.buffers.push_back(placement);
  }
  for (size_t i = 0; i < function.calls.size(); ++i) {
    int region = workspaceRegion[i];
    out.workspaceOffset.push_back(region < 0 ? -1 : regions[region].offset);
    out.workspaceBytes.push_back(region < 0 ? 0 : memory[i].workspaceBytes);
    out.workspaceTotal =
        saturatingAdd(out.workspaceTotal, out.workspaceBytes.back());
  }
  return "";
}

/// Rows of cells as left-aligned columns two spaces apart.
std::string formatTable(const std::vector<std::vector<std::string>> &rows,
                        const std::string &indent) {
  std::vector<size_t> widths;
  for (const auto &row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c)
        widths.push_back(0);
      widths[c] = std::max(widths[c], row[c].size());
    }
  std::string text;
  for (const auto &row : rows) {
    std::string line = indent;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size())
        line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    text += line + "\n";
  }
  return text;
}

/// "f32[32, 28, 28, 1]": the batch dimension at maxBatch, then the shape.
std::string formatType(const KernelProgram &program, const TensorInfo &type) {
  std::string text = elementTypeName(type.elementType);
  text += "[";
  bool first = true;
  auto dim = [&](int64_t size) {
    if (!first)
      text += ", ";
    text += std::to_string(size);
    first = false;
  };
  if (type.batched)
    dim(program.maxBatch);
  for (int64_t size : type.shape)
    dim(size);
  return text + "]";
}

std::string valueName(const KernelProgram &program, int value) {
  if (value >= 0 && static_cast<size_t>(value) < program.values.size() &&
      !program.values[value].name.empty())
    return program.values[value].name;
  return "%" + std::to_string(value);
}

std::string formatBytes(int64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

std::string formatOffset(int64_t offset) {
  return offset < 0 ? "null" : "@" + std::to_string(offset);
}

/// "1.004": `a / b` with three decimals, or "-" when b is 0.
std::string formatRatio(int64_t a, int64_t b) {
  if (b <= 0)
    return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.3f",
                static_cast<double>(a) / static_cast<double>(b));
  return text;
}

/// "sum: S bytes (tensors T + workspaces W); peak/lower bound: R1,
/// peak/sum: R2".
std::string formatTotals(int64_t peak, int64_t lowerBound, int64_t tensors,
                         int64_t workspaces) {
  int64_t sum = saturatingAdd(tensors, workspaces);
  return "sum: " + formatBytes(sum) + " (tensors " + std::to_string(tensors) +
         " + workspaces " + std::to_string(workspaces) +
         "); peak/lower bound: " + formatRatio(peak, lowerBound) +
         ", peak/sum: " + formatRatio(peak, sum);
}

std::string printFunction(const KernelProgram &program, const MemoryPlan &plan,
                          size_t index) {
  const KernelFunction &function = program.functions[index];
  const FunctionPlan &fplan = plan.functions[index];
  std::string text = "\nfunction " + function.name + " (" + function.role +
                     "): " + std::to_string(function.calls.size()) +
                     (function.calls.size() == 1 ? " call\n" : " calls\n");
  std::vector<std::vector<std::string>> rows;
  for (const BufferPlacement &buffer : fplan.buffers) {
    if (buffer.value < 0 ||
        static_cast<size_t>(buffer.value) >= program.values.size())
      continue; // a plan of another program
    std::vector<std::string> row{
        valueName(program, buffer.value),
        formatType(program, program.values[buffer.value].type)};
    std::string live = "[" + std::to_string(buffer.firstCall) + ", " +
                       std::to_string(buffer.lastCall) + "]";
    if (buffer.unread) {
      row.insert(row.end(), {"0 bytes", live, "-", "unread (nullptr)"});
    } else {
      row.push_back(formatBytes(buffer.bytes));
      row.push_back(live);
      row.push_back(formatOffset(plan.offsetOf(index, buffer.value)));
      if (buffer.aliasOf >= 0)
        row.push_back((buffer.inPlace ? "in place of " : "alias of ") +
                      valueName(program, buffer.aliasOf));
    }
    rows.push_back(std::move(row));
  }
  text += "  buffers:\n" + formatTable(rows, "    ");
  rows.clear();
  for (size_t i = 0; i < function.calls.size(); ++i) {
    const KernelCall &call = function.calls[i];
    auto refs = [&](const std::vector<int> &values, bool operands) {
      std::string list;
      for (size_t j = 0; j < values.size(); ++j) {
        if (!list.empty())
          list += ", ";
        list += valueName(program, values[j]);
        list += operands && !plan.operandRead(index, i, j)
                    ? " (not read)"
                    : formatOffset(plan.offsetOf(index, values[j]));
      }
      return "(" + list + ")";
    };
    std::vector<std::string> row{"#" + std::to_string(i), call.op,
                                 call.location.empty() ? "-" : call.location,
                                 refs(call.operands, true) + " -> " +
                                     refs(call.results, false)};
    if (i < fplan.workspaceOffset.size() && i < fplan.workspaceBytes.size() &&
        fplan.workspaceOffset[i] >= 0)
      row.push_back("workspace " + formatBytes(fplan.workspaceBytes[i]) + " " +
                    formatOffset(plan.stepBase + fplan.workspaceOffset[i]));
    rows.push_back(std::move(row));
  }
  text += "  kernels:\n" + formatTable(rows, "    ");
  text += "  peak: " + formatBytes(fplan.peakBytes) +
          " (lower bound: " + formatBytes(fplan.lowerBound) + ")\n";
  text += "  " +
          formatTotals(fplan.peakBytes, fplan.lowerBound, fplan.tensorBytes,
                       fplan.workspaceTotal) +
          "\n";
  return text;
}

} // namespace

std::string printPlan(const KernelProgram &program, const MemoryPlan &plan) {
  if (!plan.ok())
    return "error: " + plan.error + "\n";
  std::string text = "memory plan for " + program.modelName + ": max batch " +
                     std::to_string(program.maxBatch) + ", f32 as " +
                     (plan.elementBytes == 8 ? "double" : "float") + " (" +
                     std::to_string(plan.elementBytes) + " bytes)\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t v = 0;
       v < program.values.size() && v < plan.persistentOffset.size(); ++v) {
    if (plan.persistentOffset[v] < 0)
      continue;
    const KernelValue &value = program.values[v];
    rows.push_back({valueName(program, static_cast<int>(v)),
                    formatType(program, value.type),
                    formatBytes(valueBytes(program, static_cast<int>(v),
                                           plan.elementBytes)),
                    formatOffset(plan.persistentOffset[v]),
                    value.kind == KernelValue::Kind::Argument
                        ? "argument"
                        : (value.optimizerState
                               ? "optimizer state"
                               : (value.trainable ? "trainable" : "frozen"))});
  }
  text += "persistent:\n" + formatTable(rows, "  ");
  text += "persistent: " + formatBytes(plan.persistentBytes) +
          ", arguments: " + formatBytes(plan.argumentBytes) + ", step base: @" +
          std::to_string(plan.stepBase) + "\n";
  text += "arena: " + formatBytes(plan.arenaBytes) + "\n";
  // The function with the largest peak sizes the step region.
  const FunctionPlan *largest = nullptr;
  for (size_t f = 0; f < program.functions.size() && f < plan.functions.size();
       ++f) {
    text += printFunction(program, plan, f);
    if (!largest || plan.functions[f].peakBytes > largest->peakBytes)
      largest = &plan.functions[f];
  }
  if (largest)
    text += "\nsummary: arena " + formatBytes(plan.arenaBytes) +
            "; largest step peak " + formatBytes(largest->peakBytes) + " (" +
            largest->function + ", lower bound " +
            formatBytes(largest->lowerBound) + "); " +
            formatTotals(largest->peakBytes, largest->lowerBound,
                         largest->tensorBytes, largest->workspaceTotal) +
            "\n";
  return text;
}

int64_t MemoryPlan::offsetOf(size_t function, int value) const {
  if (value < 0)
    return -1;
  size_t id = static_cast<size_t>(value);
  if (id < persistentOffset.size() && persistentOffset[id] >= 0)
    return persistentOffset[id];
  if (function >= functions.size())
    return -1;
  const FunctionPlan &plan = functions[function];
  if (id >= plan.bufferIndex.size() || plan.bufferIndex[id] < 0)
    return -1;
  const BufferPlacement &buffer = plan.buffers[plan.bufferIndex[id]];
  if (buffer.unread)
    return -1;
  return buffer.inPersistent ? buffer.offset : stepBase + buffer.offset;
}

bool MemoryPlan::operandRead(size_t function, size_t call,
                             size_t operand) const {
  if (function >= functions.size())
    return true;
  const FunctionPlan &plan = functions[function];
  if (call >= plan.operandRead.size() ||
      operand >= plan.operandRead[call].size())
    return true;
  return plan.operandRead[call][operand];
}

MemoryPlan planMemory(const KernelProgram &program, int elementBytes,
                      const CallMemoryFn &callMemory) {
  MemoryPlan plan;
  plan.elementBytes = elementBytes;
  if (elementBytes != 4 && elementBytes != 8) {
    plan.error = "element size must be 4 or 8 bytes, got " +
                 std::to_string(elementBytes);
    return plan;
  }
  plan.persistentOffset.assign(program.values.size(), -1);
  int64_t cursor = 0;
  for (size_t v = 0; v < program.values.size(); ++v) {
    if (program.values[v].kind != KernelValue::Kind::Persistent)
      continue;
    int64_t bytes = valueBytes(program, static_cast<int>(v), elementBytes);
    int64_t end = 0;
    if (bytes < 0 || __builtin_add_overflow(cursor, bytes, &end) ||
        !alignUp(end, plan.stepBase)) {
      plan.error = "persistent value " + program.values[v].name +
                   " has no valid byte size";
      return plan;
    }
    plan.persistentOffset[v] = cursor;
    plan.persistentBytes = end;
    cursor = plan.stepBase;
  }
  // The arguments (model inputs and targets) are shared by every function:
  // the runtime writes a batch once, then calls any of them. They get fixed
  // offsets after the persistent values, like them in persistentOffset.
  for (size_t v = 0; v < program.values.size(); ++v) {
    if (program.values[v].kind != KernelValue::Kind::Argument)
      continue;
    int64_t bytes = valueBytes(program, static_cast<int>(v), elementBytes);
    int64_t end = 0;
    if (bytes < 0 || __builtin_add_overflow(cursor, bytes, &end) ||
        !alignUp(end, plan.stepBase)) {
      plan.error =
          "argument " + program.values[v].name + " has no valid byte size";
      return plan;
    }
    plan.persistentOffset[v] = cursor;
    plan.argumentBytes += plan.stepBase - cursor;
    cursor = plan.stepBase;
  }
  int64_t peak = 0;
  for (const KernelFunction &function : program.functions) {
    plan.functions.emplace_back();
    FunctionPlanner planner(program, function, plan, callMemory);
    plan.error = planner.run(plan.functions.back());
    if (!plan.ok())
      return plan;
    peak = std::max(peak, plan.functions.back().peakBytes);
  }
  plan.arenaBytes = plan.stepBase + peak;
  return plan;
}

} // namespace dlc::codegen
