#include "workload/compute_cost.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

namespace {

// --- rates --------------------------------------------------------------------------------------

struct RatePair {
  double flops_per_s = 0;
  double max_efficiency = 0;
};

std::optional<RatePair> pair_for(const GpuSpec& gpu, const EfficiencyModel& eff, Precision p) {
  auto rate = gpu.peak_flops(p);
  auto it = eff.gemm_max_efficiency.find(p);
  if (!rate || it == eff.gemm_max_efficiency.end()) return std::nullopt;
  return RatePair{*rate, it->second};
}

double sixteen_bit_rate(const GpuSpec& gpu) {
  for (Precision p : {Precision::bf16, Precision::fp16, Precision::fp32})
    if (auto r = gpu.peak_flops(p)) return *r;
  return 0;
}

// The requested precision when both the card and the file have it, else the 16-bit pair. Only a
// hand-made GpuSpec or model can miss every 16-bit entry; parse_gpu/parse_efficiency require one.
RatePair gemm_pair(const GpuSpec& gpu, const EfficiencyModel& eff, Precision p) {
  for (Precision q : {p, Precision::bf16, Precision::fp16})
    if (auto pair = pair_for(gpu, eff, q)) return *pair;
  double e = 0;
  for (Precision q : {Precision::bf16, Precision::fp16})
    if (eff.gemm_max_efficiency.count(q)) { e = eff.gemm_max_efficiency.at(q); break; }
  return {sixteen_bit_rate(gpu), e};
}

double divide(double work, double rate) {
  if (work <= 0) return 0;
  if (rate <= 0) return std::numeric_limits<double>::infinity();
  return work / rate;
}

}  // namespace


double gemm_efficiency(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  if (work.flops <= 0) return 0;
  const RatePair pair = gemm_pair(gpu, eff, work.precision);
  // F_half = ramp time × achievable rate, so eff = max · F / (F + F_half).
  const double f_half = eff.gemm_half_saturation_s * pair.flops_per_s * pair.max_efficiency;
  double e = pair.max_efficiency * work.flops / (work.flops + f_half);
  if (eff.gemm_min_dimension_half) {
    double d = 0;  // smallest known dimension: thin GEMMs fill few tiles and re-read operands
    for (double x : {work.gemm_m, work.gemm_n, work.gemm_k})
      if (x > 0) d = d > 0 ? std::min(d, x) : x;
    if (d > 0) e *= d / (d + *eff.gemm_min_dimension_half);
  }
  return e;
}

KernelCost kernel_cost(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  KernelCost c;
  switch (work.cls) {
    case WorkClass::gemm: {
      const double rate = gemm_pair(gpu, eff, work.precision).flops_per_s;
      c.compute_s = divide(work.flops, rate * gemm_efficiency(gpu, eff, work));
      break;
    }
    case WorkClass::attention:
      c.compute_s = divide(work.flops, sixteen_bit_rate(gpu) * eff.attention_efficiency);
      break;
    case WorkClass::memory_bound: {
      // Elementwise math runs on CUDA cores; its peak is a bound, not a calibrated rate.
      auto fp32 = gpu.peak_flops(Precision::fp32);
      c.compute_s = divide(work.flops, fp32 ? *fp32 : sixteen_bit_rate(gpu));
      break;
    }
  }
  c.memory_s = divide(work.bytes, gpu.memory_bandwidth * eff.memory_bandwidth_efficiency);
  c.overhead_s = eff.launch_overhead_s;
  return c;
}

double kernel_seconds(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  return kernel_cost(gpu, eff, work).seconds();
}

}  // namespace stepsim
