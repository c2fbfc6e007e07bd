// Parameter counts against published totals and hand computations; model FLOPs against the
// closed forms of Narayanan et al. 2021 (GPT) and 6·N·tokens + attention (Llama).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "scenario/data_dirs.h"
#include "scenario/model_spec.h"
#include "workload/model_math.h"

using namespace stepsim;

namespace {
ModelSpec model(const std::string& id) {
  auto m = load_model(id);
  REQUIRE(m.ok());
  return m.value();
}
TrainingConfig training(int64_t seq, Recompute r = Recompute::none) {
  TrainingConfig t;
  t.seq_len = seq;
  t.global_batch = 1;
  t.recompute = r;
  return t;
}
}  // namespace

TEST_CASE("shipped models reproduce their published parameter counts", "[params]") {
  int checked = 0;
  for (const auto& id : catalog_ids(CatalogKind::models)) {
    ModelSpec m = model(id);
    if (!m.published_parameters) continue;
    INFO(id << ": computed " << count_parameters(m).total << " published " << *m.published_parameters);
    // Published figures are rounded ("1.7B", "175B"): accept 0.5 % or half a unit of the last digit given.
    const double published = *m.published_parameters;
    double unit = 1;
    while (std::fmod(published, unit * 10) == 0) unit *= 10;
    const double allowed = std::max(0.005 * published, unit / 2);
    CHECK(std::fabs(static_cast<double>(count_parameters(m).total) - published) <= allowed);
    ++checked;
  }
  CHECK(checked >= 10);
  CHECK(count_parameters(model("llama3-8b")).total == Approx(8.03e9).epsilon(0.001));
  CHECK(count_parameters(model("llama3.1-405b")).total == Approx(405.9e9).epsilon(0.001));
  CHECK(count_parameters(model("mixtral-8x7b")).total == Approx(46.7e9).epsilon(0.002));
}

TEST_CASE("Llama-3-70B parameters by hand", "[params]") {
  // h = 8192, 64/8 heads of 128, ffn 28672, V = 128256, untied, RMSNorm.
  const ParameterCounts c = count_parameters(model("llama3-70b"));
  const int64_t attention = 2LL * 8192 * 8192 + 2LL * 8192 * 1024;  // q, o + k, v
  const int64_t mlp = 3LL * 8192 * 28672;
  CHECK(c.layer.attention == attention);
  CHECK(c.layer.mlp == mlp);
  CHECK(c.layer.total() == attention + mlp + 2 * 8192);  // 855,654,400 ("855.7 M", memory.md)
  CHECK(c.layer.total() == 855654400);
  CHECK(80 * c.layer.linear_weights() == 68451041280LL);  // "68.45 B linear weights"
  CHECK(c.total == 70553706496LL);                        // "Ψ = 70.55 B"
  // LoRA on all linear layers: r·161,792 per layer (memory.md §1.5).
  CHECK(lora_parameters_per_layer(model("llama3-70b"), 1, LoraTargets::all_linear) == 161792);
  CHECK(lora_parameters_per_layer(model("llama3-70b"), 16, LoraTargets::all_linear) * 80 == 207093760);
}

TEST_CASE("GPT model FLOPs equal Narayanan et al.'s 72·B·s·l·h²·(1 + s/6h + V/12lh)", "[flops]") {
  for (const char* id : {"gpt3-175b", "megatron-gpt-18.4b", "megatron-gpt-1008b", "gpt2"}) {
    ModelSpec m = model(id);
    const double s = m.max_seq_len >= 2048 ? 2048 : 1024, l = m.layers, h = m.hidden, V = m.vocab, B = 8;
    const double narayanan = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
    const double with_recompute = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    INFO(id);
    const FlopsPerToken f = flops_per_token(m, training(static_cast<int64_t>(s)));
    CHECK(f.model() * B * s == Approx(narayanan).epsilon(0.01));
    const FlopsPerToken full = flops_per_token(m, training(static_cast<int64_t>(s), Recompute::full));
    CHECK(full.hardware() * B * s == Approx(with_recompute).epsilon(0.01));
    CHECK(full.model() == Approx(f.model()));  // recompute is not model FLOPs
  }
}

TEST_CASE("Llama model FLOPs equal 6·N·tokens plus attention", "[flops]") {
  for (const char* id : {"llama3-8b", "llama3-70b", "llama3.1-405b"}) {
    ModelSpec m = model(id);
    const double seq = 8192;
    const ParameterCounts c = count_parameters(m);
    // N without the embedding lookup (which has no FLOPs); attention 12·L·s·h per token.
    const double n = static_cast<double>(c.total - c.token_embedding);
    const double expected = 6 * n + 12.0 * m.layers * seq * m.hidden;
    INFO(id);
    CHECK(flops_per_token(m, training(8192)).model() == Approx(expected).epsilon(0.01));
  }
}

TEST_CASE("LoRA skips the frozen weights' gradients", "[flops]") {
  ModelSpec m = model("llama3-70b");
  TrainingConfig full = training(4096);
  TrainingConfig lora = training(4096);
  lora.finetune = Finetune::lora;
  lora.lora_rank = 16;
  // By hand: G = GEMM FLOPs of one forward, A = attention core of one forward, per token.
  const ParameterCounts c = count_parameters(m);
  const double G = 2.0 * (80 * c.layer.linear_weights() + 8192.0 * 128256);
  const double A = 4.0 * 4096 * 8192 * 80;
  const double adapters = 2.0 * 80 * 16 * 161792;  // forward GEMMs of the rank-16 adapters
  CHECK(flops_per_token(m, full).model() == Approx(3 * G + 3 * A));
  // Frozen base: forward + data gradients only (2G + 3A); adapters forward, data and weight gradients.
  CHECK(flops_per_token(m, lora).model() == Approx(2 * G + 3 * A + 3 * adapters));
}

TEST_CASE("MoE FLOPs count only the routed experts", "[flops]") {
  ModelSpec m = model("mixtral-8x7b");
  const ParameterCounts c = count_parameters(m);
  const double active_mlp = 2.0 * 3 * m.hidden * m.ffn_hidden;  // top-2 of 8 experts
  const double forward = flops_per_token(m, training(1)).forward;
  const double dense_equivalent = 2.0 * (c.layer.attention_weights + active_mlp + m.hidden * 8) * m.layers +
                                  2.0 * m.hidden * m.vocab + 4.0 * m.hidden * m.layers;
  CHECK(forward == Approx(dense_equivalent).epsilon(1e-9));
}

TEST_CASE("per-op checkpointing recomputes the 2nd, 4th and 6th matmul of a Llama block", "[flops]") {
  ModelSpec m = model("llama3-8b");
  // k (4096 -> 1024), o (4096 -> 4096), up (4096 -> 14336): 2·(4.19M + 16.78M + 58.72M) per token.
  const double by_hand = 2.0 * (4096.0 * 1024 + 4096.0 * 4096 + 4096.0 * 14336);
  CHECK(per_op_recompute_flops_per_token(m) == Approx(by_hand).epsilon(1e-12));
  TrainingConfig t = training(8192);
  t.recompute = Recompute::selective_op;
  CHECK(flops_per_token(m, t).recompute == Approx(32 * by_hand).epsilon(1e-12));
  CHECK(flops_per_token(m, t).model() == Approx(flops_per_token(m, training(8192)).model()));
}

TEST_CASE("LoRA on q and v only (PEFT's and LitGPT's Llama default)", "[params]") {
  // LitGPT's resource table: 4.19 M trainable parameters for Llama-2-7B at rank 8.
  ModelSpec m = model("llama3-8b");
  m.layers = 32;
  m.kv_heads = 32;  // Llama-2-7B: no GQA
  CHECK(32 * lora_parameters_per_layer(m, 8, LoraTargets::qv) == 4194304);
}

