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
  return gpu.memory_bytes - overheads.driver_reserved_bytes;
}

RankMemory memory_timeline(const RankProgram& program, const MemoryOverheads& overheads, int communicators) {
  RankMemory r;
  r.pipeline_rank = program.pipeline_rank;
  std::array<double, kMemCategoryCount> now{};
  double total = 0;
  auto apply = [&](const std::vector<MemoryEffect>& effects) {
    for (const MemoryEffect& e : effects) {
      const size_t c = static_cast<size_t>(e.category);
      now[c] += e.bytes;
      total += e.bytes;
      r.max_by_category[c] = std::max(r.max_by_category[c], now[c]);
    }
  };
  auto observe = [&](size_t index) {
    if (total <= r.peak_tensor_bytes) return;
    const Op& op = program.ops[index];
    r.peak_tensor_bytes = total;
    r.at_peak = now;
    r.peak_at = {op.phase, op.kind, op.micro_batch, op.layer, index};
  };
  for (size_t i = 0; i < program.ops.size(); ++i) {
    apply(program.ops[i].at_start);
    observe(i);
    apply(program.ops[i].at_end);
    observe(i);
  }
  r.framework_bytes = overheads.cuda_context_bytes + communicators * overheads.nccl_bytes_per_communicator;
  r.peak_reserved_bytes = r.peak_tensor_bytes * (1 + overheads.allocator_reserve_fraction);
  r.peak_device_bytes = r.peak_reserved_bytes + r.framework_bytes;
  r.at_peak[static_cast<size_t>(MemCategory::framework)] =
      r.framework_bytes + r.peak_tensor_bytes * overheads.allocator_reserve_fraction;
  return r;
}

}  // namespace stepsim
