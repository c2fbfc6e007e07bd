#include "workload/stage_partition.h"

namespace stepsim {

std::vector<int> layers_per_pipeline_rank(const Scenario& s) {
  const TrainingConfig& t = s.training;
  std::vector<int> per_rank(static_cast<size_t>(t.pp), 0);
  // Virtual stage v is held by pipeline rank v % pp (Megatron's interleaved assignment).
  for (size_t v = 0; v < t.layers_per_stage.size(); ++v) per_rank[v % static_cast<size_t>(t.pp)] += t.layers_per_stage[v];
  return per_rank;
}

BlockParameters block_parameters(const Scenario& s) {
  const TrainingConfig& t = s.training;
  const ModelSpec& m = s.model;
  const LayerParameters& l = count_parameters(m).layer;
  const double tp = t.tp;
  const double experts_share = m.moe ? 1.0 / t.ep : 1.0;
  BlockParameters b;
  b.parameters = l.attention / tp + l.mlp * experts_share / tp + l.router + l.norms;
  b.linear_weights = l.attention_weights / tp + l.mlp_weights * experts_share / tp;
  if (t.finetune != Finetune::full)
    b.lora_parameters = static_cast<double>(lora_parameters_per_layer(m, t.lora_rank, t.lora_targets)) / tp;
  return b;
}

RankParameters rank_parameters(const Scenario& s, int pipeline_rank) {
  const TrainingConfig& t = s.training;
  const ModelSpec& m = s.model;
  const ParameterCounts c = count_parameters(m);
  const BlockParameters block = block_parameters(s);
  RankParameters r;
  r.pipeline_rank = pipeline_rank;
  r.layers = layers_per_pipeline_rank(s)[static_cast<size_t>(pipeline_rank)];
  const double tp = t.tp;
  r.linear_weights = r.layers * block.linear_weights;
  r.parameters = r.layers * block.parameters;
  r.lora_parameters = r.layers * block.lora_parameters;
  const bool first = pipeline_rank == 0;
  const bool last = pipeline_rank == t.pp - 1;
  if (first) r.parameters += c.token_embedding / tp + c.position_embedding;
  if (last) {
    r.parameters += c.final_norm;
    r.parameters += (m.tied_embeddings ? (t.pp > 1 ? c.token_embedding : 0) : c.lm_head) / tp;
  }
  return r;
}

}  // namespace stepsim
