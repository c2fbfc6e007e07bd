// Activation memory against closed forms written out here: Korthikanti et al. 2022 (arXiv
// 2205.05198) Table 2 for GPT-3 175B, Megatron's theoretical_memory_usage.py, and the Llama
// itemization of memory.md §2.2.
#include <catch2/catch.hpp>

#include <cmath>
#include <utility>

#include "workload/activation_memory.h"

using namespace stepsim;

namespace {
constexpr double GiB = 1024.0 * 1024 * 1024;

ModelSpec gpt(int64_t heads, int64_t hidden, int64_t vocab = 50257) {
  ModelSpec m;
  m.arch = Arch::gpt;
  m.layers = 96;
  m.heads = m.kv_heads = heads;
  m.hidden = hidden;
  m.ffn_hidden = 4 * hidden;
  m.vocab = vocab;
  return m;
}

ModelSpec gpt3_175b() { return gpt(96, 12288); }

ModelSpec llama3_70b() {
  ModelSpec m;
  m.arch = Arch::llama;
  m.layers = 80;
  m.hidden = 8192;
  m.heads = 64;
  m.kv_heads = 8;
  m.ffn_hidden = 28672;
  m.vocab = 128256;
  return m;
}

// Korthikanti's setting: 16-bit, eager attention, dropout (the gpt default), micro-batch 1.
TrainingConfig korthikanti(int tp, bool sp, Recompute r) {
  TrainingConfig t;
  t.seq_len = 2048;
  t.micro_batch = 1;
  t.tp = tp;
  t.sp = sp;
  t.recompute = r;
  t.flash_attention = false;
  return t;
}

TrainingConfig llama_config(int64_t seq_len) {
  TrainingConfig t;
  t.seq_len = seq_len;
  t.flash_attention = true;
  return t;
}

double per_layer(const ModelSpec& m, const TrainingConfig& t) {
  return saved_activations_per_layer(m, t, static_cast<double>(t.micro_batch * t.seq_len / t.cp)).total();
}
}  // namespace

TEST_CASE("GPT-3 175B: Korthikanti Table 2 in every variant", "[activations]") {
  const ModelSpec m = gpt3_175b();
  const double s = 2048, b = 1, h = 12288, a = 96, t = 8;
  const double sbh = s * b * h;
  // Table 2, bytes per layer, written out from the paper.
  const double none = sbh * (34 + 5 * a * s / h);
  const double tp = sbh * (10 + 24 / t + 5 * a * s / (h * t));
  const double tp_sp = sbh * (34 / t + 5 * a * s / (h * t));
  const double tp_selective = sbh * (10 + 24 / t);
  const double tp_sp_selective = sbh * 34 / t;
  const double full = 2 * sbh;
  const double full_sp = 2 * sbh / t;

  CHECK(per_layer(m, korthikanti(1, false, Recompute::none)) == Approx(none).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, false, Recompute::none)) == Approx(tp).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, true, Recompute::none)) == Approx(tp_sp).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, false, Recompute::selective)) == Approx(tp_selective).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, true, Recompute::selective)) == Approx(tp_sp_selective).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, false, Recompute::full)) == Approx(full).epsilon(1e-12));
  CHECK(per_layer(m, korthikanti(8, true, Recompute::full)) == Approx(full_sp).epsilon(1e-12));
  CHECK(checkpoint_bytes_per_layer(m, korthikanti(8, true, Recompute::full), s * b) == Approx(full_sp).epsilon(1e-12));
  // The paper's split: attention 11sbh + 5as²b plus its LayerNorm input; MLP 19sbh plus its own.
  const LayerActivations split = saved_activations_per_layer(m, korthikanti(1, false, Recompute::none), s * b);
  CHECK(split.attention == Approx(13 * sbh + 5 * a * s * s * b).epsilon(1e-12));
  CHECK(split.mlp == Approx(21 * sbh).epsilon(1e-12));
}

TEST_CASE("GPT-3 175B: the paper's own numbers", "[activations]") {
  const double sbh = 2048.0 * 12288;
  // §4.1 (quoted in memory.md §2.1): for GPT-3, 5as/h = 80 > 34.
  const double eager = per_layer(gpt3_175b(), korthikanti(1, false, Recompute::none));
  CHECK(eager / sbh - 34 == Approx(80).epsilon(1e-12));
  // Abstract: sequence parallelism + selective recompute reduce activation memory "by 5x" against
  // the tensor-parallel baseline (t = 8 for GPT-3 175B and MT-NLG 530B, Table 3).
  for (const ModelSpec& m : {gpt3_175b(), gpt(128, 20480)}) {
    const double ratio = per_layer(m, korthikanti(8, false, Recompute::none)) /
                         per_layer(m, korthikanti(8, true, Recompute::selective));
    CHECK(ratio > 4.5);
    CHECK(ratio < 5.5);
  }
}

TEST_CASE("GPT MLP scales with ffn_hidden as Megatron's 18 + 4·ffn/h", "[activations]") {
  ModelSpec m = gpt3_175b();
  m.ffn_hidden = 3 * m.hidden;
  const double sbh = 2048.0 * 12288;
  CHECK(per_layer(m, korthikanti(8, true, Recompute::selective)) == Approx(sbh * (18 + 4 * 3.0) / 8).epsilon(1e-12));
}

TEST_CASE("FlashAttention removes the s² terms and keeps an fp32 logsumexp", "[activations]") {
  const ModelSpec m = gpt3_175b();
  const double s = 2048, h = 12288, a = 96;
  for (int tp : {1, 8}) {
    TrainingConfig eager = korthikanti(tp, true, Recompute::none);
    TrainingConfig flash = eager;
    flash.flash_attention = true;
    const double expected = per_layer(m, eager) - 5 * a * s * s / tp + 4 * a * s / tp;
    CHECK(per_layer(m, flash) == Approx(expected).epsilon(1e-12));
    CHECK(per_layer(m, flash) == Approx(s * h * (34 + 4.0 * a / h) / tp).epsilon(1e-12));
  }
  // Linear in the sequence: doubling s doubles the bytes (eager would grow 4× in the s² part).
  TrainingConfig flash = korthikanti(1, false, Recompute::none);
  flash.flash_attention = true;
  TrainingConfig longer = flash;
  longer.seq_len *= 2;
  CHECK(per_layer(m, longer) == Approx(2 * per_layer(m, flash)).epsilon(1e-12));
  // Selective recompute then only drops the logsumexp: the 34sbh/t of Table 2.
  flash.tp = 8;
  flash.sp = true;
  flash.recompute = Recompute::selective;
  CHECK(per_layer(m, flash) == Approx(34 * s * h / 8).epsilon(1e-12));
}

TEST_CASE("Llama-3-70B: (8 + 4g)h + 4h + 8i bytes per token per layer, flash, no recompute", "[activations]") {
  const ModelSpec m = llama3_70b();
  const double h = 8192, i = 28672, g = 8.0 / 64, a = 64;
  const double per_token = (8 + 4 * g) * h + 4 * h + 8 * i;  // memory.md §2.2, item by item
  const double logsumexp = 4 * a;
  const double got = saved_activations_per_layer(m, llama_config(8192), 1).total();
  CHECK(got == Approx(per_token + logsumexp).epsilon(1e-12));
  CHECK(got / h == Approx(40.5).epsilon(0.001));
  // memory.md's table prints 315,392 = 38.5h for the same items, which sum to 40.5h = 331,776:
  // the table is 2h short of its own formula (an arithmetic slip, not a different count).
  CHECK(per_token - 315392 == Approx(2 * h));
  // A whole 8k sequence over 80 layers: 40.5h·8192·80 ≈ 202.5 GiB (memory.md prints 192.5).
  CHECK(saved_activations_per_layer(m, llama_config(8192), 8192).total() * 80 / GiB == Approx(202.5).epsilon(0.002));
}

TEST_CASE("GQA shrinks K and V by kv_heads/heads", "[activations]") {
  ModelSpec gqa = llama3_70b();
  ModelSpec mha = gqa;
  mha.kv_heads = mha.heads;
  const double h = 8192, n = 4096;
  for (int tp : {1, 8}) {
    TrainingConfig t = llama_config(4096);
    t.tp = tp;
    const double saved = 2 * 2 * n * h * (1 - 8.0 / 64) / tp;  // K and V, 2 bytes each
    CHECK(saved_activations_per_layer(mha, t, n).attention - saved_activations_per_layer(gqa, t, n).attention ==
          Approx(saved).epsilon(1e-12));
  }
}

TEST_CASE("Dropout defaults by arch and can be switched on for Llama", "[activations]") {
  const ModelSpec m = llama3_70b();
  TrainingConfig t = llama_config(4096);
  CHECK_FALSE(dropout_enabled(m, t));
  CHECK(dropout_enabled(gpt3_175b(), t));
  const double n = 4096, h = 8192;
  const double base = saved_activations_per_layer(m, t, n).total();
  t.dropout = true;
  // Two residual masks of one byte; flash regenerates its attention dropout, so no s² mask.
  CHECK(saved_activations_per_layer(m, t, n).total() - base == Approx(2 * n * h));
}

TEST_CASE("fp32 training doubles the tensors but not masks or fp32 statistics", "[activations]") {
  const ModelSpec m = llama3_70b();
  TrainingConfig t = llama_config(4096);
  const double bf16 = saved_activations_per_layer(m, t, 1).total();
  t.precision = Precision::fp32;
  const double fp32 = saved_activations_per_layer(m, t, 1).total();
  CHECK(fp32 == Approx(2 * bf16 - 4 * 64).epsilon(1e-12));
  CHECK(activation_element_bytes(Precision::fp8) == 2);
  CHECK(activation_element_bytes(Precision::fp4) == 2);
}

TEST_CASE("LoRA adds nothing with lora_dropout = 0", "[activations]") {
  const ModelSpec m = llama3_70b();
  TrainingConfig t = llama_config(4096);
  const double full = saved_activations_per_layer(m, t, 4096).total();
  t.finetune = Finetune::lora;
  t.lora_rank = 16;
  CHECK(saved_activations_per_layer(m, t, 4096).total() == full);
}

TEST_CASE("Backward transient: gradients, plus the rematerialized layer under full recompute", "[activations]") {
  const ModelSpec m = llama3_70b();
  const double n = 8192, h = 8192;
  TrainingConfig t = llama_config(8192);
  const double layer = saved_activations_per_layer(m, t, n).total();
  const double grads = 2 * 2 * n * h;  // 2 × the bf16 layer input
  CHECK(layer_backward_transient_bytes(m, t, n) == Approx(grads));
  t.recompute = Recompute::full;
  CHECK(checkpoint_bytes_per_layer(m, t, n) == Approx(2 * n * h));
  CHECK(saved_activations_per_layer(m, t, n).total() == Approx(2 * n * h));
  // The rematerialized layer shares its input with the checkpoint already held.
  CHECK(layer_backward_transient_bytes(m, t, n) == Approx(layer - 2 * n * h + grads).epsilon(1e-12));
  // memory.md §2.2: full recompute stores 10 GiB of checkpoints for 80 layers at s = 8192.
  CHECK(80 * checkpoint_bytes_per_layer(m, t, n) / GiB == Approx(10).epsilon(1e-12));
  t.recompute = Recompute::selective;
  CHECK(layer_backward_transient_bytes(m, t, n) == Approx(4 * 64 * n + grads));
}

TEST_CASE("Loss and embedding activations follow Megatron", "[activations]") {
  const ModelSpec m = gpt3_175b();
  const double s = 2048, h = 12288, v = 50257, t = 8;
  // theoretical_memory_usage.py (sp): 4sbh(1 + V/h)/t for the output layer and loss.
  CHECK(loss_activation_bytes(m, korthikanti(8, true, Recompute::selective), s) ==
        Approx(4 * s * h * (1 + v / h) / t).epsilon(1e-12));
  // Without sp the two hidden-size inputs are replicated; the logits stay vocab-parallel.
  CHECK(loss_activation_bytes(m, korthikanti(8, false, Recompute::none), s) ==
        Approx(4 * s * h + 4 * s * v / t).epsilon(1e-12));
  // memory.md §2.3: Llama-3 fp32 logits for one 8k sequence are 3.9 GiB.
  const ModelSpec llama = llama3_70b();
  const double logits = loss_activation_bytes(llama, llama_config(8192), 8192) - 4 * 8192.0 * 8192;
  CHECK(logits / GiB == Approx(3.914).epsilon(0.001));
  // Embedding: int64 ids plus, with dropout, a one-byte mask (split by sp).
  CHECK(embedding_activation_bytes(m, korthikanti(8, true, Recompute::none), s) == Approx(8 * s + s * h / t));
  CHECK(embedding_activation_bytes(llama, llama_config(8192), 8192) == Approx(8 * 8192.0));
}

TEST_CASE("Loss kernels: what each keeps of the logits, and their gradient (memory.md §2.3)", "[activations]") {
  // One 8k-token Llama-3 sequence: bf16 logits 1.96 GiB, fp32 3.9 GiB (memory.md §2.3).
  const ModelSpec llama = llama3_70b();
  const double inputs = 4 * 8192.0 * 8192, fp32_logits = 4 * 8192.0 * 128256;
  TrainingConfig t = llama_config(8192);
  const std::pair<LossKernel, std::pair<double, double>> kernels[] = {
      {LossKernel::fp32_logits, {1.0, 1.0}},  // Megatron: one fp32 copy; fp32 gradient
      {LossKernel::upcast, {2.0, 1.5}},       // HF: fp32 logits + fp32 log-softmax; fp32 grad + bf16 cast
      {LossKernel::chunked, {1.5, 0.125}},    // torchtune: bf16 logits + fp32 log-softmax; one fp32 chunk of 8
      {LossKernel::fused, {0.0, 0.0}}};       // Liger/CCE: nothing
  for (const auto& [kernel, factors] : kernels) {
    t.loss = kernel;
    INFO(to_string(kernel));
    CHECK(loss_activation_bytes(llama, t, 8192) == Approx(inputs + factors.first * fp32_logits).epsilon(1e-12));
    CHECK(loss_gradient_bytes(llama, t, 8192) == Approx(factors.second * fp32_logits).epsilon(1e-12));
  }
  // HF's peak at the loss boundary, saved + gradient = 3.5× the fp32 logits: the "3-4×" of §2.3.
  t.loss = LossKernel::upcast;
  CHECK((loss_activation_bytes(llama, t, 8192) - inputs + loss_gradient_bytes(llama, t, 8192)) / fp32_logits == Approx(3.5));
}

TEST_CASE("Context parallelism: tokens shrink, eager scores still span every key", "[activations]") {
  const ModelSpec m = gpt3_175b();
  TrainingConfig t = korthikanti(1, false, Recompute::none);
  t.cp = 2;
  const double s = 2048, h = 12288, a = 96, n = s / 2;
  CHECK(per_layer(m, t) == Approx(n * h * 34 + 5 * a * n * s).epsilon(1e-12));
}

TEST_CASE("torchtitan per-op checkpointing keeps every other matmul output", "[activations]") {
  // Llama-3-8B, one token: input h, q (h), v (kv), attention output (h) and its fp32 logsumexp
  // per head; gate (f) and down (h). k, o and up are recomputed (torchtitan's mm_count % 2 == 0).
  ModelSpec m = llama3_70b();
  m.layers = 32;
  m.hidden = 4096;
  m.heads = 32;
  m.kv_heads = 8;
  m.ffn_hidden = 14336;
  TrainingConfig t = llama_config(8192);
  t.recompute = Recompute::selective_op;
  const double h = 4096, kv = 1024, f = 14336, n = 8192;
  const LayerActivations a = saved_activations_per_layer(m, t, n);
  CHECK(a.attention == Approx(n * (2 * h + 2 * h + 2 * kv + 2 * h) + 4 * 32 * n).epsilon(1e-12));
  CHECK(a.mlp == Approx(n * (2 * f + 2 * h)).epsilon(1e-12));
  // 31,744 bf16 elements per token and layer: 16.6 GB for 32 layers of one 8k sequence.
  CHECK(32 * a.total() / 1e9 == Approx(32 * (n * 2 * 31744 + 4 * 32 * n) / 1e9).epsilon(1e-12));
  // Backward rebuilds the rest of the layer next to what was saved.
  TrainingConfig none = llama_config(8192);
  CHECK(layer_backward_transient_bytes(m, t, n) ==
        Approx(saved_activations_per_layer(m, none, n).total() - a.total() + 2 * 2 * n * h).epsilon(1e-12));
}

TEST_CASE("LoRA dropout saves each distinct adapter input and its mask", "[activations]") {
  ModelSpec m = llama3_70b();
  TrainingConfig t = llama_config(4096);
  t.finetune = Finetune::lora;
  t.lora_rank = 8;
  const double n = 4096, h = 8192, f = 28672;
  const double plain = saved_activations_per_layer(m, t, n).total();
  t.lora_dropout = 0.05;
  t.lora_targets = LoraTargets::qv;  // q and v share their input: one bf16 copy + one byte mask
  CHECK(saved_activations_per_layer(m, t, n).total() - plain == Approx(3 * n * h).epsilon(1e-12));
  t.lora_targets = LoraTargets::attention;  // + the output projection's input
  CHECK(saved_activations_per_layer(m, t, n).total() - plain == Approx(3 * n * (h + h)).epsilon(1e-12));
  t.lora_targets = LoraTargets::all_linear;  // + the MLP input (gate and up share it) and the down input
  CHECK(saved_activations_per_layer(m, t, n).total() - plain == Approx(3 * n * (3 * h + f)).epsilon(1e-12));
  t.recompute = Recompute::full;  // checkpointing recomputes the dropout too
  CHECK(saved_activations_per_layer(m, t, n).total() == Approx(2 * n * h));
}

TEST_CASE("loss kernels that keep only the bf16 logits: compiled (chunked) CE, Unsloth's in-place CE",
          "[activations]") {
  // torchtune compiles the chunked CE with its upcast (one fp32 chunk of 8 in backward); torchtitan
  // compiles the whole upcast CE (its fused backward writes a bf16 gradient); Unsloth's 2024 kernel
  // writes the gradient over the saved logits (nothing more).
  const ModelSpec llama = llama3_70b();
  TrainingConfig t = llama_config(8192);
  const double inputs = 4 * 8192.0 * 8192, entries = 8192.0 * 128256;
  const std::pair<LossKernel, double> kernels[] = {
      {LossKernel::chunked_compiled, 4 * entries / 8}, {LossKernel::compiled, 2 * entries}, {LossKernel::inplace, 0}};
  for (const auto& [kernel, gradient] : kernels) {
    t.loss = kernel;
    INFO(to_string(kernel));
    CHECK(loss_activation_bytes(llama, t, 8192) == Approx(inputs + 2 * entries).epsilon(1e-12));
    CHECK(loss_gradient_bytes(llama, t, 8192) == Approx(gradient).epsilon(1e-12));
  }
}

