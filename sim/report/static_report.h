// The report of one scenario (schema stepsim.report/1, docs/report-schema.md): parameters,
// tokens and model FLOPs per step, per-GPU memory (model states, the peak from the memory
// timeline, the OOM verdict with computed fixes) and compute time per op kind. Fields that the
// simulation engine owns (step time, breakdown, ...) are absent, not zero.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "scenario/scenario.h"
#include "workload/memory_verdict.h"
#include "workload/op_costs.h"

namespace stepsim {

constexpr const char* kReportSchema = "stepsim.report/1";

struct WorkloadFacts {
  MemoryVerdict memory;
  ComputeSummary compute;
  int peak_global_rank = 0;  // first rank of the stage with the memory peak
};

nlohmann::ordered_json report_json(const Scenario& s, const WorkloadFacts& facts);
std::string report_text(const Scenario& s, const WorkloadFacts& facts);

}  // namespace stepsim
