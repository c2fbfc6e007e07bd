// simulate_step(): replays one training step of a lowered workload on a SimGrid platform built
// from the cluster graph, one actor per GPU stream, and returns its duration and activity record.
//
// REQUIRES: costs applied to the workload (op_costs.h); called at most once per process
// (SimGrid allows one engine per process: sweeps and tests run one process per simulation).
// Compute ops run as executions whose simulated time equals the cost model's exactly;
// communication runs as flows (macro/step fidelity) that share links by SimGrid's max-min
// model, or as α-β delays (analytic). Ranks of a stage wait for their dependencies like CUDA
// streams wait for events.
#pragma once

#include "cluster/cluster_graph.h"
#include "engine/collective_algorithms.h"
#include "engine/step_result.h"
#include "scenario/collective_calibration.h"
#include "scenario/scenario.h"
#include "workload/program_builder.h"

namespace stepsim {

struct StepOptions {
  Fidelity fidelity = Fidelity::macro;
  bool record_all_ranks = true;  // false: record one rank per pipeline stage (large clusters)
  std::vector<int> extra_recorded_ranks;  // also record these (trace ranks chosen on a large cluster)
  bool fold_replicas = false;     // simulate data-parallel replica 0 only, when the route check allows it
  std::string algorithm = "auto";  // scenario simulation.collective_algorithm
  std::string protocol = "auto";   // scenario simulation.collective_protocol
};

Result<StepResult> simulate_step(const Scenario& s, const Workload& w, const ClusterGraph& cluster,
                                 const CollectiveCalibration& calibration, const StepOptions& options);

// Fills the breakdown of `result` from its records (the critical rank's compute stream).
void compute_breakdown(const Workload& w, StepResult& result);

}  // namespace stepsim
