//===- TrainingData.h - the train section's data, loaded and split --------===//
//
// Loads the data source of a train section (idx, csv or npy; `--data`
// replaces its path) into the three sets a run uses:
//
//   train       the source's training split, less the validation fraction
//   validation  `validation = 0.1`: the last tenth of the training split
//               (Keras's validation_split: taken before shuffling, so it is
//               the same for every seed); `validation = idx("...")`: that
//               source's training split; neither: the test split
//   test        the source's test split (t10k files, x_test.npy, test.csv)
//
// Every failure names the file or folder and what is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_TRAININGDATA_H
#define DLC_RUNTIME_TRAININGDATA_H

#include "runtime/Dataset.h"
#include "runtime/TrainSettings.h"

#include <string>

namespace dlc::rt {

/// The examples of one run.
struct TrainingData {
  Dataset train;
  Dataset validation;
  Dataset test;
  bool hasValidation = false;
  bool hasTest = false;
  /// The source, as written, for messages ("idx(\"/data/mnist\")").
  std::string description;

  /// The validation examples.
  const Dataset &validationSet() const { return validation; }
};

/// Loads `source` (its `pairs` flag is ignored: pairing happens per batch),
/// or only its test split when `parts` is TestOnly. Failures name the file
/// or folder.
bool loadDataSource(const DataSource &source, Split &out, std::string &error,
                    SplitParts parts = SplitParts::TrainAndTest);

/// The data source of a run: `settings.data` with its path replaced by
/// `pathOverride` when that is not empty. Without a data source in the
/// settings, the kind is recognized from the files at `pathOverride` (IDX
/// files, x_train.npy, or CSV). False with a message when there is none.
bool resolveDataSource(const TrainSettings &settings,
                       const std::string &pathOverride, DataSource &out,
                       std::string &error);

/// Loads the sets of a training run (see the file comment).
bool loadTrainingData(const TrainSettings &settings, const DataSource &source,
                      TrainingData &out, std::string &error);

} // namespace dlc::rt

#endif // DLC_RUNTIME_TRAININGDATA_H
