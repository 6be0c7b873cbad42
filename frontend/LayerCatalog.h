//===- LayerCatalog.h - the built-in layers of the .dl language -----------===//
//
// Each built-in layer has a signature (Keras names and defaults; Keras's
// spellings such as kernel_size accepted as aliases) and a lowering that
// turns one application into `dl` ops through the GraphBuilder: padding
// resolved, axes made per-example, `activation=` appended as its own op.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_LAYERCATALOG_H
#define DLC_FRONTEND_LAYERCATALOG_H

#include "frontend/ArgumentBinder.h"
#include "frontend/GraphBuilder.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc {

/// One application of a built-in layer.
struct LayerApplication {
  GraphBuilder &builder;
  DiagnosticEngine &diags;
  const ConfigMap &config;
  std::vector<int> inputs;
  OpOwner owner;
  SourceLoc loc;
};

using LayerLowering =
    std::optional<std::vector<int>> (*)(LayerApplication &application);

struct LayerSchema {
  std::string name;
  std::vector<ArgSpec> args; // includes name= and trainable=
  bool hasWeights = false;
  int minInputs = 1;
  int maxInputs = 1; // -1: any number
  LayerLowering lower = nullptr;
};

/// The built-in layer called `name`, or nullptr.
const LayerSchema *findLayer(const std::string &name);

/// Names of all built-in layers, sorted (for "did you mean").
const std::vector<std::string> &layerNames();

/// The words `activation=` accepts.
const std::vector<std::string> &activationNames();

/// The words kernel_init= and bias_init= accept.
const std::vector<std::string> &initializerNames();

} // namespace dlc

#endif // DLC_FRONTEND_LAYERCATALOG_H
