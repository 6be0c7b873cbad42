//===- TrainingData.cpp - the train section's data, loaded and split ------===//

#include "runtime/TrainingData.h"

#include "runtime/Batcher.h"
#include "runtime/CsvLoader.h"
#include "runtime/IdxLoader.h"
#include "runtime/NpyLoader.h"

#include <utility>

namespace dlc::rt {

namespace {

/// Recognizes the kind of data at `path`: a folder of IDX files, of .npy
/// files or of CSV files, or a single .csv file.
bool guessKind(const std::string &path, DataSource::Kind &kind) {
  auto has = [&](const char *name) { return pathExists(joinPath(path, name)); };
  if (isDirectory(path)) {
    if (has("train-images-idx3-ubyte") || has("train-images-idx3-ubyte.gz"))
      kind = DataSource::Kind::Idx;
    else if (has("x_train.npy"))
      kind = DataSource::Kind::Npy;
    else if (has("train.csv"))
      kind = DataSource::Kind::Csv;
    else
      return false;
    return true;
  }
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0) {
    kind = DataSource::Kind::Csv;
    return true;
  }
  return false;
}

} // namespace

bool loadDataSource(const DataSource &source, Split &out, std::string &error,
                    SplitParts parts) {
  out = Split();
  switch (source.kind) {
  case DataSource::Kind::Idx:
    return loadIdx(source.path, out, error, parts);
  case DataSource::Kind::Csv:
    return loadCsv(source.path, source.labelColumn, source.header, source.scale,
                   out, error, parts);
  case DataSource::Kind::Npy:
    return loadNpy(source.path, source.scale, out, error, parts);
  }
  error = source.path + ": unknown data source kind";
  return false;
}

bool resolveDataSource(const TrainSettings &settings,
                       const std::string &pathOverride, DataSource &out,
                       std::string &error) {
  if (settings.data) {
    out = *settings.data;
    if (!pathOverride.empty())
      out.path = pathOverride;
    return true;
  }
  if (pathOverride.empty()) {
    error = "no training data: the model's train section has no data source";
    error += "\nhint: give --data DIR (a folder of IDX, .npy or CSV files)";
    return false;
  }
  out = DataSource();
  if (!guessKind(pathOverride, out.kind)) {
    error = formatLoadError(
        pathOverride,
        pathExists(pathOverride) ? "is not a recognized data source"
                                 : "no such file or folder",
        "expected a folder of IDX files (train-images-idx3-ubyte[.gz], ...), "
        "of x_train.npy and y_train.npy, or train.csv, or a .csv file");
    return false;
  }
  out.path = pathOverride;
  if (out.kind == DataSource::Kind::Csv)
    out.scale = 1.0 / 255.0;
  return true;
}

bool loadTrainingData(const TrainSettings &settings, const DataSource &source,
                      TrainingData &out, std::string &error) {
  out = TrainingData();
  out.description = describeDataSource(source);
  Split split;
  if (!loadDataSource(source, split, error))
    return false;
  out.train = std::move(split.train);
  if (split.hasTest) {
    out.test = std::move(split.test);
    out.hasTest = true;
  }
  const ValidationSettings &validation = settings.validation;
  if (validation.source) {
    Split other;
    if (!loadDataSource(*validation.source, other, error))
      return false;
    if (!checkSameExampleShape(out.train, other.train, error))
      return false;
    out.validation = std::move(other.train);
    out.hasValidation = true;
  } else if (validation.fraction > 0) {
    std::string why;
    if (!splitValidation(out.train, validation.fraction, out.validation, why)) {
      error = out.train.source + ": cannot hold out validation = " +
              std::to_string(validation.fraction) + ": " + why;
      return false;
    }
    out.hasValidation = true;
  }
  // Without `validation`, like Keras's fit() without validation data: no
  // per-epoch val_ metrics (the test split is only scored at the end).
  return true;
}

} // namespace dlc::rt
