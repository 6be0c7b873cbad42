//===- Attrs.h - op attributes as plain C++ values ------------------------===//
//
// The op attributes shared by sema, the shape rules and the dialect. In the
// IR an `Attrs` map becomes the op's attribute dictionary: int64 ->
// IntegerAttr (i64), double -> FloatAttr (f64), bool -> BoolAttr, string ->
// StringAttr, int list -> DenseI64ArrayAttr, double list ->
// DenseF64ArrayAttr. The conversion is generic, so adding an attribute
// needs no new glue.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_ATTRS_H
#define DLC_IR_ATTRS_H

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace dlc {

using Shape = std::vector<int64_t>;

using AttrValue = std::variant<int64_t, double, bool, std::string,
                               std::vector<int64_t>, std::vector<double>>;

/// Ordered, so that printing and hashing are deterministic.
using Attrs = std::map<std::string, AttrValue>;

/// Typed look-ups with a fallback when the key is missing or of another type.
int64_t getInt(const Attrs &attrs, const std::string &key, int64_t fallback);
double getFloat(const Attrs &attrs, const std::string &key, double fallback);
bool getBool(const Attrs &attrs, const std::string &key, bool fallback);
std::string getString(const Attrs &attrs, const std::string &key,
                      const std::string &fallback);
std::vector<int64_t> getInts(const Attrs &attrs, const std::string &key,
                             std::vector<int64_t> fallback);

/// "[28, 28, 1]"
std::string formatShape(const Shape &shape);

} // namespace dlc

#endif // DLC_IR_ATTRS_H
