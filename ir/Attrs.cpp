//===- Attrs.cpp ----------------------------------------------------------===//
#include "ir/Attrs.h"

namespace dlc {

template <typename T>
static T lookup(const Attrs &attrs, const std::string &key, T fallback) {
  auto it = attrs.find(key);
  if (it == attrs.end())
    return fallback;
  if (const T *value = std::get_if<T>(&it->second))
    return *value;
  return fallback;
}

int64_t getInt(const Attrs &attrs, const std::string &key, int64_t fallback) {
  return lookup<int64_t>(attrs, key, fallback);
}

double getFloat(const Attrs &attrs, const std::string &key, double fallback) {
  auto it = attrs.find(key);
  if (it != attrs.end())
    if (const int64_t *value = std::get_if<int64_t>(&it->second))
      return static_cast<double>(*value);
  return lookup<double>(attrs, key, fallback);
}

bool getBool(const Attrs &attrs, const std::string &key, bool fallback) {
  return lookup<bool>(attrs, key, fallback);
}

std::string getString(const Attrs &attrs, const std::string &key,
                      const std::string &fallback) {
  return lookup<std::string>(attrs, key, fallback);
}

std::vector<int64_t> getInts(const Attrs &attrs, const std::string &key,
                             std::vector<int64_t> fallback) {
  return lookup<std::vector<int64_t>>(attrs, key, std::move(fallback));
}

std::string formatShape(const Shape &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

} // namespace dlc
