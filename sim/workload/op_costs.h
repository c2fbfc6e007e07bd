// Fills Op::seconds of every compute op with the cost model (compute_cost.h) for the scenario's
// card, and of an offloaded optimizer step with offload_cost.h; a paged optimizer's step also pays
// for its evicted states crossing the host link twice (memory_verdict.h paged_evicted_bytes).
// Sums compute time by op kind and phase for reports. Communication ops keep 0: the engine times
// them on the network.
#pragma once

#include <map>
#include <string>

#include "scenario/scenario.h"
#include "workload/compute_cost.h"
#include "workload/program_builder.h"

namespace stepsim {

Diagnostics apply_costs(const Scenario& s, Workload& w);

struct ComputeSummary {
  std::map<std::string, double> seconds_by_kind;   // op kind -> seconds on one rank (the busiest stage)
  std::map<std::string, double> seconds_by_phase;  // forward / backward / recompute / optimizer
  double total_seconds = 0;                        // serial compute of that stage
  int stage = 0;
};

// The pipeline stage with the most compute, and where its time goes.
ComputeSummary summarize_compute(const Workload& w);

}  // namespace stepsim
