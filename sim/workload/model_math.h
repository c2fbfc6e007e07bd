// Closed-form model arithmetic: parameter counts and FLOPs per token.
//
// Parameter counts follow docs/formats/model.md exactly (they reproduce published totals).
// FLOPs follow the convention of Narayanan et al. 2021 and PaLM for "model FLOPs": every
// GEMM counts 2·m·n·k, attention scores and values count 2·s·h each per token without the
// causal saving, and norms, softmax and elementwise work are not counted. For GPT this equals
// 72·B·s·l·h²·(1 + s/6h + V/12lh) per step exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "scenario/model_spec.h"
#include "scenario/training_config.h"

namespace stepsim {

struct LayerParameters {
  int64_t attention = 0;  // q, k, v, o weights (+ biases)
  int64_t mlp = 0;        // all experts' MLPs for MoE
  int64_t router = 0;     // MoE gate
  int64_t norms = 0;      // two norms per block
  int64_t attention_weights = 0;  // weight matrices only (what LoRA adapts and NF4 quantizes)
  int64_t mlp_weights = 0;        // all experts
  int64_t linear_weights() const { return attention_weights + mlp_weights; }
  int64_t total() const { return attention + mlp + router + norms; }
};

struct ParameterCounts {
  LayerParameters layer;    // one transformer block
  int64_t token_embedding = 0;
  int64_t position_embedding = 0;
  int64_t final_norm = 0;
  int64_t lm_head = 0;      // 0 when tied to the token embedding
  int64_t total = 0;
};

ParameterCounts count_parameters(const ModelSpec& m);

// LoRA adapter parameters of one block: rank·(d_in + d_out) per adapted linear.
int64_t lora_parameters_per_layer(const ModelSpec& m, int rank, LoraTargets targets);

struct FlopsPerToken {
  double forward = 0;          // one forward pass
  double backward = 0;         // data gradients + weight gradients of trainable weights
  double recompute = 0;        // extra forward work from activation recomputation
  double model() const { return forward + backward; }  // model FLOPs (no recompute)
  double hardware() const { return model() + recompute; }
};

// One matmul of a dense block, per token: input and output widths (full, before TP). Row-
// parallel matmuls (attention output, MLP down) produce the full hidden width on every TP rank.
enum class Projection { q, k, v, qkv, o, gate, up, down };

struct BlockMatmul {
  Projection projection;
  double in, out;
  bool row_parallel;
  bool mlp;
};

// The matmuls of one dense block in the order a forward pass calls them: Llama q, k, v, o,
// gate, up, down (separate projections, as torchtitan's Llama); GPT qkv, o, up, down.
std::vector<BlockMatmul> block_matmuls(const ModelSpec& m);

// torchtitan's per-op selective checkpointing (selective_ac_option "op") saves the output of
// the 1st, 3rd, 5th... matmul of a block and recomputes the 2nd, 4th...: those matmuls' FLOPs.
bool per_op_checkpoint_saves(size_t matmul_index);
double per_op_recompute_flops_per_token(const ModelSpec& m);

// Per token of a sequence of length seq_len. With LoRA/QLoRA the frozen weights get no weight
// gradient; the adapters' own GEMMs are added.
FlopsPerToken flops_per_token(const ModelSpec& m, const TrainingConfig& t);

}  // namespace stepsim
