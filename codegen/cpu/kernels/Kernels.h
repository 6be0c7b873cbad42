//===- Kernels.h - every CPU kernel template, for generated programs ------===//
//
// Header-only C++17 templates over the element type T (float or double), in
// namespace `dlk`. A generated program includes this one header; its step
// functions call these kernels with constant shape descriptors.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_KERNELS_H
#define DLC_CODEGEN_CPU_KERNELS_KERNELS_H

#include "codegen/cpu/kernels/Convolution.h"
#include "codegen/cpu/kernels/Elementwise.h"
#include "codegen/cpu/kernels/FusedElementwise.h"
#include "codegen/cpu/kernels/FusedNormAdd.h"
#include "codegen/cpu/kernels/FusedNormPool.h"
#include "codegen/cpu/kernels/FusedNormalization.h"
#include "codegen/cpu/kernels/Recurrent.h"
#include "codegen/cpu/kernels/StepContext.h"
#include "codegen/cpu/kernels/Training.h"

#endif // DLC_CODEGEN_CPU_KERNELS_KERNELS_H
