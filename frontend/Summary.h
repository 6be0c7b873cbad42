//===- Summary.h - the Keras-style model summary --------------------------===//
#ifndef DLC_FRONTEND_SUMMARY_H
#define DLC_FRONTEND_SUMMARY_H

#include "frontend/Graph.h"

#include <ostream>

namespace dlc {

/// Prints the table `dlc summary` shows: one row per top-level layer (a
/// nested model or block is one row), its output shape with the batch as
/// None, its parameter count; then total, trainable and non-trainable
/// parameters as Keras's model.summary() counts them.
void printSummary(const Graph &graph, std::ostream &os);

/// 101770 -> "101,770"
std::string withThousands(int64_t n);

} // namespace dlc

#endif // DLC_FRONTEND_SUMMARY_H
