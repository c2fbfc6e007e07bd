// The critical path of one simulated step: the chain of activities and waits, walked back from
// the activity that ends last, that sets the step time; each link of the chain names the
// resource it occupied (GPU compute of a rank, a network link, or a wait on a peer).
//
// REQUIRES: a StepResult whose records cover the ranks on the path (record_all_ranks, or the
// default one rank per stage) and the Workload it was simulated from. Pure function of its
// inputs (no SimGrid), so constructed cases test it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/step_result.h"
#include "workload/program_builder.h"

namespace stepsim {

struct CriticalStep {
  int rank = 0;
  uint32_t op = 0;  // index in the rank's stage program
  Stream stream = Stream::compute;
  double start = 0, end = 0;
  std::string resource;  // e.g. "rank 3 compute", "link n0.pcie-sw1.up", "wait on peers"
};

struct CriticalPath {
  std::vector<CriticalStep> steps;  // in time order, from step start to step end
};

CriticalPath find_critical_path(const Workload& w, const StepResult& result);

}  // namespace stepsim
