// Activation memory of one rank: the tensors a forward pass keeps for its backward, per micro-batch
// (reference memory.md §2). Each tensor is counted item by item as in Korthikanti et al. 2022
// (arXiv 2205.05198, §4), so a GPT layer with eager attention and dropout gives exactly their
// sbh(34 + 5as/h) and Table 2 variants; the same items give Llama (FlashAttention, SwiGLU, GQA,
// RMSNorm, no dropout) as (8 + 4g)h + 4h + 8i bytes per token (g = kv_heads/heads, i = ffn).
//
//   element size  2 bytes for bf16/fp16/fp8/fp4 training (fp8/fp4 recipes keep activations in
//                 bf16; Transformer Engine's 1-byte fp8 GEMM-input copies are not modelled),
//                 4 bytes for fp32/tf32. Dropout masks are 1 byte; softmax logsumexp and the
//                 logits are fp32 whatever the precision.
//   tp            splits what lies inside the attention and MLP (heads, ffn columns); the norm
//                 and dropout region (norm inputs, QKV/MLP inputs, masks) is replicated unless
//                 sp, which splits it along the sequence.
//   cp            is already in `tokens`; eager attention scores span the full key length
//                 (t.seq_len), i.e. local queries × all keys.
//   LoRA/QLoRA    nothing extra: we assume PEFT's lora_dropout = 0 (an Identity). With
//                 lora_dropout > 0 each adapted linear would keep its own dropped copy of its
//                 input (memory.md §1.5); `dropout` here means the model's own dropout.
//   MoE           each token's expert input and intermediates are counted top_k times; router
//                 logits, permutation indices and the combine's saved outputs are ignored.
#pragma once

#include "scenario/model_spec.h"
#include "scenario/training_config.h"

namespace stepsim {

// Bytes one rank keeps for the backward pass, per transformer layer and per micro-batch.
struct LayerActivations {
  double attention = 0;  // norm input, QKV input, Q, K, V, core attention (softmax / s² terms or
                         // logsumexp), output-projection input, dropout masks
  double mlp = 0;        // norm input, MLP input, intermediates, dropout mask
  double total() const { return attention + mlp; }
};

// Bytes per saved activation element: 4 for fp32/tf32 training, else 2.
double activation_element_bytes(Precision p);

// Whether dropout masks are saved: t.dropout, else true for gpt and false for llama.
bool dropout_enabled(const ModelSpec& m, const TrainingConfig& t);

// tokens = micro_batch · seq_len / cp (the tokens of one micro-batch on this rank before TP).
// recompute none: everything; selective: without the core attention (s² terms or logsumexp);
// full: only the layer input, reported as `attention` (mlp = 0).
LayerActivations saved_activations_per_layer(const ModelSpec& m, const TrainingConfig& t, double tokens);

// What full recompute keeps per layer: the layer input (2·tokens·h bytes, /tp with sp).
double checkpoint_bytes_per_layer(const ModelSpec& m, const TrainingConfig& t, double tokens);

// Transient peak on top of the saved activations while one layer's backward runs:
//   activation gradients: 2 × the layer input size (the gradient flowing in and the one being
//                         built for the layer below; s²-sized gradients of eager attention are
//                         not counted);
//   full recompute:       plus the layer's rematerialized activations (its saved activations
//                         without recompute, less the checkpointed input they share);
//   selective:            plus the rematerialized core attention.
double layer_backward_transient_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens);

// Output layer and loss on the last pipeline stage: final-norm input and output-layer input
// (e·tokens·h each, /tp with sp) plus the logits the loss keeps until backward, in bytes per
// token and vocabulary entry by training.loss (docs/reference/memory.md §2.3):
//   fp32-logits 4  Megatron's vocab-parallel loss: one fp32 copy, 4sbh(1 + V/h)/t with sp
//   upcast      8  Hugging Face: the fp32 logits returned in the output + the fp32 log-softmax
//   chunked     6  torchtune chunked cross-entropy: bf16 logits + the fp32 log-softmax per chunk
//   fused       0  fused linear-cross-entropy (Liger, Apple CCE, Unsloth): logits never stored
double loss_activation_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens);

// The logits' gradient while the output layer's backward runs, per token and vocabulary entry:
// fp32 (4); with upcast also its bf16 cast (6); chunked: one fp32 chunk of torchtune's 8 (0.5);
// fused: none (the kernel computes it chunk by chunk in forward).
double loss_gradient_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens);

// First pipeline stage: int64 input ids (8·tokens, replicated over tp) and, with dropout, the
// embedding dropout mask (tokens·h bytes, /tp with sp). The embedding output is the first
// layer's input and is counted there.
double embedding_activation_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens);

}  // namespace stepsim
