#include "workload/op_costs.h"

#include "workload/memory_timeline.h"
#include "workload/memory_verdict.h"
#include "workload/offload_cost.h"

namespace stepsim {

namespace {

// The evicted part of a paged optimizer's states comes in over the host link for the update and
// goes out again when the next step's activations need the room: twice per step.
double paging_seconds(const Scenario& s, const Workload& w, const RankProgram& p, double paged) {
  const RankMemory m = memory_timeline(p, w.overheads, communicator_count(s));
  const double evicted = paged_evicted_bytes(paged, m.peak_device_bytes, usable_capacity(s.gpu, w.overheads));
  return 2 * evicted / concurrent_host_link_bandwidth(s.topology, s.gpu.host_bandwidth);
}

}  // namespace

Diagnostics apply_costs(const Scenario& s, Workload& w) {
  auto eff = load_efficiency(s.gpu.family);
  if (!eff.ok()) return eff.errors();
  for (RankProgram& p : w.stages) {
    for (Op& op : p.ops) {
      if (is_communication(op.kind)) continue;
      if (op.host_bytes > 0 || op.host_link_bytes > 0) {  // offloaded optimizer step: runs on the host
        op.seconds = offloaded_step_seconds(s, op.host_bytes, op.host_link_bytes,
                                            w.overheads.host_memory_bandwidth_efficiency);
        continue;
      }
      if (op.flops == 0 && op.bytes == 0) continue;  // markers and skipped work launch nothing
      ComputeWork work{op.work, op.flops, op.bytes, op.gemm_m, op.gemm_n, op.gemm_k, op.precision};
      op.seconds = kernel_seconds(s.gpu, eff.value(), work);
      if (op.paged_state_bytes > 0) op.seconds += paging_seconds(s, w, p, op.paged_state_bytes);
    }
  }
  return {};
}

ComputeSummary summarize_compute(const Workload& w) {
  ComputeSummary best;
  for (const RankProgram& p : w.stages) {
    ComputeSummary c;
    c.stage = p.pipeline_rank;
    for (const Op& op : p.ops) {
      if (is_communication(op.kind) || op.seconds == 0) continue;
      c.seconds_by_kind[to_string(op.kind)] += op.seconds;
      c.seconds_by_phase[to_string(op.phase)] += op.seconds;
      c.total_seconds += op.seconds;
    }
    if (c.total_seconds > best.total_seconds) best = c;
  }
  return best;
}

}  // namespace stepsim
