// A compact SVG Gantt chart of one simulated step, for a reader who wants to see the overlap of
// compute and communication without opening Perfetto: one block per rank, one lane per stream
// that ran ops (compute, comm-tp, comm-dp, …), bars coloured by kind (forward, backward,
// recompute, optimizer, TP, DP, PP, CP, EP; the lane background is idle time), the critical path
// outlined, a time axis with units and a legend.
//
// REQUIRES: a StepResult recording every rank in `ranks` (at most kTimelineMaxRanks; empty: the
// first kTimelineDefaultRanks recorded ranks). Bars closer than half a pixel merge, so the size
// stays bounded by the picture's width, not the op count. Deterministic text, valid XML; every
// lane is a <g class="lane" data-rank=".." data-stream=".."> for tools and tests.
#pragma once

#include <string>
#include <vector>

#include "engine/step_result.h"
#include "report/critical_path.h"
#include "scenario/scenario.h"
#include "workload/program_builder.h"

namespace stepsim {

constexpr size_t kTimelineMaxRanks = 16;
constexpr size_t kTimelineDefaultRanks = 8;

struct TimelineInputs {
  const Scenario& scenario;
  const Workload& workload;
  const StepResult& result;
  const CriticalPath& critical_path;
  std::vector<int> ranks;
};

std::string timeline_svg(const TimelineInputs& in);

}  // namespace stepsim
