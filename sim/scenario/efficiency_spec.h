// EfficiencyModel: how close a GPU family gets to its catalog peaks (topologies/efficiency/
// <family>.json, docs/formats/efficiency.md): GEMM efficiency per precision and its ramp time,
// attention and memory-bandwidth efficiency, launch overhead. Every number is cited (the sources
// rule of citations.h); the cost model (workload/compute_cost.h) uses it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/gpu_spec.h"
#include "scenario/json_document.h"

namespace stepsim {

struct EfficiencyModel {
  std::string file;
  std::string family;
  std::map<Precision, double> gemm_max_efficiency;  // fraction of the catalog dense peak; absent = null
  double gemm_half_saturation_s = 0;                // fixed ramp time of one GEMM
  std::optional<double> gemm_min_dimension_half;    // elements; absent = no shape penalty
  double attention_efficiency = 0;                  // fraction of the 16-bit tensor peak
  double memory_bandwidth_efficiency = 0;           // fraction of the catalog bandwidth
  double launch_overhead_s = 0;                     // per kernel
  std::map<std::string, std::string> sources;
};

// The families a GPU catalog entry may name; each has one efficiency file.
const std::vector<std::string>& efficiency_families();
std::string efficiency_dir();  // <data root>/topologies/efficiency

Result<EfficiencyModel> parse_efficiency(const JsonDocument& doc);
Result<EfficiencyModel> load_efficiency(const std::string& family);

}  // namespace stepsim
