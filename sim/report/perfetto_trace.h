// The Perfetto trace of one simulated step: Chrome JSON Trace Event Format that ui.perfetto.dev
// opens. docs/formats/trace.md describes the contents; the importer rules it follows are in
// ../shared/reference/perfetto.md and are enforced by tools/check_trace.py.
//
// Layout: one process per traced GPU (pid = rank + 1) named "node N · GPU M · <gpu id>", one
// thread per stream that ran ops (tid = stream index + 1, never 0) holding complete slices that
// never partially overlap; memory in use by category as per-process counters; pipeline
// transfers in flight as async slices (they overlap for real) and as send→recv flow arrows; a
// "critical path" process with the chain of steps and one flow chain along its GPU slices; a
// "fabric" process with one utilization counter per link. Times are µs since the step start
// with exactly three decimals (integer ns), so the bytes depend only on the inputs.
//
// REQUIRES: a StepResult simulated from `workload` and recording every rank in `ranks`
// (record_all_ranks or StepOptions.extra_recorded_ranks). The critical path and the link list
// may be empty. Pure function of its inputs (no SimGrid).
#pragma once

#include <string>
#include <vector>

#include "engine/step_result.h"
#include "report/critical_path.h"
#include "scenario/diagnostics.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "workload/program_builder.h"

namespace stepsim {

constexpr const char* kTraceSchema = "stepsim.trace/1";

struct TraceInputs {
  const Scenario& scenario;
  const Workload& workload;
  const MemoryOverheads& overheads;
  const StepResult& result;
  const CriticalPath& critical_path;
  std::vector<int> ranks;  // recorded ranks to show; empty: every recorded rank
};

// A pipeline transfer whose both ends were recorded: the k-th send from one rank to a peer with
// one tag (forward activations / backward gradients) is the k-th receive of that tag on the
// peer, as the engine's per-rank mailboxes match them (first in, first out).
struct PipelineTransfer {
  const ActivityRecord* send = nullptr;
  const ActivityRecord* recv = nullptr;
};
std::vector<PipelineTransfer> match_pipeline_transfers(const Workload& w, const StepResult& result);

std::string perfetto_trace_json(const TraceInputs& in);
// Streams the trace to `path` one rank at a time (memory holds one rank's slices), gzip when the
// path ends in ".gz". Errors name the path and the option.
Diagnostics write_perfetto_trace(const TraceInputs& in, const std::string& path, const std::string& option);

// Writes `bytes` to `path`, gzip-compressed (zlib, no name or time in the header) when the path
// ends in ".gz". Errors name the path and the option.
Diagnostics write_output_file(const std::string& path, const std::string& bytes, const std::string& option);

// "0-7,64" → {0..7, 64}, sorted and unique. Errors (exit 2) name the option, the bad part and
// the valid range [0, world_size).
Result<std::vector<int>> parse_rank_list(const std::string& text, int world_size, const std::string& option);

// Ranks to draw: `chosen` when given (each must be recorded), else the recorded ranks, at most
// `limit` of them when limit > 0 and nothing was chosen.
Result<std::vector<int>> select_traced_ranks(const StepResult& result, const std::vector<int>& chosen, size_t limit,
                                             const std::string& option);

}  // namespace stepsim
