// Scenario resolution and the consistency checks: each error class names the path, the
// numbers involved and the fix.
#include <catch2/catch.hpp>

#include "scenario/data_dirs.h"
#include "scenario/scenario.h"

using namespace stepsim;

namespace {

Result<Scenario> scenario_of(const std::string& training, const std::string& cluster = "\"topology\": \"dgx-h100\"",
                             const std::string& model = "\"llama3-70b\"", std::vector<Override> overrides = {}) {
  std::string text = "{\n\"cluster\": {" + cluster + "},\n\"model\": " + model + ",\n\"training\": {\n" + training + "\n}\n}\n";
  auto doc = parse_json_text(text, "s.json");
  REQUIRE(doc.ok());
  return parse_scenario(doc.value(), overrides);
}

std::string errors_of(const Result<Scenario>& s) {
  REQUIRE_FALSE(s.ok());
  return s.errors().to_string();
}

bool has(const std::string& haystack, const std::string& needle) {
  INFO(haystack);
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("every shipped scenario loads, and the default one exists", "[scenario]") {
  auto files = catalog_files(CatalogKind::scenarios);
  REQUIRE(files.size() >= 11);
  for (const auto& f : files) {
    INFO(f);
    auto s = load_scenario(f);
    CHECK(s.ok());
    if (!s.ok()) WARN(s.errors().to_string());
  }
  CHECK(load_scenario(default_scenario_path()).ok());
}

TEST_CASE("dp is derived from the GPU count when absent", "[scenario]") {
  auto s = scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"tp\": 8", "\"topology\": \"dgx-h100\", \"nodes\": 4");
  REQUIRE(s.ok());
  CHECK(s.value().total_gpus() == 32);
  CHECK(s.value().dp() == 4);
  CHECK(s.value().micro_batches_per_step() == 16);
  CHECK(s.value().gpu.id == "h100-sxm5-80gb");  // the topology's default card
}

TEST_CASE("tp·pp·dp·cp must equal the GPU count", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"tp\": 4, \"dp\": 4"));
  CHECK(has(e, "s.json:5: training.dp: tp·pp·dp·cp = 4·1·4·1 = 16 but the cluster has 8 GPUs (1 node × 8)"));
  CHECK(has(e, "fix: set \"dp\": 2"));
  e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"tp\": 3"));
  CHECK(has(e, "does not divide the 8 GPUs"));
}

TEST_CASE("heads and kv_heads must divide by tp", "[scenario]") {
  // Llama-3-8B: 32 heads, 8 KV heads; tp 16 on two nodes divides neither the KV heads.
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"tp\": 16",
                                        "\"topology\": \"dgx-h100\", \"nodes\": 2", "\"llama3-8b\""));
  CHECK(has(e, "training.tp: the model's 8 KV heads are not divisible by tp = 16"));
}

TEST_CASE("more pipeline stages than layers is rejected, uneven splits are not", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 1024, \"global_batch\": 64, \"pp\": 16",
                                        "\"topology\": \"dgx-h100\", \"nodes\": 2", "\"gpt2\""));
  CHECK(has(e, "pp·vp = 16 pipeline stages but the model has only 12 layers"));
  // Llama 3.1 405B: 126 layers on 16 stages; first and last get one layer less.
  auto s = scenario_of("\"seq_len\": 8192, \"global_batch\": 16, \"pp\": 16, \"tp\": 8",
                       "\"topology\": \"dgx-h100\", \"nodes\": 16", "\"llama3.1-405b\"");
  REQUIRE(s.ok());
  const auto& split = s.value().training.layers_per_stage;
  REQUIRE(split.size() == 16);
  CHECK(split.front() == 7);
  CHECK(split.back() == 7);
  CHECK(split[1] == 8);
  CHECK(split[14] == 8);
}

TEST_CASE("an explicit layer split must cover the model", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"pp\": 2, \"layers_per_stage\": [40, 39]"));
  CHECK(has(e, "2 entries summing to 79 layers; expected pp·vp = 2 entries summing to 80"));
}

TEST_CASE("micro-batches must divide the global batch", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 60, \"micro_batch\": 2"));
  CHECK(has(e, "global_batch = 60 is not a multiple of micro_batch·dp = 2·8 = 16"));
  CHECK(has(e, "(e.g. 64)"));
}

TEST_CASE("the interleaved schedule needs micro-batches in multiples of pp", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 2048, \"global_batch\": 3, \"pp\": 2, \"vp\": 2, \"tp\": 4"));
  CHECK(has(e, "the interleaved schedule needs the 3 micro-batches per step to be a multiple of pp = 2"));
}

TEST_CASE("precision must be supported by the card", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"precision\": \"fp4\""));
  CHECK(has(e, "h100-sxm5-80gb does not support fp4 matmuls (FP4 tensor cores exist only on Blackwell GPUs)"));
  CHECK(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"precision\": \"fp4\"",
                    "\"topology\": \"rtx-pro-6000-8gpu-dual-root\"").ok());
  e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"precision\": \"fp8\"",
                            "\"topology\": \"dgx-a100\""));
  CHECK(has(e, "a100-sxm4-80gb does not support fp8"));
}

TEST_CASE("a card without NVLink is refused on an NVLink topology", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64",
                                        "\"topology\": \"dgx-h100\", \"gpu\": \"rtx-pro-6000-blackwell-ws\""));
  CHECK(has(e, "rtx-pro-6000-blackwell-ws has no NVLink, but topology \"dgx-h100\" connects its GPUs with NVLink"));
}

TEST_CASE("missing catalog ids suggest the closest one", "[scenario]") {
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64",
                                        "\"topology\": \"dgx-h100\", \"gpu\": \"rtx-pro-6000\"", "\"llama3-70\""));
  CHECK(has(e, "s.json:2: cluster.gpu: no GPU \"rtx-pro-6000\" in the catalog"));
  CHECK(has(e, "s.json:3: model: no model \"llama3-70\""));
  CHECK(has(e, "did you mean \"llama3-70b\"?"));
  e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64", "\"topology\": \"dgx-h10\""));
  CHECK(has(e, "did you mean \"dgx-h100\"?"));
}

TEST_CASE("fine-tuning and sharding options are checked against each other", "[scenario]") {
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"finetune\": \"lora\"")),
            "training.lora_rank: finetune \"lora\" needs an adapter rank"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"offload\": \"optimizer\"")),
            "offload \"optimizer\" needs a sharded optimizer"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"vp\": 2, \"pipeline_schedule\": \"1f1b\"")),
            "vp > 1 only applies to the interleaved schedule"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"vp\": 2")),
            "the interleaved schedule needs pp > 1"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"ep\": 2")),
            "expert parallelism needs a mixture-of-experts model"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64, \"sp\": true")),
            "sequence parallelism splits activations across the TP group, but tp = 1"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 4095, \"global_batch\": 64, \"cp\": 2")),
            "seq_len = 4095 is not divisible by 2·cp = 4"));
  CHECK(has(errors_of(scenario_of("\"seq_len\": 2048, \"global_batch\": 64", "\"topology\": \"rtx-pro-6000-ws-4gpu\", \"nodes\": 2")),
            "2 nodes requested but topology \"rtx-pro-6000-ws-4gpu\" has no inter-node fabric"));
}

TEST_CASE("framework recipe options are checked against the rest of the training", "[scenario]") {
  struct Case {
    const char* training;  // after "seq_len": 4096
    const char* error;
  };
  // 64 sequences on dp = 8 are 8 micro-batches: the optimizer in backward needs the gradients of one.
  const Case cases[] = {
      {"\"global_batch\": 64, \"activation_offload\": true",
       "training.activation_offload: activation_offload moves the checkpointed layer inputs, but recompute is \"none\""},
      {"\"global_batch\": 64, \"precision\": \"fp32\", \"master_weights\": \"none\"",
       "fp32 training has no separate master copy to drop"},
      {"\"global_batch\": 64, \"base_weights\": \"fp32\"",
       "training.base_weights: base_weights \"fp32\" describes the frozen base model of a LoRA run"},
      {"\"global_batch\": 64, \"base_weights\": \"fp32\", \"finetune\": \"lora\", \"lora_rank\": 8, \"sharding\": \"zero3\"",
       "DeepSpeed casts the whole model"},
      {"\"global_batch\": 64, \"fsdp_units\": \"layers+embeddings\"",
       "training.fsdp_units: fsdp_units describes how FSDP wraps the model, but sharding is \"none\""},
      {"\"global_batch\": 64, \"fsdp_frozen_gradients\": true, \"finetune\": \"lora\", \"lora_rank\": 8",
       "training.fsdp_frozen_gradients: fsdp_frozen_gradients describes FSDP units, but sharding is \"none\""},
      {"\"global_batch\": 64, \"fsdp_frozen_gradients\": true, \"finetune\": \"qlora\", \"lora_rank\": 8, "
       "\"sharding\": \"fsdp\"",
       "NF4 weights cannot take gradients"},
      {"\"global_batch\": 64, \"fsdp_frozen_gradients\": true, \"sharding\": \"fsdp\"", "(nothing is frozen)"},
      {"\"global_batch\": 64, \"fsdp_gradient_sync\": \"last_micro_batch\", \"sharding\": \"zero3\"",
       "training.fsdp_gradient_sync: fsdp_gradient_sync describes FSDP's no_sync(), but sharding is \"zero3\""},
      {"\"global_batch\": 64, \"fsdp_gradient_sync\": \"sometimes\", \"sharding\": \"fsdp\"",
       "training.fsdp_gradient_sync"},
      {"\"global_batch\": 64, \"paged_optimizer\": true, \"optimizer\": \"sgd\"", "bitsandbytes pages AdamW states"},
      {"\"global_batch\": 64, \"paged_optimizer\": true, \"sharding\": \"zero3\", \"offload\": \"optimizer\"",
       "either paged (bitsandbytes) or offloaded"},
      {"\"global_batch\": 64, \"optimizer_in_backward\": true",
       "training.optimizer_in_backward: the optimizer step in backward needs one micro-batch per step"},
      {"\"global_batch\": 8, \"loss\": \"chunky\"", "training.loss"},
  };
  for (const Case& c : cases) {
    INFO(c.training);
    CHECK(has(errors_of(scenario_of(std::string("\"seq_len\": 4096, ") + c.training)), c.error));
  }
  CHECK(scenario_of("\"seq_len\": 4096, \"global_batch\": 8, \"optimizer_in_backward\": true, \"loss\": \"fused\", "
                    "\"recompute\": \"full\", \"activation_offload\": true, \"master_weights\": \"none\"").ok());
}

TEST_CASE("overrides change any field and errors say they came from --set", "[scenario]") {
  auto s = scenario_of("\"seq_len\": 4096, \"global_batch\": 64", "\"topology\": \"dgx-h100\"", "\"llama3-70b\"",
                       {{"training.tp", "4"}, {"cluster.gpu", "h200-sxm-141gb"}, {"training.sharding", "zero3"}});
  REQUIRE(s.ok());
  CHECK(s.value().training.tp == 4);
  CHECK(s.value().dp() == 2);
  CHECK(s.value().gpu.id == "h200-sxm-141gb");
  CHECK(s.value().training.sharding == Sharding::zero3);
  std::string e = errors_of(scenario_of("\"seq_len\": 4096, \"global_batch\": 64", "\"topology\": \"dgx-h100\"",
                                        "\"llama3-70b\"", {{"training.tpp", "4"}}));
  CHECK(has(e, "training.tpp: unknown key \"tpp\" (value from --set training.tpp=4)"));
  CHECK(has(e, "did you mean \"tp\"?"));
  JsonDocument doc;
  doc.root = Json::object({{"cluster", "dgx-h100"}});
  Diagnostics d = apply_overrides(doc, {{"cluster.nodes", "2"}});
  CHECK(has(d.to_string(), "\"cluster\" is not an object"));
}

TEST_CASE("models can be inline or a Hugging Face config path", "[scenario]") {
  auto inline_model = scenario_of("\"seq_len\": 512, \"global_batch\": 8", "\"topology\": \"dgx-h100\"",
                                  "{\"arch\": \"llama\", \"layers\": 2, \"hidden\": 256, \"heads\": 4, "
                                  "\"ffn_hidden\": 512, \"vocab\": 1000}");
  REQUIRE(inline_model.ok());
  CHECK(inline_model.value().model.layers == 2);
  auto hf = scenario_of("\"seq_len\": 512, \"global_batch\": 8", "\"topology\": \"dgx-h100\"",
                        "{\"hf_config\": \"" STEPSIM_TEST_DATA_DIR "/hf-configs/meta-llama-Meta-Llama-3-8B.json\"}");
  REQUIRE(hf.ok());
  CHECK(hf.value().model.vocab == 128256);
}
