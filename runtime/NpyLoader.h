//===- NpyLoader.h - the NumPy (.npy) data source
//---------------------------===//
//
// `npy(dir, scale=1.0)` in a train section: a folder holding x_train.npy and
// y_train.npy, and optionally x_test.npy and y_test.npy (the names Keras
// datasets use). Reads NPY format versions 1.0, 2.0 and 3.0, C order, with
// the little-endian dtypes |u1 |i1 |b1 <u2 <i2 <u4 <i4 <u8 <i8 <f4 <f8.
//
// x of shape [N, ...] becomes N examples of shape [...] (a 1-D x gives
// examples of shape [1]) multiplied by `scale`; y of shape [N] or [N, 1]
// holds integer class ids (floats are accepted when integral).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_NPYLOADER_H
#define DLC_RUNTIME_NPYLOADER_H

#include "runtime/Dataset.h"

#include <string>

namespace dlc::rt {

/// Loads the .npy files of `dir` into `out`, multiplying features by `scale`
/// (which must be finite). The test pair is optional as a whole
/// (`out.hasTest`); with `parts` TestOnly the training pair is not read. On
/// failure returns false with a message naming the file in `error`.
bool loadNpy(const std::string &dir, double scale, Split &out,
             std::string &error, SplitParts parts = SplitParts::TrainAndTest);

} // namespace dlc::rt

#endif // DLC_RUNTIME_NPYLOADER_H
