#include "workload/model_state_memory.h"

#include "workload/stage_partition.h"

#include <algorithm>

namespace stepsim {

namespace {

constexpr double kFp8CopyBytes = 1.0;
constexpr double kNvfp4CopyBytes = 0.5 + 1.0 / 16;           // 4-bit values, one 8-bit scale per 16

double compute_copy_bytes(Precision p) {
  if (p == Precision::fp8) return kFp8CopyBytes;
  if (p == Precision::fp4) return kNvfp4CopyBytes;
  return 0;
}

}  // namespace

BytesPerParameter trainable_bytes_per_parameter(Precision p, Optimizer o, bool fp32_master) {
  const bool fp32 = p == Precision::fp32;
  const double weights = fp32 ? 4 : 2;
  const double gradients = fp32 ? 4 : 2;
  const double master = fp32 || !fp32_master ? 0 : 4;
  const double state_bytes = fp32 || fp32_master ? 4 : 2;  // pure bf16 keeps the states in bf16
  double states = 0;
  switch (o) {
    case Optimizer::adamw: states = 2 * state_bytes; break;  // m and v
    case Optimizer::adamw8bit: states = 2; break;            // m and v in 8 bits
    case Optimizer::sgd: states = state_bytes; break;        // momentum
    case Optimizer::adafactor: states = 0; break;            // factored second moment: negligible
  }
  return {weights, gradients, master + states};
}

BytesPerParameter trainable_bytes_per_parameter(const TrainingConfig& t) {
  return trainable_bytes_per_parameter(t.precision, t.optimizer, t.fp32_master_weights);
}

double largest_update_group(const Scenario& s, int pipeline_rank) {
  const RankParameters r = rank_parameters(s, pipeline_rank);
  const bool full = s.training.finetune == Finetune::full;
  if (r.layers == 0) return full ? r.parameters : r.lora_parameters;
  const BlockParameters block = block_parameters(s);
  const double per_layer = full ? block.parameters : block.lora_parameters;
  const bool holds_embedding = pipeline_rank == 0 || pipeline_rank == s.training.pp - 1;
  const double embedding = full && holds_embedding ? static_cast<double>(s.model.vocab) * s.model.hidden / s.training.tp : 0;
  return std::max(per_layer, embedding);
}

double gradient_parameters_per_layer(const Scenario& s) {
  const BlockParameters block = block_parameters(s);
  if (s.training.finetune == Finetune::full) return block.parameters;
  if (s.training.frozen_weights_get_gradients()) return block.parameters + block.lora_parameters;
  return block.lora_parameters;
}

int sharding_group_size(const Scenario& s) {
  const TrainingConfig& t = s.training;
  if (t.sharding == Sharding::none) return 1;
  if (t.sharding == Sharding::hsdp) return t.hsdp_shard_size * t.cp;
  return s.dp() * t.cp;
}

ModelStateBytes model_state_bytes(const Scenario& s, int pipeline_rank) {
  const TrainingConfig& t = s.training;
  const RankParameters r = rank_parameters(s, pipeline_rank);
  const BytesPerParameter b = trainable_bytes_per_parameter(t);
  const double n = sharding_group_size(s);
  const double weight_shard = t.shards_parameters() ? n : 1;
  const double grad_shard = t.shards_gradients() ? n : 1;
  const double opt_shard = t.shards_optimizer() ? n : 1;
  const double copy = compute_copy_bytes(t.precision);

  ModelStateBytes m;
  if (t.finetune == Finetune::full) {
    BytesPerParameter full = b;
    if (t.fsdp() && t.fp32_master_weights && t.precision != Precision::fp32) {
      // FSDP mixed precision: the sharded parameters are the fp32 master (the bf16 copies exist
      // only while a unit is gathered) and the sharded gradients take the parameters' dtype.
      constexpr double kFp32 = 4;
      full = {kFp32, kFp32, b.optimizer - kFp32};
    }
    m.weights = r.parameters * (full.weights + copy) / weight_shard;
    m.gradients = r.parameters * full.gradients / grad_shard;
    m.optimizer = r.parameters * full.optimizer / opt_shard;
  } else {
    // Frozen base (bf16 or fp32, or NF4 matrices for QLoRA) + trainable adapters with full states.
    const double other = r.parameters - r.linear_weights;
    const double base = t.finetune == Finetune::qlora ? r.linear_weights * kNf4BytesPerParameter + other * 2
                                                      : r.parameters * (t.fp32_base_weights ? 4 : 2);
    m.weights = (base + r.linear_weights * copy + r.lora_parameters * b.weights) / weight_shard;
    m.gradients = r.layers * gradient_parameters_per_layer(s) * b.gradients / grad_shard;
    m.optimizer = r.lora_parameters * b.optimizer / opt_shard;
  }
  if (t.optimizer_in_backward) m.gradients = largest_update_group(s, pipeline_rank) * b.gradients / grad_shard;
  if (t.paged_optimizer) {
    m.paged = m.optimizer;
    m.optimizer = 0;
  }
  if (t.offload != Offload::none) {
    m.host += m.optimizer;
    m.optimizer = 0;
  }
  if (t.offload == Offload::params_optimizer) {
    m.host += m.weights + m.gradients;
    m.weights = 0;
    m.gradients = 0;
  }
  return m;
}

int heaviest_pipeline_rank(const Scenario& s) {
  int best = 0;
  double best_bytes = -1;
  for (int p = 0; p < s.training.pp; ++p) {
    double bytes = model_state_bytes(s, p).total();
    if (bytes > best_bytes) {
      best_bytes = bytes;
      best = p;
    }
  }
  return best;
}

}  // namespace stepsim
