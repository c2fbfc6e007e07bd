#include "workload/activation_memory.h"

#include "workload/model_math.h"

namespace stepsim {

namespace {

constexpr double kMaskBytes = 1;       // dropout masks are stored as bytes
constexpr double kFp32Bytes = 4;       // logsumexp, logits
constexpr double kInputIdBytes = 8;    // int64 token ids

// The per-rank view of one micro-batch: sizes in elements and the two TP divisors.
struct Shape {
  double n;       // tokens on this rank
  double h;       // hidden (= query width)
  double kv;      // key (and value) width: kv_heads · head_dim
  double f;       // MLP intermediate of one expert
  double heads;
  double keys;    // key length seen by each query (eager scores)
  double e;       // bytes per activation element
  double inside;  // divisor inside attention/MLP: tp
  double outside; // divisor of the norm/dropout region: tp with sp, else 1
  double experts_per_token;
  bool dropout, flash, swiglu;
};

Shape shape(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  Shape s;
  s.n = tokens;
  s.h = static_cast<double>(m.hidden);
  const int64_t kv_heads = m.kv_heads > 0 ? m.kv_heads : m.heads;
  s.kv = static_cast<double>(kv_heads * m.head_dim());
  s.f = static_cast<double>(m.ffn_hidden);
  s.heads = static_cast<double>(m.heads);
  s.keys = static_cast<double>(t.seq_len);
  s.e = activation_element_bytes(t.precision);
  s.inside = t.tp;
  s.outside = t.sp ? t.tp : 1;
  s.experts_per_token = m.moe ? static_cast<double>(m.moe->top_k) : 1;
  s.dropout = dropout_enabled(m, t);
  s.flash = t.flash_attention;
  s.swiglu = m.arch == Arch::llama;
  return s;
}

// A tensor of `width` elements per token in the replicated (or sequence-parallel) region.
double outside(const Shape& s, double width) { return s.e * s.n * width / s.outside; }
// A tensor of `width` elements per token split over the TP ranks.
double inside(const Shape& s, double width) { return s.e * s.n * width / s.inside; }

// The part of attention that selective recompute drops. Eager (Korthikanti): softmax output
// 2as²b, and with dropout its mask as²b and output 2as²b. Flash saves only the fp32 logsumexp
// per head and query (it regenerates dropout from the RNG state), 4·a·s·b.
double core_attention(const Shape& s) {
  if (s.flash) return kFp32Bytes * s.heads * s.n / s.inside;
  const double scores = s.heads * s.n * s.keys / s.inside;
  double bytes = s.e * scores;
  if (s.dropout) bytes += kMaskBytes * scores + s.e * scores;
  return bytes;
}

double attention_block(const Shape& s, bool keep_core) {
  double bytes = outside(s, s.h)          // norm input
                 + outside(s, s.h)        // QKV input (shared by the three projections)
                 + inside(s, s.h)         // Q
                 + 2 * inside(s, s.kv)    // K and V (GQA: kv_heads/heads of Q)
                 + inside(s, s.h);        // output-projection input (= flash output O)
  if (keep_core) bytes += core_attention(s);
  if (s.dropout) bytes += kMaskBytes * s.n * s.h / s.outside;  // residual dropout mask
  return bytes;
}

// GPT: GeLU input and second-linear input (2·ffn each, Megatron's 18 + 4·ffn/h form).
// SwiGLU in eager PyTorch (memory.md §2.2): gate out, up out, silu out, down input.
double mlp_block(const Shape& s) {
  const double intermediates = s.swiglu ? 4 : 2;
  const double k = s.experts_per_token;
  double bytes = outside(s, s.h)                         // norm input
                 + k * outside(s, s.h)                   // MLP (expert) input
                 + k * intermediates * inside(s, s.f);
  if (s.dropout) bytes += kMaskBytes * s.n * s.h / s.outside;  // residual dropout mask
  return bytes;
}

LayerActivations layer(const Shape& s, bool keep_core) { return {attention_block(s, keep_core), mlp_block(s)}; }

// torchtitan's per-op policy: the checkpoint keeps the layer input, the attention kernel's
// output and fp32 logsumexp, and every other matmul output; the rest is recomputed.
LayerActivations per_op_checkpoint(const ModelSpec& m, const Shape& s) {
  LayerActivations a;
  a.attention = outside(s, s.h) + inside(s, s.h) + kFp32Bytes * s.heads * s.n / s.inside;
  const std::vector<BlockMatmul> matmuls = block_matmuls(m);
  for (size_t i = 0; i < matmuls.size(); ++i) {
    if (!per_op_checkpoint_saves(i)) continue;
    const double bytes = matmuls[i].row_parallel ? s.e * s.n * matmuls[i].out : inside(s, matmuls[i].out);
    (matmuls[i].mlp ? a.mlp : a.attention) += bytes;
  }
  return a;
}

}  // namespace

double activation_element_bytes(Precision p) {
  return p == Precision::fp32 || p == Precision::tf32 ? 4 : 2;
}

bool dropout_enabled(const ModelSpec& m, const TrainingConfig& t) {
  return t.dropout.value_or(m.arch == Arch::gpt);
}

namespace {

// LoRA dropout keeps, for every distinct input of the adapted matrices, the dropped-out copy
// (activation dtype) and its mask (one byte per element). q, k and v share their input, as the
// MLP's gate and up do.
LayerActivations lora_dropout_saved(const TrainingConfig& t, const Shape& s) {
  LayerActivations a;
  if (t.finetune == Finetune::full || !(t.lora_dropout > 0)) return a;
  const double mask = kMaskBytes / s.e;  // per element, relative to outside()/inside()
  a.attention = outside(s, s.h) * (1 + mask);
  if (t.lora_targets == LoraTargets::qv) return a;
  a.attention += inside(s, s.h) * (1 + mask);  // output-projection input
  if (t.lora_targets == LoraTargets::all_linear)
    a.mlp = (s.experts_per_token * outside(s, s.h) + s.experts_per_token * inside(s, s.f)) * (1 + mask);
  return a;
}

LayerActivations operator+(LayerActivations a, const LayerActivations& b) {
  a.attention += b.attention;
  a.mlp += b.mlp;
  return a;
}

}  // namespace

LayerActivations saved_activations_per_layer(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  const Shape s = shape(m, t, tokens);
  switch (t.recompute) {
    case Recompute::none: return layer(s, true) + lora_dropout_saved(t, s);
    case Recompute::selective: return layer(s, false) + lora_dropout_saved(t, s);
    case Recompute::selective_op: return per_op_checkpoint(m, s) + lora_dropout_saved(t, s);
    case Recompute::full: return {checkpoint_bytes_per_layer(m, t, tokens), 0};
  }
  return {};
}

double checkpoint_bytes_per_layer(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  return outside(shape(m, t, tokens), static_cast<double>(m.hidden));
}

double layer_backward_transient_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  const Shape s = shape(m, t, tokens);
  const double input = checkpoint_bytes_per_layer(m, t, tokens);
  const double gradients = 2 * input;
  switch (t.recompute) {
    case Recompute::none: return gradients;
    case Recompute::selective: return core_attention(s) + gradients;
    // Recomputation rebuilds the layer's unsaved activations next to the saved ones.
    case Recompute::selective_op: return layer(s, true).total() - per_op_checkpoint(m, s).total() + gradients;
    // The checkpointed input is reused, not rematerialized: it is already in the saved bytes.
    case Recompute::full: return layer(s, true).total() - input + gradients;
  }
  return gradients;
}

namespace {

double saved_logit_bytes_per_entry(LossKernel k) {
  switch (k) {
    case LossKernel::fp32_logits: return 4;
    case LossKernel::upcast: return 8;
    case LossKernel::chunked: return 6;
    case LossKernel::chunked_compiled: return 2;
    case LossKernel::compiled: return 2;
    case LossKernel::inplace: return 2;
    case LossKernel::fused: return 0;
  }
  return 4;
}

double logit_gradient_bytes_per_entry(LossKernel k) {
  constexpr double kTorchtuneOutputChunks = 8;  // CEWithChunkedOutputLoss.num_output_chunks
  switch (k) {
    case LossKernel::fp32_logits: return 4;
    case LossKernel::upcast: return 6;
    case LossKernel::chunked:
    case LossKernel::chunked_compiled: return 4 / kTorchtuneOutputChunks;
    case LossKernel::compiled: return 2;  // the fused backward writes the bf16 gradient
    case LossKernel::inplace: return 0;   // written over the saved logits
    case LossKernel::fused: return 0;
  }
  return 4;
}

}  // namespace

double loss_activation_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  const Shape s = shape(m, t, tokens);
  const double inputs = 2 * outside(s, s.h);  // final-norm input, output-layer input
  const double logits = saved_logit_bytes_per_entry(t.loss) * s.n * static_cast<double>(m.vocab) / s.inside;
  return inputs + logits;
}

double loss_gradient_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  const Shape s = shape(m, t, tokens);
  return logit_gradient_bytes_per_entry(t.loss) * s.n * static_cast<double>(m.vocab) / s.inside;
}

// Megatron divides the input ids by tp as well; they are replicated, and negligible either way.
double embedding_activation_bytes(const ModelSpec& m, const TrainingConfig& t, double tokens) {
  const Shape s = shape(m, t, tokens);
  double bytes = kInputIdBytes * s.n;
  if (s.dropout) bytes += kMaskBytes * s.n * s.h / s.outside;
  return bytes;
}

}  // namespace stepsim
