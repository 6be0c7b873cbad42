//===- ASTPrinter.h - the AST as indented text ------------------*- C++ -*-===//
//
// What `dlc compile --emit=ast` prints: one node per line, children indented
// by two spaces, each node followed by its line:col, e.g.
//
//   module fashion_mlp.dl
//     sequential fashion_mlp @3:1
//       input image @3:24
//         type f32 @3:31
//           number 28 @3:35
//
// The output depends only on the tree, so it is deterministic.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_ASTPRINTER_H
#define DLC_FRONTEND_ASTPRINTER_H

#include "frontend/AST.h"

#include <ostream>

namespace dlc {

/// Prints `module` as an indented tree with the location of every node.
void printModule(const Module &module, std::ostream &os);

} // namespace dlc

#endif // DLC_FRONTEND_ASTPRINTER_H
