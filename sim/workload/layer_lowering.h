// LayerLowering: the operations of one transformer layer (forward, recompute, backward), of the
// embedding and the output layer, and of the collectives around them, appended to a
// RankProgram with their FLOPs, bytes, GEMM shapes, dependencies and memory effects.
//
// Quantities are per rank: `tokens` is micro_batch · seq_len / cp; GEMM widths are divided by
// tp; with sequence parallelism the elementwise work is divided by tp as well. Each method
// returns the id of the op that later work must wait for.
#pragma once

#include <vector>

#include "scenario/scenario.h"
#include "workload/program.h"

namespace stepsim {

class LayerLowering {
 public:
  // `optimizer_temporaries` is bytes per trainable parameter that the optimizer step allocates.
  LayerLowering(const Scenario& s, double tokens, double optimizer_temporaries);

  uint32_t layer_forward(RankProgram& p, int layer, int mb, Phase phase, const std::vector<uint32_t>& deps);
  uint32_t layer_backward(RankProgram& p, int layer, int mb, const std::vector<uint32_t>& deps);
  uint32_t embedding_forward(RankProgram& p, int mb);
  void embedding_backward(RankProgram& p, int mb, uint32_t dep);
  void head_forward(RankProgram& p, int mb, const std::vector<uint32_t>& deps);
  uint32_t head_backward(RankProgram& p, int mb);
  uint32_t pipeline_recv(RankProgram& p, int mb, int chunk, Phase phase);
  void pipeline_send(RankProgram& p, int mb, int chunk, Phase phase, uint32_t dep);

  // ZeRO-3/FSDP: all-gather of one layer's parameters; the gathered copy is freed after the
  // layer's pass that uses it.
  // FSDP/HSDP root unit: the embedding, output layer and final norm are gathered once before
  // the first forward and stay gathered until their gradients are reduce-scattered after the
  // last backward (FSDP does not reshard the root module after forward). ZeRO-3 instead fetches
  // them around each use (fetch_on_use); its reduce-scatter of their gradients is the same.
  uint32_t gather_root_parameters(RankProgram& p, int pipeline_rank);
  uint32_t reduce_root_gradients(RankProgram& p, int pipeline_rank, int mb, uint32_t producer);
  uint32_t gather_parameters(RankProgram& p, int layer, int mb, Phase phase);
  // ZeRO-3/FSDP: reduce-scatter of one layer's gradients (HSDP: then all-reduce across replicas).
  uint32_t reduce_gradients(RankProgram& p, int layer, int mb, uint32_t producer, double bytes, bool replicate);
  uint32_t bucket_collective(RankProgram& p, OpKind kind, double bytes, int mb, uint32_t producer);
  uint32_t optimizer_step(RankProgram& p, int pipeline_rank, const std::vector<uint32_t>& deps);
  void gather_updated_parameters(RankProgram& p, int pipeline_rank, uint32_t dep);

  double trainable_bytes_per_layer() const { return trainable_layer_bytes_; }
  double embedding_gradient_bytes() const;
  double head_gradient_bytes() const;

 private:
  struct Gemm {
    OpKind kind;
    double m, n, k;
    double adapter_flops;  // LoRA adapter FLOPs of one pass over this GEMM (0 without LoRA)
  };
  std::vector<Gemm> attention_gemms_in() const;
  std::vector<Gemm> mlp_gemms() const;
  double output_adapter_flops() const;
  uint32_t gemm(RankProgram& p, const Gemm& g, Phase phase, int layer, int mb, std::vector<uint32_t> deps);
  void gemm_backward(RankProgram& p, const Gemm& g, int layer, int mb, uint32_t& last);
  // Per-op checkpointing (selective-op): the unsaved matmuls of the block run again.
  double root_parameters(int pipeline_rank) const;
  double embedding_parameter_bytes() const;
  double head_parameter_bytes() const;
  std::vector<uint32_t> fetch_on_use(RankProgram& p, Phase phase, int mb, double bytes, std::vector<uint32_t> deps);
  void release_after(RankProgram& p, uint32_t op, double bytes);
  uint32_t recompute_unsaved_matmuls(RankProgram& p, int layer, int mb, uint32_t last);
  uint32_t elementwise(RankProgram& p, OpKind kind, Phase phase, int layer, int mb, double bytes,
                       std::vector<uint32_t> deps);
  uint32_t attention(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep);
  uint32_t collective(RankProgram& p, OpKind kind, Group group, Phase phase, int layer, int mb, double bytes,
                      std::vector<uint32_t> deps);
  uint32_t tp_after_block(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep);
  uint32_t tp_before_block(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep);
  uint32_t moe_forward(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep);

  const Scenario& s_;
  const TrainingConfig& t_;
  double tokens_;
  double tp_;
  double hidden_bytes_;        // one [tokens, hidden] activation in bf16 on this rank (before SP)
  double sp_divisor_;          // tp with sequence parallelism, else 1
  double saved_per_layer_;     // activations kept from forward to backward
  double backward_transient_;  // peak extra memory while one layer's backward runs
  double gathered_layer_bytes_;
  double trainable_layer_bytes_;
  double dequantized_bytes_;   // QLoRA: one layer's largest matrix dequantized to bf16
  bool trainable_base_;
  double optimizer_temporaries_;
};

}  // namespace stepsim
