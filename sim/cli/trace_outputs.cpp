#include "cli/trace_outputs.h"

#include <fmt/format.h>

#include <iostream>

#include "report/perfetto_trace.h"
#include "report/timeline_svg.h"

namespace stepsim {

Result<TraceRequest> parse_trace_request(const RunOptions& options, const Scenario& s) {
  TraceRequest request;
  request.wanted = !options.trace.empty() || !options.timeline_svg.empty();
  Diagnostics d;
  if (!options.trace_ranks.empty() && !request.wanted)
    d.add({"", 0, "--trace-ranks", "chooses the ranks of --trace and --timeline-svg, and neither was given",
           "add --trace FILE.json.gz or --timeline-svg FILE.svg"});
  if (request.wanted && options.no_engine)
    d.add({"", 0, options.trace.empty() ? "--timeline-svg" : "--trace",
           "needs the simulation, and --no-engine skips it", "drop --no-engine"});
  if (!options.trace_ranks.empty()) {
    auto ranks = parse_rank_list(options.trace_ranks, s.total_gpus(), "--trace-ranks");
    if (ranks.ok()) request.ranks = ranks.value();
    else d.append(ranks.errors());
  }
  if (!d.ok()) return d;
  return request;
}

int write_trace_outputs(const RunOptions& options, const TraceRequest& request, const Scenario& s, const Workload& w,
                        const MemoryOverheads& overheads, const StepResult& step, const CriticalPath& path) {
  if (!request.wanted) return kExitOk;
  Diagnostics errors;
  if (!options.trace.empty()) {
    auto ranks = select_traced_ranks(step, request.ranks, 0, "--trace-ranks");
    if (!ranks.ok()) errors.append(ranks.errors());
    else
      errors.append(write_perfetto_trace({s, w, overheads, step, path, ranks.value()}, options.trace, "--trace"));
  }
  if (!options.timeline_svg.empty()) {
    auto ranks = select_traced_ranks(step, request.ranks, kTimelineDefaultRanks, "--trace-ranks");
    if (!ranks.ok()) errors.append(ranks.errors());
    else
      errors.append(write_output_file(options.timeline_svg, timeline_svg({s, w, step, path, ranks.value()}),
                                      "--timeline-svg"));
  }
  if (errors.ok()) return kExitOk;
  std::cout.flush();
  std::cerr << errors.to_string();
  return kExitBadInput;
}

}  // namespace stepsim
