// The report of one scenario (schema stepsim.report/1, docs/report-schema.md): parameters,
// tokens and model FLOPs per step, per-GPU memory (model states, the peak from the memory
// timeline, the OOM verdict with computed fixes), compute time per op kind and, when the step
// was simulated, its time, throughput, MFU and breakdown, and when the critical path was found
// (facts.critical_path, cli/commands.cpp) the path's summary and the bottlenecks
// (critical_path.h, bottlenecks.h). Absent facts are absent, not zero. One CSV row of the JSON
// report: report_csv.h.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/step_result.h"
#include "report/critical_path.h"
#include "scenario/scenario.h"
#include "workload/memory_verdict.h"
#include "workload/op_costs.h"

namespace stepsim {

constexpr const char* kReportSchema = "stepsim.report/1";

struct WorkloadFacts {
  MemoryVerdict memory;
  ComputeSummary compute;
  int peak_global_rank = 0;  // first rank of the stage with the memory peak
  std::optional<StepResult> step;  // absent when the step was not simulated
  // Found on `step` (critical_path.h); with it the report has critical_path and bottlenecks.
  std::optional<CriticalPath> critical_path;
};

nlohmann::ordered_json report_json(const Scenario& s, const WorkloadFacts& facts);
std::string report_text(const Scenario& s, const WorkloadFacts& facts);

}  // namespace stepsim
