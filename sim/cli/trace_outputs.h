// The run command's trace outputs (--trace, --trace-ranks, --timeline-svg): checked before the
// simulation (bad syntax, ranks out of range, no engine → exit 2) so a long run never ends in a
// usage error, then written from the step's record.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/step_result.h"
#include "report/critical_path.h"
#include "scenario/diagnostics.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "workload/program_builder.h"

namespace stepsim {

struct TraceRequest {
  bool wanted = false;     // --trace or --timeline-svg given
  std::vector<int> ranks;  // --trace-ranks, parsed; empty: the default ranks
};

Result<TraceRequest> parse_trace_request(const RunOptions& options, const Scenario& s);

// Writes the requested files; returns an exit status (kExitOk, or kExitBadInput naming the file).
int write_trace_outputs(const RunOptions& options, const TraceRequest& request, const Scenario& s, const Workload& w,
                        const MemoryOverheads& overheads, const StepResult& step, const CriticalPath& path);

}  // namespace stepsim
