//===- AST.cpp - the syntax tree of a .dl file ----------------------------===//
#include "frontend/AST.h"

namespace dlc {

const char *declKindName(Decl::Kind kind) {
  switch (kind) {
  case Decl::Kind::Sequential:
    return "sequential";
  case Decl::Kind::Model:
    return "model";
  case Decl::Kind::Block:
    return "block";
  case Decl::Kind::Train:
    return "train";
  case Decl::Kind::Import:
    return "import";
  }
  return "definition";
}

} // namespace dlc
