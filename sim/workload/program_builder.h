// Lowering of a scenario to per-rank programs (program.h): the operations of every layer,
// micro-batch and pass on each pipeline rank, in the order of the pipeline schedule, with the
// collectives that tensor, pipeline, data, context and expert parallelism add, and the memory
// each operation allocates and frees. Compute durations are left at 0; apply_costs() in
// compute_cost.h fills them. Requires a scenario that load_scenario() accepted.
#pragma once

#include <vector>

#include "scenario/scenario.h"
#include "scenario/memory_overheads.h"
#include "workload/parallel_layout.h"
#include "workload/program.h"

namespace stepsim {

struct Workload {
  ParallelLayout layout;
  int micro_batches = 0;              // per pipeline (global batch / (micro batch · dp))
  double tokens_per_micro_batch = 0;  // on one rank: micro_batch · seq_len / cp
  std::vector<RankProgram> stages;    // index = pipeline rank
  // The memory overheads it was lowered with: apply_costs times an offloaded step with their host
  // DRAM efficiency and a paged optimizer's paging with the memory timeline.
  MemoryOverheads overheads;
};

Workload build_workload(const Scenario& s, const MemoryOverheads& overheads);

}  // namespace stepsim
