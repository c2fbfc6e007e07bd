#include "workload/memory_verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "workload/model_state_memory.h"
#include "workload/program_builder.h"

namespace stepsim {

namespace {

struct Candidate {
  std::string description;
  std::vector<std::string> overrides;
  std::function<bool(Scenario&)> apply;  // false when the change does not apply to this scenario
};

// Re-derives dp after a change of the GPU count; false when the batch no longer divides.
bool rebalance(Scenario& s) {
  TrainingConfig& t = s.training;
  const int64_t model_parallel = int64_t{t.tp} * t.pp * t.cp;
  if (s.total_gpus() % model_parallel != 0) return false;
  t.dp = static_cast<int>(s.total_gpus() / model_parallel);
  if (t.sharding == Sharding::hsdp) t.hsdp_shard_size = std::min(*t.dp, t.hsdp_shard_size);
  return t.global_batch % (t.micro_batch * *t.dp) == 0;
}

std::vector<Candidate> candidates(const Scenario& s) {
  const TrainingConfig& t = s.training;
  std::vector<Candidate> c;
  if (t.frozen_weights_get_gradients())
    c.push_back({"wrap the LoRA adapters in FSDP units of their own (the frozen weights then take no gradients)",
                 {"training.fsdp_frozen_gradients=false"},
                 [](Scenario& x) { x.training.fsdp_frozen_gradients = false; return true; }});
  if (t.accumulates_unsharded_gradients() && s.micro_batches_per_step() > 1)
    c.push_back({"reduce-scatter gradients every micro-batch instead of accumulating them unsharded (no no_sync)",
                 {"training.fsdp_gradient_sync=every_micro_batch"},
                 [](Scenario& x) { x.training.fsdp_no_sync = false; return true; }});
  if (!t.shards_parameters())
    c.push_back({"shard parameters, gradients and optimizer states (ZeRO-3)", {"training.sharding=zero3"},
                 [](Scenario& x) { x.training.sharding = Sharding::zero3; return true; }});
  if (t.recompute != Recompute::full)
    c.push_back({"full activation recompute", {"training.recompute=full"},
                 [](Scenario& x) { x.training.recompute = Recompute::full; return true; }});
  if (t.micro_batch > 1)
    c.push_back({fmt::format("micro-batch {} instead of {}", t.micro_batch / 2, t.micro_batch),
                 {fmt::format("training.micro_batch={}", t.micro_batch / 2)},
                 [](Scenario& x) { x.training.micro_batch /= 2; return rebalance(x); }});
  if (t.optimizer == Optimizer::adamw)
    c.push_back({"8-bit AdamW states", {"training.optimizer=adamw8bit"},
                 [](Scenario& x) { x.training.optimizer = Optimizer::adamw8bit; return true; }});
  if (t.offload == Offload::none)
    c.push_back({s.topology.host_memory_bandwidth > 0
                     ? "offload optimizer states to host memory (with ZeRO-3; the step then runs on the CPU)"
                     : "offload optimizer states to host memory (with ZeRO-3; the offloaded step is not timed)",
                 {"training.offload=optimizer", "training.sharding=zero3"}, [](Scenario& x) {
                   x.training.offload = Offload::optimizer;
                   if (!x.training.shards_parameters()) x.training.sharding = Sharding::zero3;
                   return true;
                 }});
  // Paged states never fail an allocation, but what does not fit crosses the host link every step.
  if (!t.paged_optimizer && t.offload == Offload::none &&
      (t.optimizer == Optimizer::adamw || t.optimizer == Optimizer::adamw8bit))
    c.push_back({"paged optimizer states (bitsandbytes; what does not fit is paged over the host link every step)",
                 {"training.paged_optimizer=true"},
                 [](Scenario& x) { x.training.paged_optimizer = true; return true; }});
  if (t.finetune == Finetune::full)
    c.push_back({"LoRA rank 16 instead of full fine-tuning", {"training.finetune=lora", "training.lora_rank=16"},
                 [](Scenario& x) {
                   x.training.finetune = Finetune::lora;
                   x.training.lora_rank = 16;
                   return true;
                 }});
  if (t.finetune != Finetune::qlora) {
    const int rank = t.lora_rank > 0 ? t.lora_rank : 16;  // a LoRA run keeps its adapters
    std::vector<std::string> qlora = {"training.finetune=qlora", fmt::format("training.lora_rank={}", rank)};
    if (t.fsdp_frozen_gradients) qlora.push_back("training.fsdp_frozen_gradients=false");  // NF4 takes none
    c.push_back({fmt::format("QLoRA (NF4 base, rank {})", rank), qlora, [rank](Scenario& x) {
                   x.training.finetune = Finetune::qlora;
                   x.training.fsdp_frozen_gradients = false;
                   x.training.lora_rank = rank;
                   return true;
                 }});
  }
  if (s.topology.fabric)
    c.push_back({fmt::format("{} nodes instead of {}", s.nodes * 2, s.nodes),
                 {fmt::format("cluster.nodes={}", s.nodes * 2)}, [](Scenario& x) {
                   x.nodes *= 2;
                   return rebalance(x);
                 }});
  return c;
}

}  // namespace

Result<MemoryVerdict> evaluate_memory(const Scenario& s, bool suggest) {
  auto overheads = load_memory_overheads();
  if (!overheads.ok()) return overheads.errors();
  return evaluate_memory(s, build_workload(s, overheads.value()), overheads.value(), suggest);
}

double paged_evicted_bytes(double paged, double device_peak, double capacity) {
  return std::clamp(paged - (capacity - device_peak), 0.0, paged);
}

MemoryVerdict evaluate_memory(const Scenario& s, const Workload& w, const MemoryOverheads& overheads, bool suggest) {
  MemoryVerdict v;
  v.capacity_bytes = usable_capacity(s.gpu, overheads);
  const int communicators = communicator_count(s);
  for (const RankProgram& p : w.stages) {
    v.stages.push_back(memory_timeline(p, overheads, communicators));
    if (v.stages.back().required_bytes > v.worst.required_bytes) v.worst = v.stages.back();
  }
  v.oom = v.worst.required_bytes > v.capacity_bytes;
  v.shortfall_bytes = v.oom ? v.worst.required_bytes - v.capacity_bytes : 0;
  v.headroom_bytes = v.oom ? 0 : v.capacity_bytes - v.worst.required_bytes;
  double host_per_gpu = 0;
  for (int p = 0; p < s.training.pp; ++p) host_per_gpu = std::max(host_per_gpu, model_state_bytes(s, p).host);
  v.paged_bytes = model_state_bytes(s, v.worst.pipeline_rank).paged;
  v.paged_evicted_bytes = paged_evicted_bytes(v.paged_bytes, v.worst.peak_device_bytes, v.capacity_bytes);
  v.worst.peak_device_bytes += v.paged_bytes - v.paged_evicted_bytes;
  v.tight = !v.oom && v.worst.required_bytes + v.spare_cache_bytes() > v.capacity_bytes;
  // Evicted pages live in host memory (the worst stage's figure for every GPU of the node).
  v.host_bytes_per_node = (host_per_gpu + v.paged_evicted_bytes) * s.gpus_per_node();
  v.host_capacity_bytes = s.topology.host_memory_bytes;
  v.host_oom = v.host_bytes_per_node > v.host_capacity_bytes;
  if (!suggest || !(v.oom || v.host_oom)) return v;

  // Single changes first, in the order listed (least disruptive first); pairs if none fits.
  std::vector<Candidate> all = candidates(s);
  auto try_fix = [&](const std::vector<const Candidate*>& chosen) {
    Scenario x = s;
    MemoryFix fix;
    for (const Candidate* c : chosen) {
      if (!c->apply(x)) return;
      fix.description += (fix.description.empty() ? "" : " + ") + c->description;
      fix.overrides.insert(fix.overrides.end(), c->overrides.begin(), c->overrides.end());
    }
    const MemoryVerdict r = evaluate_memory(x, build_workload(x, overheads), overheads, false);
    if (r.oom || r.host_oom) return;
    fix.peak_device_bytes = r.worst.peak_device_bytes;
    fix.required_bytes = r.worst.required_bytes;
    v.fixes.push_back(fix);
  };
  for (size_t i = 0; i < all.size() && v.fixes.size() < 3; ++i) try_fix({&all[i]});
  for (size_t i = 0; i < all.size() && v.fixes.empty(); ++i)
    for (size_t j = i + 1; j < all.size() && v.fixes.size() < 3; ++j) try_fix({&all[i], &all[j]});
  return v;
}

}  // namespace stepsim
