#include "workload/stage_partition.h"

namespace stepsim {

std::vector<int> layers_per_pipeline_rank(const Scenario& s) {
  const TrainingConfig& t = s.training;
  std::vector<int> per_rank(static_cast<size_t>(t.pp), 0);
  // Virtual stage v is held by pipeline rank v % pp (Megatron's interleaved assignment).
  for (size_t v = 0; v < t.layers_per_stage.size(); ++v) per_rank[v % static_cast<size_t>(t.pp)] += t.layers_per_stage[v];
  return per_rank;
}

RankParameters rank_parameters(const Scenario& s, int pipeline_rank) {
  const TrainingConfig& t = s.training;
  const ModelSpec& m = s.model;
  const ParameterCounts c = count_parameters(m);
  RankParameters r;
  r.pipeline_rank = pipeline_rank;
  r.layers = layers_per_pipeline_rank(s)[static_cast<size_t>(pipeline_rank)];
  const double tp = t.tp;
  const double ep = t.ep;
  // Block: matrices and biases split over TP; experts also over EP; norms and router replicated.
  const LayerParameters& l = c.layer;
  const double experts_share = m.moe ? 1.0 / ep : 1.0;
  const double block = l.attention / tp + l.mlp * experts_share / tp + l.router + l.norms;
  r.linear_weights = r.layers * (l.attention_weights / tp + l.mlp_weights * experts_share / tp);
  r.parameters = r.layers * block;
  const bool first = pipeline_rank == 0;
  const bool last = pipeline_rank == t.pp - 1;
  if (first) r.parameters += c.token_embedding / tp + c.position_embedding;
  if (last) {
    r.parameters += c.final_norm;
    r.parameters += (m.tied_embeddings ? (t.pp > 1 ? c.token_embedding : 0) : c.lm_head) / tp;
  }
  if (t.finetune != Finetune::full)
    r.lora_parameters = r.layers * static_cast<double>(lora_parameters_per_layer(m, t.lora_rank, t.lora_targets)) / tp;
  return r;
}

}  // namespace stepsim
