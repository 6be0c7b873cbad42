//===- Passes.td - the passes over the `dl` dialect --------*- tablegen -*-===//
//
// One pass per file in passes/; each has lit tests in test/passes/.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_PASSES_TD
#define DLC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def StripDropout : Pass<"dl-strip-dropout"> {
  let summary = "Replace every dl.dropout by its input";
  let description = [{
    Dropout only acts while training. The inference graphs (eval, predict)
    run this pass so that they draw no random numbers:

      %1 = dl.dropout %0 {rate = 5.0e-01 : f64, seed_offset = 0 : i64} ...
      %2 = dl.relu %1 ...

    becomes `%2 = dl.relu %0 ...`.
  }];
  let constructor = "::dlc::createStripDropoutPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def Autodiff : Pass<"dl-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of each loss function";
  let description = [{
    For each `func.func @M_loss` (attribute `dl.loss`, calls inlined), adds
    `func.func @M_grad` (attribute `dl.gradients`) with the same arguments,
    returning the loss, the model's outputs and the gradient of every
    trainable parameter (attribute `dl.grad_params` lists them, in
    dl.parameter order). The forward runs in training mode (batchnorm with
    batch statistics: `dl.batchnorm_train`); the train section's
    `regularizer = l2(...)` adds `dl.l2_loss` terms to the loss. Each op's
    gradient rule (ir/Gradients.cpp) emits its `dl.X_grad` op; fan-in is
    summed with `dl.add_n`; frozen parameters get no gradient.
  }];
  let constructor = "::dlc::createAutodiffPass()";
  let dependentDialects = ["::dlc::dl::DLDialect",
                           "::mlir::func::FuncDialect"];
}

def LowerOptimizer : Pass<"dl-lower-optimizer", "::mlir::ModuleOp"> {
  let summary = "Build the train step: gradients, then optimizer updates";
  let description = [{
    For each `@M_grad`, adds `func.func @M_train_step` (attribute
    `dl.train_step`): the gradient computation, the batchnorm moving-average
    updates, `clip_norm` if the train section sets it, and one update op of
    the train section's optimizer (sgd, rmsprop, adam, adamw) per trainable
    parameter, whose slots become new `dl.parameter`s named
    `<param>.<slot>`. Returns the loss and the outputs.
  }];
  let constructor = "::dlc::createLowerOptimizerPass()";
  let dependentDialects = ["::dlc::dl::DLDialect",
                           "::mlir::func::FuncDialect"];
}

def BuildEvalFunction : Pass<"dl-build-eval", "::mlir::ModuleOp"> {
  let summary = "Build the inference-mode loss function and drop @M_loss";
  let description = [{
    For each `@M_loss`, adds `func.func @M_eval` (attribute `dl.eval`),
    returning the loss (with any l2 terms) and the outputs in inference mode,
    then erases `@M_loss`.
  }];
  let constructor = "::dlc::createBuildEvalFunctionPass()";
  let dependentDialects = ["::dlc::dl::DLDialect",
                           "::mlir::func::FuncDialect"];
}

def FuseConvBnRelu : Pass<"dl-fuse-conv-bn-relu", "::mlir::ModuleOp"> {
  let summary = "Fuse training batchnorm + relu and their backward";
  let description = [{
    On the training functions (`dl.gradients`, `dl.train_step`): each
    `dl.batchnorm_train` whose output's only forward user is a `dl.relu`,
    and whose backward is `dl.relu_grad` + `dl.batchnorm_train_grad`,
    becomes `dl.batchnorm_relu_train` (one statistics pass, normalize + relu
    in one pass) and `dl.batchnorm_relu_train_grad` (the relu mask
    recomputed from the input and the statistics), so neither the batchnorm
    output nor the relu gradient is materialized and the backward does not
    read the relu output. The producer (conv2d, depthwise_conv2d, dense...)
    is kept. Every dl.batchnorm_train gets a remark: fused, or why not.
  }];
  let constructor = "::dlc::createFuseConvBnReluPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def FuseBatchNormReluMaxPool
    : Pass<"dl-fuse-batchnorm-relu-maxpool", "::mlir::ModuleOp"> {
  let summary = "Fuse training batchnorm + relu + max-pool and its backward";
  let description = [{
    On the training functions (`dl.gradients`, `dl.train_step`), after
    -dl-fuse-conv-bn-relu: each `dl.batchnorm_relu_train` whose output only
    feeds a `dl.maxpool2d` with windows that do not overlap (strides >=
    pool_size) and that pool's `dl.maxpool2d_grad`, whose result only feeds
    the batchnorm's `dl.batchnorm_relu_train_grad`, becomes
    `dl.batchnorm_relu_maxpool_train` (statistics pass, then relu and the
    window maxima in one pass) and `dl.batchnorm_relu_maxpool_train_grad`
    (each window's arg-max recomputed from the input and the statistics):

      %a, %m, %v = dl.batchnorm_relu_train %z, %g, %b {...}
      %p = dl.maxpool2d %a {...}
      %da = dl.maxpool2d_grad %a, %p, %dp {...}
      %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %m, %v, %da
    becomes
      %p, %m, %v = dl.batchnorm_relu_maxpool_train %z, %g, %b {...}
      %dz, %dg, %db = dl.batchnorm_relu_maxpool_train_grad
          %z, %g, %b, %m, %v, %dp {...}

    so the relu output, the pool's gradient scatter and arg-max indices are
    never stored. A pool without a gradient gets the fused forward only.
    Every dl.batchnorm_relu_train gets a remark: fused, or why not.
  }];
  let constructor = "::dlc::createFuseBatchNormReluMaxPoolPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def FuseBatchNormAddRelu
    : Pass<"dl-fuse-batchnorm-add-relu", "::mlir::ModuleOp"> {
  let summary = "Fuse a residual block's batchnorm + add + relu and backward";
  let description = [{
    On the training functions (`dl.gradients`, `dl.train_step`): each
    `dl.add` of a `dl.batchnorm_train` output and a shortcut, followed by
    `dl.relu`, with the backward `dl.relu_grad` (of an optional `dl.add_n`
    of the output's gradients) + `dl.batchnorm_train_grad`:

      %y, %m, %v = dl.batchnorm_train %z, %g, %b, %mm, %mv {...}
      %a = dl.relu (dl.add %y, %r)
      %ds = dl.relu_grad %s, %a, (dl.add_n %da0, %da1)
      %dz, %dg, %db, ... = dl.batchnorm_train_grad ..., %ds
    becomes
      %a, %m, %v = dl.batchnorm_add_relu_train %z, %g, %b, %r {...}
      %dz, %dg, %db, %dr = dl.batchnorm_add_relu_train_grad
          %z, %g, %b, %m, %v, %a, %da0, %da1 {...}

    (%dr, the relu gradient, replaces %ds for the shortcut's gradient).
    When both add operands are training batchnorms (a projection shortcut)
    the ops are dl.batchnorm_add_batchnorm_relu_train(_grad): both
    statistics, then one pass; both reductions in one pass over the
    gradient, both input gradients in one more (the add_n of the output's
    gradients is folded only into the one-batchnorm form). Every dl.batchnorm_train
    feeding a dl.add gets a remark: fused, or why not.
  }];
  let constructor = "::dlc::createFuseBatchNormAddReluPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def FoldBatchNorm : Pass<"dl-fold-batchnorm", "::mlir::ModuleOp"> {
  let summary = "Fold inference batchnorm into the conv/dense before it";
  let description = [{
    On the inference functions (`dl.model`, `dl.eval`): each `dl.batchnorm`
    whose input is a conv2d, depthwise_conv2d or dense used by nothing
    else becomes `dl.fold_batchnorm` (the kernel and bias folded at run time
    from the current parameters) + `dl.fused_<layer>`, which also applies
    the batchnorm output's activation when that is its only user:

      %z = dl.conv2d %x, %k ...
      %y = dl.batchnorm %z, %g, %beta, %mm, %mv {epsilon = 1.0e-03 : f64}
      %a = dl.relu %y
    becomes
      %k2, %b2 = dl.fold_batchnorm %k, %g, %beta, %mm, %mv {epsilon = ...}
      %a = dl.fused_conv2d %x, %k2, %b2 {activation = "relu", ...}

    Every dl.batchnorm of an inference function gets a remark: fused, or
    why not.
  }];
  let constructor = "::dlc::createFoldBatchNormPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def FuseBiasActivation : Pass<"dl-fuse-bias-activation", "::mlir::ModuleOp"> {
  let summary = "Apply a layer's bias and activation in its epilogue";
  let description = [{
    On every function: a conv2d, depthwise_conv2d or dense followed by
    relu, sigmoid, tanh, leaky_relu or elu becomes `dl.fused_<layer>
    {activation = ...}`. In the training functions the activation's
    gradient and the layer's gradient become `dl.fused_<layer>_grad`, which
    reads the activation's output instead of the pre-activation (so elu,
    and leaky_relu with alpha < 0, are fused only in inference):

      %z = dl.dense %x, %k, %b
      %a = dl.relu %z
      %dz = dl.relu_grad %z, %a, %da
      %dx, %dk, %db = dl.dense_grad %x, %k, %b, %z, %dz
    becomes
      %a = dl.fused_dense %x, %k, %b {activation = "relu", units = ...}
      %dx, %dk, %db = dl.fused_dense_grad %x, %k, %b, %a, %da {...}

    Fused only when every user of the pre-activation is the activation, its
    gradient or the layer's gradient; every layer whose output feeds an
    activation gets a remark: fused, or why not.
  }];
  let constructor = "::dlc::createFuseBiasActivationPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def FuseElementwise : Pass<"dl-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "Fuse chains of elementwise ops into one kernel each";
  let description = [{
    On every function, greedy producer-consumer fusion of the ops that a
    fused elementwise loop can compute (activations, add, subtract,
    multiply, add_n, dropout, their gradients, the elementwise loss
    gradients, l2_loss_grad, the optimizer and moving-average updates) when
    they have one shape:

      %0 = dl.dropout_grad %x, %y, %dy {...}
      %1 = dl.relu_grad %z, %x, %0
    becomes
      %1 = dl.fused_elementwise %dy, %x, %y, %z : ... {
        ... the two ops on the block arguments ...
        dl.elementwise_yield %r
      }

    A value also read after the chain becomes an extra result; a value read
    by another op before the chain's last op stops the fusion. Updates end
    a chain (one kernel per parameter tensor). Every candidate pair gets a
    remark: fused, or why not.
  }];
  let constructor = "::dlc::createFuseElementwisePass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def SavePoolIndices : Pass<"dl-save-pool-indices", "::mlir::ModuleOp"> {
  let summary = "Max pooling saves its indices for the backward";
  let description = [{
    On the training functions (`dl.gradients`, `dl.train_step`): each
    `dl.maxpool2d` whose output's gradients are `dl.maxpool2d_grad` of the
    same input and attributes becomes `dl.maxpool2d_indices`, which also
    returns where each maximum was (i32, the output's shape), and its
    gradients `dl.maxpool2d_grad_indices`, which scatter dy by those
    indices, so the pooled input is no longer read by the backward:

      %p = dl.maxpool2d %a {...}
      %da = dl.maxpool2d_grad %a, %p, %dp {...}
    becomes
      %p, %idx = dl.maxpool2d_indices %a {...}
      %da = dl.maxpool2d_grad_indices %idx, %dp {...}

    Bit-identical results. Every dl.maxpool2d of a training function gets a
    remark: rewritten, or why not.
  }];
  let constructor = "::dlc::createSavePoolIndicesPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def ScheduleUpdates : Pass<"dl-schedule-updates", "::mlir::ModuleOp"> {
  let summary = "Run each parameter update of a train step as early as it may";
  let description = [{
    In `dl.train_step` functions, moves every update (an op without
    results that writes parameters in place: optimizer updates, moving
    averages, fused_elementwise kernels ending in one) up to just after the
    definitions of its operands and the last earlier op that reads or
    writes one of its parameters. The weight gradient then dies when it is
    applied instead of at the end of the step:

      %dk = dl.conv2d_grad ...          // conv2d_1's weight gradient
      %dx = dl.conv2d_grad ...          // the rest of the backward
      dl.adam_update %k1, %dk, ...
    becomes
      %dk = dl.conv2d_grad ...
      dl.adam_update %k1, %dk, ...
      %dx = dl.conv2d_grad ...

    No op that reads a parameter moves past the update that writes it, so
    the step computes the same values, bit for bit.
  }];
  let constructor = "::dlc::createScheduleUpdatesPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

def Recompute : Pass<"dl-recompute", "::mlir::ModuleOp"> {
  let summary = "Recompute chosen forward ops in the backward to save memory";
  let description = [{
    On the training functions (`dl.gradients`, `dl.train_step`): each
    forward op carrying the unit attribute `dl.recompute` (with `all`:
    every candidate, see passes/Recompute.h) is cloned right before the
    first backward op that reads one of its results, and the backward reads
    the clone, so the forward result dies after its forward users:

      %z = dl.conv2d %x, %k {...}
      %y, %m, %v = dl.batchnorm_relu_train %z, %g, %b {...}
      ...
      %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %m, %v, %dy
    becomes
      %z = dl.conv2d %x, %k {...}
      %y, %m, %v = dl.batchnorm_relu_train %z, %g, %b {...}
      ...
      %z2 = dl.conv2d %x, %k {...}
      %dz, %dg, %db = dl.batchnorm_relu_train_grad %z2, %g, %b, %m, %v, %dy

    The clone is the same kernel on the same inputs: bit-identical results.
    A dl.batchnorm_relu_train is recomputed as dl.batchnorm_relu_apply
    from its input and the statistics it returned: one pass, the same
    output bit for bit.
    `dlc compile --memory-budget` marks the ops. Each marked op gets a
    remark "recompute: ...".
  }];
  let constructor = "::dlc::createRecomputePass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
  let options = [
    Option<"all", "all", "bool", /*default=*/"false",
           "Recompute every candidate, not only the marked ops">
  ];
}

#endif // DLC_PASSES_PASSES_TD
