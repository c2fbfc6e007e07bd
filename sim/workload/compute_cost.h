// Compute cost: how long one kernel takes on one GPU, from its FLOPs, its device-memory bytes
// and a per-family efficiency model (topologies/efficiency/<family>.json,
// docs/formats/efficiency.md).
//
// Contract of kernel_seconds():
//   compute = flops / (peak(p) · eff), memory = bytes / (bandwidth · bandwidth_efficiency)
//   seconds = max(compute, memory) + launch overhead
// GEMM:      eff = max_efficiency(p) · F / (F + F_half) [· d / (d + d_half)], where
//            F_half = half_saturation_us · peak(p) · max_efficiency(p): a GEMM loses a fixed ramp
//            time whatever its precision or card, so the compute term is F / (peak · max) + ramp.
//            Precision fp32 is full FP32 on CUDA cores (PyTorch's default, allow_tf32 = False);
//            ask for tf32 explicitly to model TF32 tensor-core matmuls.
// attention: flops at the 16-bit tensor rate (bf16, else fp16) times attention.efficiency,
//            whatever work.precision says.
// memory_bound: flops at the fp32 CUDA-core rate (elementwise math never uses tensor cores).
// A precision the card or the efficiency file lacks falls back to the 16-bit pair (rate and
// efficiency together); callers validate precisions first, this only guarantees no crash.
// Work with zero flops and zero bytes still costs the launch overhead.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/diagnostics.h"
#include "scenario/gpu_spec.h"
#include "scenario/efficiency_spec.h"
#include "scenario/json_document.h"

namespace stepsim {

enum class WorkClass { gemm, attention, memory_bound };

struct ComputeWork {
  WorkClass cls = WorkClass::gemm;
  double flops = 0;  // FLOPs executed
  double bytes = 0;  // bytes read + written in device memory
  double gemm_m = 0, gemm_n = 0, gemm_k = 0;  // GEMM shape (optional; 0 = unknown)
  Precision precision = Precision::bf16;       // matmul precision (GEMMs only; see above)
};



struct KernelCost {
  double compute_s = 0;   // tensor/vector time at the modelled efficiency
  double memory_s = 0;    // device-memory time
  double overhead_s = 0;  // launch overhead
  double seconds() const { return (compute_s > memory_s ? compute_s : memory_s) + overhead_s; }
  bool memory_bound() const { return memory_s > compute_s; }
};

KernelCost kernel_cost(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work);
double kernel_seconds(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work);

// The fraction of peak(p) that a GEMM of this size and shape reaches (p as resolved above).
double gemm_efficiency(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work);

}  // namespace stepsim
