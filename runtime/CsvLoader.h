//===- CsvLoader.h - the CSV data source
//------------------------------------===//
//
// `csv(path, label_column=0, header=true, scale=1/255)` in a train section:
// `path` is a folder holding train.csv and optionally test.csv, or a single
// .csv file (then there is no test split). Each row holds one example: an
// integer class id in the label column and numbers in every other column,
// which become the features (multiplied by `scale`), so examples have shape
// [number of feature columns].
//
// Cells are separated by commas; a cell may be quoted ("1,5" or "say ""hi"""),
// lines may end in \r\n, blank lines are skipped, and spaces around a cell
// are ignored. Errors name the file and line.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_CSVLOADER_H
#define DLC_RUNTIME_CSVLOADER_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <string>

namespace dlc::rt {

/// Loads the CSV data at `path` into `out`. `labelColumn` counts from 0, or
/// from the end when negative (-1 is the last column); `header` says whether
/// the first row names the columns; features are multiplied by `scale`
/// (which must be finite). A folder holds train.csv and optionally test.csv;
/// with `parts` TestOnly only test.csv is read (a single .csv file has no
/// test split). On failure returns false with a message naming the file and
/// line in `error`.
bool loadCsv(const std::string &path, int64_t labelColumn, bool header,
             double scale, Split &out, std::string &error,
             SplitParts parts = SplitParts::TrainAndTest);

} // namespace dlc::rt

#endif // DLC_RUNTIME_CSVLOADER_H
