#include "workload/memory_timeline.h"

#include <algorithm>

namespace stepsim {

int communicator_count(const Scenario& s) {
  const TrainingConfig& t = s.training;
  int n = 0;
  n += t.tp > 1;
  n += t.pp > 1;
  n += t.cp > 1;
  n += t.ep > 1;
  n += s.dp() * t.cp > 1;
  n += t.sharding == Sharding::hsdp && s.dp() / std::max(1, t.hsdp_shard_size) > 1;
  return n;
}

double usable_capacity(const GpuSpec& gpu, const MemoryOverheads& overheads) {
  if (gpu.cuda_total_bytes > 0) return gpu.cuda_total_bytes;
  return gpu.memory_bytes - overheads.driver_reserved_bytes;
}

namespace {

// Peak of the tensor bytes along the program. With `first_step`, the optimizer states that the
// program allocates up front appear only when the first optimizer op starts.
double walk(const RankProgram& program, bool first_step, RankMemory* r) {
  std::array<double, kMemCategoryCount> now{};
  double total = 0, peak = 0, deferred = 0;
  auto apply = [&](const std::vector<MemoryEffect>& effects, size_t index) {
    for (const MemoryEffect& e : effects) {
      if (first_step && index == 0 && e.category == MemCategory::optimizer) {
        deferred += e.bytes;
        continue;
      }
      const size_t c = static_cast<size_t>(e.category);
      now[c] += e.bytes;
      total += e.bytes;
      if (r) r->max_by_category[c] = std::max(r->max_by_category[c], now[c]);
    }
  };
  auto observe = [&](size_t index) {
    if (total <= peak) return;
    peak = total;
    if (!r) return;
    const Op& op = program.ops[index];
    r->at_peak = now;
    r->peak_at = {op.phase, op.kind, op.micro_batch, op.layer, index};
  };
  for (size_t i = 0; i < program.ops.size(); ++i) {
    if (deferred > 0 && program.ops[i].phase == Phase::optimizer) {
      now[static_cast<size_t>(MemCategory::optimizer)] += deferred;
      total += deferred;
      deferred = 0;
    }
    apply(program.ops[i].at_start, i);
    observe(i);
    apply(program.ops[i].at_end, i);
    observe(i);
  }
  return peak;
}

}  // namespace

RankMemory memory_timeline(const RankProgram& program, const MemoryOverheads& overheads, int communicators) {
  RankMemory r;
  r.pipeline_rank = program.pipeline_rank;
  r.peak_tensor_bytes = walk(program, false, &r);
  const double first_step_tensors = walk(program, true, nullptr);
  r.framework_bytes = overheads.cuda_context_bytes + communicators * overheads.nccl_bytes_per_communicator;
  const double reserve = 1 + overheads.allocator_reserve_fraction;
  r.peak_reserved_bytes = r.peak_tensor_bytes * reserve;
  r.peak_device_bytes = r.peak_reserved_bytes + r.framework_bytes;
  r.required_bytes = r.peak_tensor_bytes + r.framework_bytes;
  r.first_step_peak_device_bytes = first_step_tensors * reserve + r.framework_bytes;
  r.at_peak[static_cast<size_t>(MemCategory::framework)] =
      r.framework_bytes + r.peak_tensor_bytes * overheads.allocator_reserve_fraction;
  return r;
}

}  // namespace stepsim
