//===- IdxLoader.h - the MNIST (IDX) data source
//----------------------------===//
//
// `idx(dir)` in a train section: the four MNIST-format files of a folder,
//
//   train-images-idx3-ubyte   train-labels-idx1-ubyte
//   t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte
//
// each optionally gzip-compressed with a ".gz" suffix (the plain file wins
// when both exist). Images (magic 0x00000803: unsigned bytes, [count, rows,
// cols]) become examples of shape [rows, cols, 1] scaled by 1/255 (held as
// the file's bytes and converted per batch, see Dataset.h); labels
// (magic 0x00000801: unsigned bytes, [count]) become int32 class ids.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_IDXLOADER_H
#define DLC_RUNTIME_IDXLOADER_H

#include "runtime/Dataset.h"

#include <string>

namespace dlc::rt {

/// Loads the IDX files of `dir` into `out`. The training pair is required;
/// the t10k pair is optional as a whole (`out.hasTest` says whether it was
/// there). With `parts` TestOnly the training pair is not read. On failure
/// returns false with a message naming the file in `error`.
bool loadIdx(const std::string &dir, Split &out, std::string &error,
             SplitParts parts = SplitParts::TrainAndTest);

} // namespace dlc::rt

#endif // DLC_RUNTIME_IDXLOADER_H
