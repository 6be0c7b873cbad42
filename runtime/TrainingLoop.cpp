//===- TrainingLoop.cpp - `prog train`: epochs, validation, checkpoints ---===//

#include "runtime/TrainingLoop.h"

#include "runtime/BatchStream.h"
#include "runtime/CheckpointManager.h"
#include "runtime/EarlyStopping.h"
#include "runtime/Evaluation.h"
#include "runtime/LearningRate.h"
#include "runtime/ParameterInit.h"
#include "runtime/RunMetrics.h"
#include "runtime/TrainingData.h"
#include "runtime/WeightFile.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace dlc::rt {

namespace {

/// TrainState::values keys.
constexpr const char *kBatchSizeKey = "batch_size";
/// The checkpoint name prefix of the best epoch's weights
/// (early_stopping(restore_best=true)).
constexpr const char *kBestPrefix = "__best__/";

/// Checks that `dir` accepts new files by creating and removing one.
bool probeWritable(const std::string &dir, std::string &error) {
  std::string probe =
      dir + "/.dlc-write-probe." + std::to_string(long(::getpid()));
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write checkpoints to '" + dir +
            "': " + std::strerror(errno) +
            "\nhint: choose a writable directory with --checkpoint-dir";
    return false;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

/// The value named `name` in `values`, if any.
const NamedValue *findValue(const std::vector<NamedValue> &values,
                            const std::string &name) {
  for (const NamedValue &value : values)
    if (value.name == name)
      return &value;
  return nullptr;
}

/// The model weights (not optimizer slots) of the best epoch, and their
/// views as checkpoint tensors.
class BestWeights {
public:
  void init(ModelState &state) {
    const ModelSpec &spec = state.spec();
    for (size_t i = 0; i < spec.parameters.size(); ++i)
      if (!spec.parameters[i].optimizerState) {
        indices_.push_back(i);
        buffers_.emplace_back(state.parameterBytes(i));
      }
  }
  void save(const ModelState &state) {
    for (size_t k = 0; k < indices_.size(); ++k)
      std::memcpy(buffers_[k].data(), state.parameterData(indices_[k]),
                  buffers_[k].size());
  }
  void restore(ModelState &state) const {
    for (size_t k = 0; k < indices_.size(); ++k)
      std::memcpy(state.parameterData(indices_[k]), buffers_[k].data(),
                  buffers_[k].size());
  }
  void appendTensors(const ModelState &state,
                     std::vector<NamedTensor> &tensors) {
    for (size_t k = 0; k < indices_.size(); ++k) {
      const ParameterSpec &p = state.spec().parameters[indices_[k]];
      tensors.push_back({kBestPrefix + p.name,
                         state.parameterDtype(indices_[k]), p.shape,
                         buffers_[k].data(), buffers_[k].size()});
    }
  }

private:
  std::vector<size_t> indices_;
  std::vector<std::vector<unsigned char>> buffers_;
};

/// One training run; the steps of runTraining.
class Trainer {
public:
  Trainer(ModelState &state, const TrainSettings &settings,
          const ProgramOptions &options, const RunEnvironment &env,
          TrainResult &result, std::string &error)
      : state_(state), spec_(state.spec()), settings_(settings),
        options_(options), env_(env), result_(result), error_(error),
        out_(env.out ? *env.out : std::cout),
        err_(env.err ? *env.err : std::cerr) {}

  bool run() {
    return checkOptions() && loadData() && prepareStreams() &&
           initializeWeights() && openCheckpoints() && resume() && loop() &&
           finish();
  }

private:
  bool fail(const std::string &message) {
    error_ = message;
    return false;
  }

  bool checkOptions() {
    if (!settings_.present)
      return fail("the model '" + spec_.modelName +
                  "' has no train section, so it cannot be trained\nhint: "
                  "add `train " +
                  spec_.modelName +
                  " { ... }` to the .dl file; this program can still "
                  "predict and bench");
    if (options_.batchSize < 1 || options_.batchSize > spec_.maxBatch)
      return fail("--batch-size " + std::to_string(options_.batchSize) +
                  " is outside 1.." + std::to_string(spec_.maxBatch) +
                  " (the model was compiled for batches of at most " +
                  std::to_string(spec_.maxBatch) +
                  ")\nhint: recompile with a larger --max-batch");
    if (options_.epochs < 0)
      return fail("--epochs must not be negative");
    if (!(options_.lr > 0) || !std::isfinite(options_.lr))
      return fail("the learning rate must be a positive number");
    seed_ = options_.seed;
    return true;
  }

  bool loadData() {
    if (!resolveDataSource(settings_, options_.data, source_, error_) ||
        !loadTrainingData(settings_, source_, data_, error_))
      return false;
    if (!makeBatchFormat(spec_, data_.train.exampleShape, source_.pairs,
                         settings_.augment, format_, error_) ||
        !checkLabels(data_.train, format_, spec_, error_))
      return false;
    if (data_.hasValidation &&
        !checkLabels(data_.validationSet(), format_, spec_, error_))
      return false;
    if (data_.hasTest && !checkLabels(data_.test, format_, spec_, error_))
      return false;
    // The test split is checked now, so that a bad file fails before
    // training, but scored only after it: free it until then (finish()
    // reloads it once the training examples are freed), so that the two
    // are never held at once.
    data_.test = Dataset();
    return metrics_.init(spec_, settings_, format_, error_) &&
           evalMetrics_.init(spec_, settings_, format_, error_);
  }

  StreamOptions streamOptions(bool training) const {
    StreamOptions o;
    o.batchSize = options_.batchSize;
    o.seed = seed_;
    o.training = training;
    o.balancedPairs = source_.balanced;
    o.augment = settings_.augment;
    o.inputNoise = settings_.inputNoise;
    o.prefetch = env_.prefetch;
    return o;
  }

  bool prepareStreams() {
    if (!trainStream_.init(data_.train, format_, streamOptions(true), error_))
      return false;
    if (data_.hasValidation &&
        !validationStream_.init(data_.validationSet(), format_,
                                streamOptions(false), error_))
      return false;
    steps_ = trainStream_.steps();
    schedule_ = resolveSchedule(settings_.schedule, steps_,
                                steps_ * std::max<int64_t>(options_.epochs, 1));
    return true;
  }

  bool initializeWeights() {
    if (!initializeParameters(spec_, state_.arena(), seed_, error_))
      return false;
    if (!settings_.initPath.empty() && !options_.resume) {
      std::string notes;
      if (!loadWeights(state_, settings_.initPath, WeightMatch::ByName, notes,
                       error_))
        return false;
      err_ << notes;
    }
    if (settings_.earlyStopping) {
      earlyStopping_ =
          std::make_unique<EarlyStopping>(settings_.earlyStopping->options);
      if (settings_.earlyStopping->options.restoreBest)
        best_.init(state_);
    }
    return true;
  }

  bool checkpointing() const { return !options_.checkpointDir.empty(); }

  bool openCheckpoints() {
    if (!checkpointing())
      return true;
    manager_ = std::make_unique<CheckpointManager>(settings_.checkpoint.keep);
    return manager_->open(options_.checkpointDir, spec_.modelName,
                          state_.signature(), error_) &&
           probeWritable(manager_->directory(), error_);
  }

  std::vector<NamedTensor> checkpointTensors() {
    std::vector<NamedTensor> tensors = state_.checkpointTensors();
    if (earlyStopping_ && settings_.earlyStopping->options.restoreBest)
      best_.appendTensors(state_, tensors);
    return tensors;
  }

  bool resume() {
    if (!options_.resume)
      return true;
    if (!manager_)
      return fail("--resume needs a checkpoint directory (--checkpoint-dir)");
    std::string path;
    std::vector<std::string> warnings;
    if (!manager_->findLatest(path, warnings, error_)) {
      for (const std::string &warning : warnings)
        error_ += "\nnote: " + warning;
      error_ += "\nhint: train without --resume to start from scratch";
      return false;
    }
    for (const std::string &warning : warnings)
      err_ << "warning: " << warning << "\n";
    TrainState loaded;
    if (!manager_->load(path, loaded, checkpointTensors(), error_))
      return false;
    auto batchSize = loaded.values.find(kBatchSizeKey);
    if (batchSize != loaded.values.end() &&
        batchSize->second != double(options_.batchSize))
      return fail(path + ": was written with batch size " +
                  std::to_string(int64_t(batchSize->second)) +
                  ", this run uses " + std::to_string(options_.batchSize) +
                  "\nhint: resume with --batch-size " +
                  std::to_string(int64_t(batchSize->second)));
    if (loaded.stepInEpoch < 0 || loaded.stepInEpoch > steps_ ||
        loaded.epoch < 0 || loaded.globalStep < 0)
      return fail(path + ": its training state (epoch " +
                  std::to_string(loaded.epoch) + ", step " +
                  std::to_string(loaded.stepInEpoch) +
                  ") does not fit this data (" + std::to_string(steps_) +
                  " steps per epoch)\nhint: resume with the same data");
    if (earlyStopping_ && !earlyStopping_->restore(loaded.earlyStopping))
      return fail(path + ": holds an invalid early-stopping state");
    if (loaded.seed != seed_ && options_.wasGiven("--seed"))
      err_ << "note: resuming with the checkpoint's seed " << loaded.seed
           << ", not " << seed_ << "\n";
    seed_ = loaded.seed;
    if (seed_ != options_.seed && !prepareStreams())
      return false;
    trainState_ = loaded;
    result_.resumedFrom = path;
    out_ << "Resuming from " << path << " (epoch " << loaded.epoch + 1
         << ", step " << loaded.stepInEpoch << ")\n";
    return true;
  }

  bool stopRequested() const {
    return (env_.stopRequested && *env_.stopRequested != 0) ||
           (env_.stopAfterSteps >= 0 &&
            trainState_.globalStep >= env_.stopAfterSteps);
  }

  bool saveCheckpoint() {
    trainState_.seed = seed_;
    trainState_.values[kBatchSizeKey] = double(options_.batchSize);
    if (earlyStopping_)
      trainState_.earlyStopping = earlyStopping_->state();
    return manager_->save(trainState_, checkpointTensors(), error_);
  }

  /// Runs one epoch's remaining steps; false on a stop request.
  bool trainEpoch(int64_t epoch, ProgressBar &bar) {
    trainStream_.start(uint64_t(epoch), trainState_.stepInEpoch);
    CompiledModel &model = state_.model();
    while (const ModelBatch *batch = trainStream_.next()) {
      copyBatchToModel(*batch, model);
      StepContext context;
      context.seed = seed_;
      context.step = trainState_.globalStep;
      context.lr =
          learningRate(schedule_, options_.lr, trainState_.globalStep, epoch);
      double loss = model.trainStep(batch->size, context);
      const std::vector<double> &values =
          metrics_.addBatch(loss, *batch, model);
      bar.addStep(values, batch->size);
      ++trainState_.globalStep;
      ++trainState_.stepInEpoch;
      if (stopRequested()) {
        trainStream_.stop();
        return false;
      }
    }
    trainStream_.stop();
    return true;
  }

  /// Records an interruption, with a checkpoint when there is a directory.
  bool interrupt() {
    result_.interrupted = true;
    out_ << "\n";
    if (!manager_) {
      err_ << "interrupted at epoch " << trainState_.epoch + 1 << ", step "
           << trainState_.stepInEpoch
           << "; no checkpoint directory, so the progress is not saved\n";
      return true;
    }
    trainState_.metrics = metrics_.totals();
    if (!saveCheckpoint())
      return false;
    err_ << "interrupted at epoch " << trainState_.epoch + 1 << ", step "
         << trainState_.stepInEpoch << "; saved a checkpoint in "
         << manager_->directory() << "\nhint: continue with `train --resume`\n";
    return true;
  }

  bool loop() {
    int64_t epochs = options_.epochs;
    std::vector<std::string> names = metrics_.names();
    ProgressBar bar(names, out_, env_.isTty, env_.clock);
    bool warnedMonitor = false;
    for (int64_t epoch = trainState_.epoch; epoch < epochs; ++epoch) {
      trainState_.epoch = epoch;
      bool partial = trainState_.stepInEpoch > 0;
      if (partial)
        metrics_.restore(trainState_.metrics);
      else
        metrics_.reset();
      bar.beginEpoch(epoch + 1, epochs, steps_ - trainState_.stepInEpoch);
      if (!trainEpoch(epoch, bar))
        return interrupt();

      EpochRecord record;
      record.epoch = epoch;
      record.values = metrics_.results();
      std::vector<NamedValue> extra;
      if (data_.hasValidation) {
        evaluateStream(state_.model(), validationStream_, evalMetrics_);
        extra = evalMetrics_.results("val_");
        record.values.insert(record.values.end(), extra.begin(), extra.end());
      }
      bar.endEpoch(extra);
      result_.history.push_back(record);

      bool stop = false;
      if (earlyStopping_) {
        const std::string &monitor = settings_.earlyStopping->monitor;
        if (const NamedValue *value = findValue(record.values, monitor)) {
          stop = earlyStopping_->onEpochEnd(epoch, value->value);
          if (earlyStopping_->shouldSaveWeights())
            best_.save(state_);
        } else if (!warnedMonitor) {
          warnedMonitor = true;
          err_ << "warning: early stopping monitors '" << monitor
               << "', which this run does not compute; it never stops\n";
        }
      }
      trainState_.epoch = epoch + 1;
      trainState_.stepInEpoch = 0;
      trainState_.metrics.clear();
      bool last = stop || epoch + 1 == epochs;
      int64_t every = std::max<int64_t>(settings_.checkpoint.every, 1);
      if (manager_ && (last || (epoch + 1) % every == 0) && !saveCheckpoint())
        return false;
      if (stop) {
        result_.stoppedEarly = true;
        out_ << "Epoch " << epoch + 1 << ": early stopping\n";
        break;
      }
    }
    result_.globalStep = trainState_.globalStep;
    return true;
  }

  /// Frees the training and validation examples and loads the test split
  /// (see loadData()).
  bool loadTestSplit() {
    trainStream_.stop();
    validationStream_.stop();
    data_.train = Dataset();
    data_.validation = Dataset();
    Split split;
    if (!loadDataSource(source_, split, error_, SplitParts::TestOnly))
      return false;
    if (!split.hasTest) {
      error_ = source_.path + ": the test split is gone since training started";
      return false;
    }
    data_.test = std::move(split.test);
    return checkLabels(data_.test, format_, spec_, error_) &&
           testStream_.init(data_.test, format_, streamOptions(false), error_);
  }

  bool finish() {
    result_.globalStep = trainState_.globalStep;
    if (result_.interrupted)
      return true;
    if (earlyStopping_ && earlyStopping_->shouldRestoreBest()) {
      best_.restore(state_);
      out_ << "Restoring model weights from the end of the best epoch: "
           << earlyStopping_->bestEpoch() + 1 << ".\n";
    }
    std::string path = finalWeightsPath(spec_, options_.checkpointDir);
    if (!saveWeights(state_, path, error_))
      return false;
    result_.weightsPath = path;
    out_ << "saved the weights to " << path << "\n";
    if (data_.hasTest) {
      if (!loadTestSplit())
        return false;
      evaluateStream(state_.model(), testStream_, evalMetrics_);
      result_.test = evalMetrics_.results();
      result_.tested = true;
      out_ << formatMetricLine("test", result_.test) << "\n";
    }
    out_.flush();
    return true;
  }

  ModelState &state_;
  const ModelSpec &spec_;
  const TrainSettings &settings_;
  const ProgramOptions &options_;
  const RunEnvironment &env_;
  TrainResult &result_;
  std::string &error_;
  std::ostream &out_;
  std::ostream &err_;

  uint64_t seed_ = 0;
  DataSource source_;
  TrainingData data_;
  BatchFormat format_;
  RunMetrics metrics_;
  RunMetrics evalMetrics_;
  BatchStream trainStream_;
  BatchStream validationStream_;
  BatchStream testStream_;
  int64_t steps_ = 0;
  Schedule schedule_;
  std::unique_ptr<EarlyStopping> earlyStopping_;
  BestWeights best_;
  std::unique_ptr<CheckpointManager> manager_;
  TrainState trainState_;
};

} // namespace

std::string finalWeightsPath(const ModelSpec &spec,
                             const std::string &checkpointDir) {
  if (checkpointDir.empty())
    return spec.modelName + ".weights.safetensors";
  return joinPath(checkpointDir, "final.safetensors");
}

bool runTraining(ModelState &state, const TrainSettings &settings,
                 const ProgramOptions &options, const RunEnvironment &env,
                 TrainResult &result, std::string &error) {
  result = TrainResult();
  Trainer trainer(state, settings, options, env, result, error);
  return trainer.run();
}

} // namespace dlc::rt
