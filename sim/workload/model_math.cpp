#include "workload/model_math.h"

namespace stepsim {

namespace {

// Weight matrices of one block as (d_in, d_out) pairs, for one expert in MoE models.
struct BlockShapes {
  int64_t q_out, kv_out;  // q projection width, k (and v) projection width
};

BlockShapes shapes(const ModelSpec& m) { return {m.hidden, m.kv_heads * m.head_dim()}; }

int64_t mlp_matrices(const ModelSpec& m) { return m.arch == Arch::llama ? 3 : 2; }

}  // namespace

ParameterCounts count_parameters(const ModelSpec& m) {
  ParameterCounts c;
  const int64_t h = m.hidden;
  const BlockShapes s = shapes(m);
  LayerParameters& l = c.layer;
  const int64_t attention_weights = h * s.q_out + 2 * h * s.kv_out + s.q_out * h;
  l.attention = attention_weights;
  if (m.qkv_bias) l.attention += s.q_out + 2 * s.kv_out;
  if (m.arch == Arch::gpt) l.attention += h;  // output projection bias
  const int64_t experts = m.moe ? m.moe->experts : 1;
  const int64_t mlp_weights = mlp_matrices(m) * h * m.ffn_hidden;
  l.mlp = experts * mlp_weights;
  if (m.arch == Arch::gpt) l.mlp += experts * (m.ffn_hidden + h);  // the two MLP biases
  l.router = m.moe ? h * m.moe->experts : 0;
  const int64_t norm_params = m.arch == Arch::gpt ? 2 * h : h;  // LayerNorm has a bias, RMSNorm not
  l.norms = 2 * norm_params;
  l.attention_weights = attention_weights;
  l.mlp_weights = experts * mlp_weights;

  c.token_embedding = m.vocab * h;
  c.position_embedding = m.position == PositionEmbedding::learned ? m.max_seq_len * h : 0;
  c.final_norm = norm_params;
  c.lm_head = m.tied_embeddings ? 0 : m.vocab * h;
  c.total = c.token_embedding + c.position_embedding + m.layers * l.total() + c.final_norm + c.lm_head;
  return c;
}

int64_t lora_parameters_per_layer(const ModelSpec& m, int rank, LoraTargets targets) {
  const int64_t h = m.hidden;
  const BlockShapes s = shapes(m);
  if (targets == LoraTargets::qv) return rank * ((h + s.q_out) + (h + s.kv_out));
  int64_t sum = (h + s.q_out) + 2 * (h + s.kv_out) + (s.q_out + h);
  if (targets == LoraTargets::all_linear) {
    const int64_t experts = m.moe ? m.moe->experts : 1;
    const int64_t per_expert = m.arch == Arch::llama ? 2 * (h + m.ffn_hidden) + (m.ffn_hidden + h)
                                                     : (h + m.ffn_hidden) + (m.ffn_hidden + h);
    sum += experts * per_expert;
  }
  return rank * sum;
}

FlopsPerToken flops_per_token(const ModelSpec& m, const TrainingConfig& t) {
  const double h = static_cast<double>(m.hidden);
  const double layers = static_cast<double>(m.layers);
  const BlockShapes s = shapes(m);
  const double active_experts = m.moe ? static_cast<double>(m.moe->top_k) : 1.0;
  // GEMM FLOPs per token of one block's weights (active experts only) and of the output layer.
  const double attention_gemm = 2.0 * (h * s.q_out + 2.0 * h * s.kv_out + s.q_out * h);
  const double mlp_gemm = 2.0 * active_experts * mlp_matrices(m) * h * m.ffn_hidden;
  const double router_gemm = m.moe ? 2.0 * h * m.moe->experts : 0.0;
  const double block_gemm = attention_gemm + mlp_gemm + router_gemm;
  const double head_gemm = 2.0 * h * m.vocab;
  // Scores Q·Kᵀ and the weighted sum with V: 2·s·h each per token (non-causal convention).
  const double attention_core = 4.0 * static_cast<double>(t.seq_len) * h;

  FlopsPerToken f;
  f.forward = layers * (block_gemm + attention_core) + head_gemm;
  const double data_gradients = layers * (block_gemm + 2.0 * attention_core) + head_gemm;
  double weight_gradients = layers * block_gemm + head_gemm;
  if (t.finetune != Finetune::full) {
    // Frozen base: no weight gradients except the adapters'. Adapter GEMMs: forward 2·r·(din+dout),
    // data gradient the same, weight gradient the same.
    const double adapter = 2.0 * static_cast<double>(lora_parameters_per_layer(m, t.lora_rank, t.lora_targets));
    weight_gradients = layers * adapter;
    f.forward += layers * adapter;
    f.backward = data_gradients + layers * adapter + weight_gradients;
  } else {
    f.backward = data_gradients + weight_gradients;
  }
  if (t.recompute == Recompute::full) f.recompute = f.forward - head_gemm;
  if (t.recompute == Recompute::selective) f.recompute = layers * attention_core;
  if (t.recompute == Recompute::selective_op) f.recompute = layers * per_op_recompute_flops_per_token(m);
  return f;
}

std::vector<BlockMatmul> block_matmuls(const ModelSpec& m) {
  const BlockShapes s = shapes(m);
  const double h = static_cast<double>(m.hidden), q = static_cast<double>(s.q_out);
  const double kv = static_cast<double>(s.kv_out), f = static_cast<double>(m.ffn_hidden);
  if (m.arch == Arch::llama)
    return {{Projection::q, h, q, false, false},       {Projection::k, h, kv, false, false},
            {Projection::v, h, kv, false, false},      {Projection::o, q, h, true, false},
            {Projection::gate, h, f, false, true},     {Projection::up, h, f, false, true},
            {Projection::down, f, h, true, true}};
  return {{Projection::qkv, h, q + 2 * kv, false, false}, {Projection::o, q, h, true, false},
          {Projection::up, h, f, false, true},            {Projection::down, f, h, true, true}};
}

// torchtitan counts the block's mm calls from 1 and recomputes when the count is even.
bool per_op_checkpoint_saves(size_t matmul_index) { return matmul_index % 2 == 0; }

double per_op_recompute_flops_per_token(const ModelSpec& m) {
  const std::vector<BlockMatmul> matmuls = block_matmuls(m);
  double flops = 0;
  for (size_t i = 0; i < matmuls.size(); ++i)
    if (!per_op_checkpoint_saves(i)) flops += 2 * matmuls[i].in * matmuls[i].out;
  return flops;
}

}  // namespace stepsim
