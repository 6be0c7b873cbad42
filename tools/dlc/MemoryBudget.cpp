//===- MemoryBudget.cpp - fit a program's arena into --memory-budget ------===//

#include "MemoryBudget.h"

#include "codegen/LowerToKernels.h"
#include "codegen/cpu/CppEmitter.h"
#include "passes/Passes.h"
#include "passes/Recompute.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dlc {

namespace {

/// One candidate: the `index`-th of training function `function` (both in
/// module order), and its bytes saved per unit of cost.
struct Choice {
  size_t function = 0;
  size_t index = 0;
  double ratio = 0;
};

std::vector<mlir::func::FuncOp> trainingFunctions(mlir::ModuleOp module) {
  std::vector<mlir::func::FuncOp> functions;
  for (auto function : module.getOps<mlir::func::FuncOp>())
    if (isTrainingFunction(function))
      functions.push_back(function);
  return functions;
}

/// Candidates of every training function, best first: most bytes saved per
/// cost; ties by position, so the same op of @M_train_step and @M_grad come
/// one after the other.
std::vector<Choice> rankCandidates(mlir::ModuleOp module) {
  std::vector<Choice> choices;
  std::vector<mlir::func::FuncOp> functions = trainingFunctions(module);
  for (size_t f = 0; f < functions.size(); ++f) {
    std::vector<RecomputeCandidate> candidates =
        findRecomputeCandidates(functions[f]);
    for (size_t i = 0; i < candidates.size(); ++i)
      choices.push_back(
          {f, i,
           double(candidates[i].savedBytes) / double(candidates[i].cost)});
  }
  std::stable_sort(choices.begin(), choices.end(),
                   [](const Choice &a, const Choice &b) {
                     if (a.ratio != b.ratio)
                       return a.ratio > b.ratio;
                     if (a.index != b.index)
                       return a.index < b.index;
                     return a.function < b.function;
                   });
  return choices;
}

/// Marks `chosen` (indices into `choices`) in `module` (a copy of the module
/// they were ranked on: the same functions and candidates) and recomputes
/// them.
bool recompute(mlir::ModuleOp module, const std::vector<Choice> &choices,
               const std::vector<size_t> &chosen) {
  std::vector<mlir::func::FuncOp> functions = trainingFunctions(module);
  std::vector<std::vector<RecomputeCandidate>> candidates;
  for (mlir::func::FuncOp function : functions)
    candidates.push_back(findRecomputeCandidates(function));
  mlir::UnitAttr unit = mlir::UnitAttr::get(module.getContext());
  for (size_t c : chosen) {
    if (c >= choices.size())
      continue;
    const Choice &choice = choices[c];
    if (choice.function < candidates.size() &&
        choice.index < candidates[choice.function].size())
      candidates[choice.function][choice.index].op->setAttr(kRecomputeAttr,
                                                            unit);
  }
  mlir::PassManager pm(module.getContext());
  pm.addPass(createRecomputePass());
  return mlir::succeeded(pm.run(module));
}

bool lowerAndPlan(mlir::ModuleOp module, int64_t maxBatch, int elementBytes,
                  codegen::KernelProgram &kernels, codegen::MemoryPlan &plan,
                  std::string &error) {
  kernels = codegen::KernelProgram();
  if (!codegen::lowerToKernels(module, maxBatch, kernels, error))
    return false;
  plan = codegen::planMemory(kernels, elementBytes,
                             codegen::cpuCallMemory(kernels, elementBytes));
  if (!plan.ok()) {
    error = plan.error;
    return false;
  }
  return true;
}

/// The first `count` choices.
std::vector<size_t> firstChoices(size_t count) {
  std::vector<size_t> chosen(count);
  for (size_t c = 0; c < count; ++c)
    chosen[c] = c;
  return chosen;
}

/// The sum of the functions' planned peaks.
int64_t totalPeak(const codegen::MemoryPlan &plan) {
  int64_t total = 0;
  for (const codegen::FunctionPlan &function : plan.functions)
    total += function.peakBytes;
  return total;
}

} // namespace

bool recomputeCheapActivations(mlir::OwningOpRef<mlir::ModuleOp> &module,
                               int64_t maxBatch, int elementBytes,
                               codegen::KernelProgram &kernels,
                               codegen::MemoryPlan &plan, int &recomputed,
                               std::string &error) {
  recomputed = 0;
  std::vector<Choice> choices = rankCandidates(*module);
  std::vector<size_t> chosen;
  int64_t best = totalPeak(plan);
  {
    mlir::ScopedDiagnosticHandler quiet(
        module->getContext(), [](mlir::Diagnostic &diagnostic) {
          return mlir::success(diagnostic.getSeverity() ==
                               mlir::DiagnosticSeverity::Remark);
        });
    for (size_t c = 0; c < choices.size(); ++c) {
      if (choices[c].ratio * kCheapRecomputeOpsPerByte < 1.0)
        break; // ranked: the rest cost more still
      std::vector<size_t> trialChoices = chosen;
      trialChoices.push_back(c);
      mlir::OwningOpRef<mlir::ModuleOp> trial = module->clone();
      codegen::KernelProgram trialKernels;
      codegen::MemoryPlan trialPlan;
      if (!recompute(*trial, choices, trialChoices) ||
          !lowerAndPlan(*trial, maxBatch, elementBytes, trialKernels, trialPlan,
                        error)) {
        if (error.empty())
          error = "the recompute pass failed";
        return false;
      }
      int64_t peak = totalPeak(trialPlan);
      if (peak < best) {
        best = peak;
        chosen = std::move(trialChoices);
      }
    }
  }
  if (chosen.empty())
    return true;
  if (!recompute(*module, choices, chosen) ||
      !lowerAndPlan(*module, maxBatch, elementBytes, kernels, plan, error)) {
    if (error.empty())
      error = "the recompute pass failed";
    return false;
  }
  recomputed = int(chosen.size());
  return true;
}

bool fitMemoryBudget(mlir::OwningOpRef<mlir::ModuleOp> &module,
                     int64_t maxBatch, int elementBytes, int64_t budget,
                     codegen::KernelProgram &kernels, codegen::MemoryPlan &plan,
                     BudgetOutcome &outcome, std::string &error) {
  outcome = BudgetOutcome();
  outcome.budget = budget;
  outcome.unconstrainedArena = plan.arenaBytes;
  outcome.arena = plan.arenaBytes;
  outcome.minimumArena = plan.arenaBytes;
  if (plan.arenaBytes <= budget) {
    outcome.fits = true;
    return true;
  }
  std::vector<Choice> choices = rankCandidates(*module);
  outcome.candidates = int(choices.size());

  // The trials' remarks are dropped; the chosen recomputation is redone on
  // `module` itself below, so `--remarks` reports it once.
  size_t chosen = 0;
  {
    mlir::ScopedDiagnosticHandler quiet(
        module->getContext(), [](mlir::Diagnostic &diagnostic) {
          return mlir::success(diagnostic.getSeverity() ==
                               mlir::DiagnosticSeverity::Remark);
        });
    for (size_t count = 1; count <= choices.size(); ++count) {
      mlir::OwningOpRef<mlir::ModuleOp> trial = module->clone();
      codegen::KernelProgram trialKernels;
      codegen::MemoryPlan trialPlan;
      if (!recompute(*trial, choices, firstChoices(count)) ||
          !lowerAndPlan(*trial, maxBatch, elementBytes, trialKernels, trialPlan,
                        error)) {
        if (error.empty())
          error = "the recompute pass failed";
        return false;
      }
      outcome.minimumArena =
          std::min(outcome.minimumArena, trialPlan.arenaBytes);
      if (trialPlan.arenaBytes <= budget) {
        chosen = count;
        break;
      }
    }
  }
  if (chosen == 0)
    return true;
  if (!recompute(*module, choices, firstChoices(chosen)) ||
      !lowerAndPlan(*module, maxBatch, elementBytes, kernels, plan, error)) {
    if (error.empty())
      error = "the recompute pass failed";
    return false;
  }
  outcome.fits = plan.arenaBytes <= budget;
  outcome.arena = plan.arenaBytes;
  outcome.recomputed = int(chosen);
  return true;
}

std::string describeBudget(const BudgetOutcome &outcome) {
  std::string text =
      "memory budget: " + std::to_string(outcome.budget) + " bytes: ";
  if (outcome.recomputed == 0)
    return text + "the arena of " + std::to_string(outcome.arena) +
           " bytes fits without recomputation\n";
  return text + std::to_string(outcome.recomputed) + " of " +
         std::to_string(outcome.candidates) +
         " candidate ops recomputed in the backward; arena " +
         std::to_string(outcome.unconstrainedArena) + " -> " +
         std::to_string(outcome.arena) + " bytes\n";
}

} // namespace dlc
