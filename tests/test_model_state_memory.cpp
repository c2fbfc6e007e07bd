// Model-state memory against the ZeRO paper's formulas and memory.md's derived tables.
#include <catch2/catch.hpp>

#include "scenario/scenario.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "scenario_inputs.h"

using namespace stepsim;

namespace {
constexpr double GiB = 1024.0 * 1024 * 1024;

Scenario scenario(const std::string& model, const std::string& topology, int nodes, const std::string& extra) {
  std::string text = "{\"cluster\": {\"topology\": \"" + topology + "\", \"nodes\": " + std::to_string(nodes) +
                     "}, \"model\": \"" + model + "\", \"training\": {\"seq_len\": 2048, \"global_batch\": 512" +
                     extra + "}}";
  return test_inputs::scenario_from_text(text);
}
}  // namespace

TEST_CASE("ZeRO stages: 16Ψ, 4Ψ+12Ψ/N, 2Ψ+14Ψ/N, 16Ψ/N", "[memory]") {
  const int n = 64;
  for (auto [sharding, formula] : std::vector<std::pair<std::string, double (*)(double, double)>>{
           {"none", [](double p, double) { return 16 * p; }},
           {"zero1", [](double p, double n) { return 4 * p + 12 * p / n; }},
           {"zero2", [](double p, double n) { return 2 * p + 14 * p / n; }},
           {"zero3", [](double p, double n) { return 16 * p / n; }}}) {
    Scenario s = scenario("megatron-gpt-7.5b", "dgx-a100", 8, ", \"sharding\": \"" + sharding + "\"");
    const double psi = static_cast<double>(count_parameters(s.model).total);
    INFO(sharding);
    CHECK(model_state_bytes(s, 0).total() == Approx(formula(psi, n)).epsilon(1e-12));
  }
  // The ZeRO paper's example (Ψ = 7.5 B, N = 64): 120, 31.4, 16.6, 1.88 GB; our GPT 7.5B has 7.47 B.
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 8, ""), 0).total() / 1e9 == Approx(120).epsilon(0.01));
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 8, ", \"sharding\": \"zero1\""), 0).total() / 1e9 ==
        Approx(31.4).epsilon(0.01));
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 8, ", \"sharding\": \"zero2\""), 0).total() / 1e9 ==
        Approx(16.6).epsilon(0.01));
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 8, ", \"sharding\": \"zero3\""), 0).total() / 1e9 ==
        Approx(1.88).epsilon(0.01));
}

TEST_CASE("Llama-3-70B on 8 GPUs: 361 / 246 / 131 GiB for ZeRO-1/2/3 (memory.md §1.2)", "[memory]") {
  CHECK(model_state_bytes(scenario("llama3-70b", "dgx-h100", 1, ", \"sharding\": \"zero1\""), 0).total() / GiB ==
        Approx(361).epsilon(0.005));
  CHECK(model_state_bytes(scenario("llama3-70b", "dgx-h100", 1, ", \"sharding\": \"zero2\""), 0).total() / GiB ==
        Approx(246).epsilon(0.005));
  CHECK(model_state_bytes(scenario("llama3-70b", "dgx-h100", 1, ", \"sharding\": \"zero3\""), 0).total() / GiB ==
        Approx(131.4).epsilon(0.005));
  CHECK(model_state_bytes(scenario("llama3-70b", "dgx-h100", 2, ", \"sharding\": \"zero3\""), 0).total() / GiB ==
        Approx(65.7).epsilon(0.005));
}

TEST_CASE("QLoRA base: NF4 matrices with double-quantized constants plus bf16 embeddings", "[memory]") {
  // memory.md §1.5: 31.9 GiB NF4 + 1.0 GiB constants + 3.9 GiB embedding/lm_head, plus bf16 adapter copies.
  Scenario s = scenario("llama3-70b", "dgx-h100", 1, ", \"finetune\": \"qlora\", \"lora_rank\": 16");
  const ModelStateBytes m = model_state_bytes(s, 0);
  const double adapters = 207093760.0;
  CHECK((m.weights - 2 * adapters) / GiB == Approx(31.9 + 1.0 + 3.9).epsilon(0.01));
  CHECK(m.gradients == Approx(2 * adapters));
  CHECK(m.optimizer == Approx(12 * adapters));
}

TEST_CASE("LoRA keeps a frozen bf16 base; ZeRO-3 shards it", "[memory]") {
  Scenario s = scenario("llama3-70b", "dgx-h100", 1, ", \"finetune\": \"lora\", \"lora_rank\": 16, \"sharding\": \"zero3\"");
  const ModelStateBytes m = model_state_bytes(s, 0);
  CHECK(m.weights / GiB == Approx((2 * 70553706496.0 + 2 * 207093760.0) / 8 / GiB).epsilon(1e-9));
  CHECK(m.optimizer == Approx(12 * 207093760.0 / 8));
}

TEST_CASE("FSDP mixed precision: the fp32 sharded parameters are the master copy", "[memory]") {
  // Llama 3 8B (8,030,261,248 parameters) over 8 ranks: fp32 parameters and gradients (4 B each),
  // AdamW m and v (8 B); 16 B per parameter as ZeRO-3, but no bf16 copy beside the master.
  Scenario s = scenario("llama3-8b", "dgx-h100", 1, ", \"sharding\": \"fsdp\"");
  const ModelStateBytes m = model_state_bytes(s, 0);
  const double p = 8030261248.0 / 8;
  CHECK(m.weights == Approx(4 * p).epsilon(1e-12));
  CHECK(m.gradients == Approx(4 * p).epsilon(1e-12));
  CHECK(m.optimizer == Approx(8 * p).epsilon(1e-12));
  Scenario z3 = scenario("llama3-8b", "dgx-h100", 1, ", \"sharding\": \"zero3\"");  // DeepSpeed: bf16 + fp32 master
  const ModelStateBytes d = model_state_bytes(z3, 0);
  CHECK(d.weights == Approx(2 * p).epsilon(1e-12));
  CHECK(d.total() == Approx(m.total()).epsilon(1e-12));
}

TEST_CASE("a LoRA base loaded in fp32 takes 4 bytes per parameter; FSDP shards it", "[memory]") {
  // Llama 3 70B: 70,553,706,496 parameters; rank-16 adapters on every linear 207,093,760.
  Scenario s = scenario("llama3-70b", "dgx-h100", 1,
                        ", \"finetune\": \"lora\", \"lora_rank\": 16, \"sharding\": \"fsdp\", \"base_weights\": \"fp32\"");
  const ModelStateBytes m = model_state_bytes(s, 0);
  CHECK(m.weights == Approx((4 * 70553706496.0 + 2 * 207093760.0) / 8).epsilon(1e-12));
}

TEST_CASE("FSDP units mixing frozen weights and adapters give the frozen weights gradients", "[memory]") {
  // Llama 3 8B: 32 blocks of 218,112,000 parameters; rank-8 adapters on q and v add
  // 8·(4096+4096) + 8·(4096+1024) = 106,496 per block. bf16 gradients, sharded over 8 ranks.
  const std::string lora = ", \"finetune\": \"lora\", \"lora_rank\": 8, \"lora_targets\": \"qv\", \"sharding\": \"fsdp\"";
  const double adapters = 32 * 106496.0, blocks = 32 * 218112000.0;
  CHECK(model_state_bytes(scenario("llama3-8b", "dgx-h100", 1, lora), 0).gradients ==
        Approx(2 * adapters / 8).epsilon(1e-12));
  const ModelStateBytes mixed = model_state_bytes(scenario("llama3-8b", "dgx-h100", 1, lora + ", \"fsdp_frozen_gradients\": true"), 0);
  CHECK(mixed.gradients == Approx(2 * (adapters + blocks) / 8).epsilon(1e-12));
  CHECK(mixed.optimizer == Approx(12 * adapters / 8).epsilon(1e-12));  // only the adapters are updated
}

TEST_CASE("offload moves the optimizer (and parameters) to host memory", "[memory]") {
  Scenario opt = scenario("llama3-70b", "dgx-h100", 1, ", \"sharding\": \"zero3\", \"offload\": \"optimizer\"");
  CHECK(model_state_bytes(opt, 0).optimizer == 0);
  CHECK(model_state_bytes(opt, 0).host == Approx(12 * 70553706496.0 / 8));
  Scenario all = scenario("llama3-70b", "dgx-h100", 1, ", \"sharding\": \"zero3\", \"offload\": \"params_optimizer\"");
  CHECK(model_state_bytes(all, 0).total() == 0);
  CHECK(model_state_bytes(all, 0).host == Approx(16 * 70553706496.0 / 8));
}

TEST_CASE("tensor and pipeline parallelism split the weights; the heaviest stage is found", "[memory]") {
  Scenario s = scenario("llama3.1-405b", "dgx-h100", 16, ", \"tp\": 8, \"pp\": 16");
  // 126 layers on 16 stages: 7 on the first and last, 8 on the others.
  const ParameterCounts c = count_parameters(s.model);
  const double middle = 8 * (c.layer.attention / 8.0 + c.layer.mlp / 8.0 + c.layer.norms);
  CHECK(model_state_bytes(s, 1).weights == Approx(2 * middle));
  CHECK(heaviest_pipeline_rank(s) == 1);
  const double first = 7 * (c.layer.attention / 8.0 + c.layer.mlp / 8.0 + c.layer.norms) + c.token_embedding / 8.0;
  CHECK(model_state_bytes(s, 0).weights == Approx(2 * first));
}

TEST_CASE("pure bf16 training: 8 bytes per parameter with AdamW, no master copy (memory.md §1)", "[memory]") {
  const double psi = static_cast<double>(count_parameters(scenario("megatron-gpt-7.5b", "dgx-a100", 1, "").model).total);
  Scenario pure = scenario("megatron-gpt-7.5b", "dgx-a100", 1, ", \"master_weights\": \"none\"");
  CHECK(model_state_bytes(pure, 0).total() == Approx(8 * psi).epsilon(1e-12));
  // 8-bit AdamW: 2 + 2 + 2 pure, 2 + 2 + 6 with the fp32 master (bitsandbytes docs, memory.md §1.6).
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 1, ", \"master_weights\": \"none\", \"optimizer\": \"adamw8bit\""), 0)
            .total() == Approx(6 * psi).epsilon(1e-12));
  CHECK(model_state_bytes(scenario("megatron-gpt-7.5b", "dgx-a100", 1, ", \"optimizer\": \"adamw8bit\""), 0).total() ==
        Approx(10 * psi).epsilon(1e-12));
}

TEST_CASE("optimizer in backward keeps the gradients of one update group", "[memory]") {
  // Llama-3-8B on one GPU: the untied 128256×4096 embedding (525,336,576 parameters) is larger
  // than one block (218,112,000), so it sets the resident gradients: 2 bytes each.
  auto doc = parse_json_text(
      R"({"cluster": {"topology": "pcie5-1gpu", "gpu": "rtx-pro-6000-blackwell-ws"}, "model": "llama3-8b",
          "training": {"seq_len": 2048, "global_batch": 1, "optimizer_in_backward": true, "master_weights": "none"}})",
      "s.json");
  REQUIRE(doc.ok());
  auto parsed = parse_scenario(doc.value(), {});
  if (!parsed.ok()) FAIL(parsed.errors().to_string());
  const Scenario& s = parsed.value();
  CHECK(largest_update_group(s, 0) == Approx(128256.0 * 4096));
  CHECK(model_state_bytes(s, 0).gradients == Approx(2 * 128256.0 * 4096));
}
