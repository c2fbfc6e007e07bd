// Published-runs CSV: RFC 4180 reading with located errors, and the row -> scenario mapping
// (docs/formats/published-runs.md, "How rows become scenarios").
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "scenario/published_runs.h"

using namespace stepsim;

namespace {

const std::string kShipped = std::string(STEPSIM_TEST_DATA_DIR) + "/published-runs.csv";

const RunCatalog& catalog() {
  static const RunCatalog c = [] {
    auto loaded = load_run_catalog();
    REQUIRE(loaded.ok());
    return loaded.value();
  }();
  return c;
}

const std::vector<PublishedRun>& shipped() {
  static const std::vector<PublishedRun> runs = [] {
    auto r = read_published_runs(kShipped);
    if (!r.ok()) FAIL(r.errors().to_string());
    return r.value();
  }();
  return runs;
}

const PublishedRun& shipped_row(const std::string& id) {
  const auto& runs = shipped();
  auto it = std::find_if(runs.begin(), runs.end(), [&](const PublishedRun& r) { return r.id == id; });
  REQUIRE(it != runs.end());
  return *it;
}

bool contains(const std::vector<std::string>& list, const std::string& prefix) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
}

// A row built from the shipped header, with a few cells replaced.
PublishedRun row_with(const std::map<std::string, std::string>& cells) {
  PublishedRun row = shipped_row("narayanan21-t1-r1");
  for (auto& [col, text] : row.cells) text.clear();
  row.cells["id"] = row.id = "test-row";
  for (const auto& [col, text] : cells) row.cells[col] = text;
  return row;
}

const std::map<std::string, std::string> kLlama8b = {
    {"arch", "llama"}, {"layers", "32"}, {"hidden", "4096"}, {"heads", "32"}, {"kv_heads", "8"},
    {"ffn_hidden", "14336"}, {"vocab", "128256"}, {"seq_len", "2048"}};

std::map<std::string, std::string> llama8b_plus(std::map<std::string, std::string> extra) {
  extra.insert(kLlama8b.begin(), kLlama8b.end());
  return extra;
}

}  // namespace

TEST_CASE("the shipped published-runs CSV parses", "[published]") {
  const auto& runs = shipped();
  REQUIRE(runs.size() == 382);
  CHECK(runs.front().id == "narayanan21-t1-r1");
  CHECK(runs.front().line == 2);
  CHECK(runs.front().metric == "hw_tflops_per_gpu");
  CHECK(runs.front().measured_value == Approx(137));
  CHECK(runs.front().cell("notes").find("44% of 312 TFLOP/s peak; aggregate") == 0);  // quoted, with commas
  for (const auto& r : runs) CHECK(r.cells.size() == runs.front().cells.size());
}

TEST_CASE("CSV quoting: commas, doubled quotes, line breaks, CRLF, any column order", "[published]") {
  const std::string text =
      "measured_value,id,notes,extra_column,measured_metric\r\n"
      "1.5,a,\"x, y and \"\"z\"\"\",kept,fits\r\n"
      "\n"
      "2,b,\"two\nlines\",,oom\n"
      "3,c,plain,,mfu";
  auto r = parse_published_runs(text, "q.csv");
  REQUIRE(r.ok());
  const auto& runs = r.value();
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].cell("notes") == "x, y and \"z\"");
  CHECK(runs[0].cell("extra_column") == "kept");
  CHECK(runs[0].measured_value == Approx(1.5));
  CHECK(runs[1].line == 4);
  CHECK(runs[1].cell("notes") == "two\nlines");
  CHECK(runs[2].line == 6);  // the quoted line break counts
  CHECK(runs[2].metric == "mfu");
  CHECK(runs[2].cell("no such column").empty());
}

TEST_CASE("CSV errors are located", "[published]") {
  auto unbalanced = parse_published_runs("id,measured_metric,measured_value\na,fits,1\nb,\"oops,2\nc,fits,3\n", "u.csv");
  REQUIRE_FALSE(unbalanced.ok());
  CHECK(unbalanced.errors().to_string().find("u.csv:3: unterminated quoted field") != std::string::npos);

  auto after_quote = parse_published_runs("id,measured_metric,measured_value\n\"a\"x,fits,1\n", "a.csv");
  REQUIRE_FALSE(after_quote.ok());
  CHECK(after_quote.errors().to_string().find("a.csv:2: unexpected text after the closing quote") != std::string::npos);

  auto short_row = parse_published_runs("id,measured_metric,measured_value\na,fits\nb,oom,x\n", "s.csv");
  REQUIRE_FALSE(short_row.ok());
  const std::string e = short_row.errors().to_string();
  CHECK(e.find("s.csv:2: the row has 2 fields but the header has 3") != std::string::npos);
  CHECK(e.find("s.csv:3: measured_value: \"x\" is not a number") != std::string::npos);

  auto no_header = parse_published_runs("id,notes\n", "h.csv");
  REQUIRE_FALSE(no_header.ok());
  CHECK(no_header.errors().to_string().find("h.csv:1: the header has no \"measured_value\" column") != std::string::npos);

  auto missing = read_published_runs("/nonexistent/runs.csv");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.errors().to_string().find("/nonexistent/runs.csv: cannot open the file") != std::string::npos);
}

TEST_CASE("narayanan21-t1-r1 becomes GPT-1.7B on 4 DGX A100 nodes with dp 32", "[published]") {
  RunScenario rs = scenario_for_run(shipped_row("narayanan21-t1-r1"), catalog());
  INFO(rs.skip_reason);
  REQUIRE(rs.scenario);
  const Scenario& s = *rs.scenario;
  CHECK(s.model.arch == Arch::gpt);
  CHECK(s.model.layers == 24);
  CHECK(s.model.hidden == 2304);
  CHECK(s.model.heads == 24);
  CHECK(s.model.kv_heads == 24);
  CHECK(s.model.ffn_hidden == 9216);
  CHECK(s.model.vocab == 51200);
  CHECK(s.model.max_seq_len == 2048);
  CHECK(s.model.file == kShipped);  // inline, not a catalog file
  CHECK(s.gpu.id == "a100-sxm4-80gb");
  CHECK(s.topology.id == "dgx-a100-ib-hdr");
  CHECK(s.nodes == 4);
  CHECK(s.total_gpus() == 32);
  CHECK(s.dp() == 32);
  CHECK(s.training.global_batch == 512);
  CHECK(s.training.precision == Precision::fp16);
  CHECK(s.training.recompute == Recompute::full);
  CHECK(contains(rs.defaults, "micro_batch=1 (empty)"));
  CHECK(contains(rs.defaults, "sharding=none (empty)"));
  CHECK_FALSE(contains(rs.defaults, "dp="));  // dp is stated in this row
}

TEST_CASE("measured_value never reaches the scenario", "[published]") {
  for (const char* id : {"narayanan21-t1-r1", "unsloth-r1", "torchtune31-r11"}) {
    const PublishedRun& row = shipped_row(id);
    PublishedRun changed = row;
    changed.measured_value = row.measured_value * 3 + 1;
    changed.cells["measured_value"] = "12345.678";
    RunScenario a = scenario_for_run(row, catalog()), b = scenario_for_run(changed, catalog());
    INFO(id);
    CHECK(a.document.root.dump() == b.document.root.dump());
    CHECK(a.defaults == b.defaults);
    CHECK(a.skip_reason == b.skip_reason);
  }
}

TEST_CASE("cluster mapping: boxes, small counts, memory variants", "[published]") {
  auto topo = [](const std::map<std::string, std::string>& cells) {
    RunScenario rs = scenario_for_run(row_with(cells), catalog());
    INFO(rs.skip_reason);
    return rs.scenario ? rs.scenario->topology.id + "x" + std::to_string(rs.scenario->nodes) : rs.skip_reason;
  };
  CHECK(topo(llama8b_plus({{"gpu", "rtx-4090"}, {"num_gpus", "2"}})) == "pcie4-2gpux1");
  CHECK(topo(llama8b_plus({{"gpu", "rtx-a6000"}, {"num_gpus", "1"}, {"intra_node_link", "pcie4"}})) == "pcie4-1gpux1");
  CHECK(topo(llama8b_plus({{"gpu", "a100-sxm4-40gb"}, {"num_gpus", "4"}})) == "a100-sxm-4gpux1");
  CHECK(topo(llama8b_plus({{"gpu", "b200-sxm-180gb"}, {"num_gpus", "4"}})) == "b200-sxm-4gpux1");
  CHECK(topo(llama8b_plus({{"gpu", "h100-sxm5-80gb"}, {"num_gpus", "64"}})) == "dgx-h100x8");
  CHECK(topo(llama8b_plus({{"gpu", "h100-sxm5-80gb"}, {"num_gpus", "64"}, {"inter_node_link", "roce-400x8"}})) ==
        "dgx-h100-rocex8");
  CHECK(topo(llama8b_plus({{"gpu", "a100-sxm4-80gb"}, {"num_gpus", "8"}, {"inter_node_link", "roce-200x8"}})) ==
        "a100-roce-200x1");
  CHECK(topo(llama8b_plus({{"gpu", "v100-sxm3-32gb"}, {"num_gpus", "64"}, {"precision", "fp16"}})) == "dgx-2x4");
  CHECK(topo(llama8b_plus({{"gpu", "a100-sxm4-80gb"}, {"num_gpus", "16"}, {"inter_node_link", "ib-ndr-400x8"}})) ==
        "skipped: no topology for 8-GPU nvlink3-nvswitch nodes on ib-ndr-400x8");
  // A stated memory with no catalog variant is a VRAM budget: the same card, that capacity.
  RunScenario budget = scenario_for_run(
      row_with(llama8b_plus({{"gpu", "a100-sxm4-80gb"}, {"num_gpus", "1"}, {"gpu_mem_gb", "48"}})), catalog());
  REQUIRE(budget.scenario);
  CHECK(budget.scenario->gpu.id == "a100-sxm4-80gb");
  CHECK(budget.scenario->gpu.memory_bytes == 48.0 * 1024 * 1024 * 1024);
  CHECK(contains(budget.defaults, "cluster.gpu_memory_gib=48 (gpu_mem_gb=48: no catalog variant of a100-sxm4-80gb"));
  RunScenario variant = scenario_for_run(
      row_with(llama8b_plus({{"gpu", "a100-sxm4-80gb"}, {"num_gpus", "1"}, {"gpu_mem_gb", "40"}})), catalog());
  REQUIRE(variant.scenario);
  CHECK(variant.scenario->gpu.id == "a100-sxm4-40gb");
  CHECK(contains(variant.defaults, "gpu=a100-sxm4-40gb (gpu_mem_gb=40"));
  CHECK(topo(llama8b_plus({{"gpu", "mi300x"}, {"num_gpus", "8"}})).find("skipped: no topology for mi300x") == 0);
}

TEST_CASE("training mapping: defaults, interleaving, validation failures", "[published]") {
  RunScenario rs = scenario_for_run(
      row_with(llama8b_plus({{"gpu", "h100-sxm5-80gb"}, {"num_gpus", "16"}, {"pp", "2"}, {"vp_interleave", "4"},
                             {"micro_batch", "2"}, {"finetune", "lora"}, {"lora_rank", "16"}})),
      catalog());
  INFO(rs.skip_reason);
  REQUIRE(rs.scenario);
  const TrainingConfig& t = rs.scenario->training;
  CHECK(t.vp == 4);
  CHECK(t.schedule == PipelineSchedule::interleaved);
  CHECK(t.global_batch == 32);  // micro_batch 2 · dp 8 · pp 2: interleaving needs pp micro-batches
  CHECK(t.finetune == Finetune::lora);
  CHECK(t.lora_rank == 16);
  CHECK(t.precision == Precision::bf16);
  CHECK(contains(rs.defaults, "dp=8 (num_gpus/(tp·pp·cp))"));
  CHECK(contains(rs.defaults, "global_batch_seqs=32 (empty; micro_batch·dp·pp"));
  CHECK(contains(rs.defaults, "precision=bf16 (empty)"));
  CHECK(contains(rs.defaults, "recompute=full (empty)"));  // a fine-tuning row: recipes checkpoint activations
  CHECK(contains(rs.defaults, "model=tied_embeddings false, qkv_bias false, rope positions (as models/llama3"));
  CHECK(rs.scenario->model.position == PositionEmbedding::rope);

  RunScenario bad = scenario_for_run(
      row_with(llama8b_plus({{"gpu", "h100-sxm5-80gb"}, {"num_gpus", "8"}, {"global_batch_seqs", "12"}})), catalog());
  CHECK_FALSE(bad.scenario);
  CHECK(bad.skip_reason.find("skipped: training.global_batch: global_batch = 12 is not a multiple") == 0);
  RunScenario no_arch = scenario_for_run(row_with({{"gpu", "h100-sxm5-80gb"}, {"num_gpus", "8"}, {"seq_len", "1"}}),
                                         catalog());
  CHECK(no_arch.skip_reason == "skipped: layers not stated (empty)");
  CHECK(no_arch.document.root.contains("cluster"));
}

TEST_CASE("framework recipes fill what the row leaves empty, and say so", "[published]") {
  auto row = [](std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> cells =
        llama8b_plus({{"gpu", "a100-sxm4-80gb"}, {"num_gpus", "1"}, {"finetune", "full"}});
    for (auto& [k, v] : extra) cells[k] = v;
    return row_with(cells);
  };
  // torchtune's single-device full fine-tune: pure bf16, fp32 logits from the model, checkpointing,
  // PagedAdamW8bit with the step in backward.
  RunScenario tt = scenario_for_run(row({{"source", "pytorch/torchtune README"}}), catalog());
  REQUIRE(tt.scenario);
  CHECK_FALSE(tt.scenario->training.fp32_master_weights);
  CHECK(tt.scenario->training.loss == LossKernel::upcast);
  CHECK(tt.scenario->training.recompute == Recompute::full);
  CHECK(tt.scenario->training.optimizer == Optimizer::adamw8bit);
  CHECK(tt.scenario->training.optimizer_in_backward);
  CHECK(contains(tt.defaults, "master_weights=none (torchtune: torchtune recipes train in pure bf16"));
  // The row's own columns win over the recipe.
  RunScenario stated = scenario_for_run(row({{"source", "pytorch/torchtune README"}, {"optimizer", "adamw"},
                                             {"recompute", "none"}}), catalog());
  REQUIRE(stated.scenario);
  CHECK(stated.scenario->training.optimizer == Optimizer::adamw);
  CHECK(stated.scenario->training.recompute == Recompute::none);
  // The optimisation table names its techniques per row; an unpacked dataset cannot be modelled.
  RunScenario chunked = scenario_for_run(
      row({{"source", "torchtune README"}, {"notes", "x; active techniques: packed, compile, chunked CE; y"}}), catalog());
  REQUIRE(chunked.scenario);
  CHECK(chunked.scenario->training.loss == LossKernel::chunked_compiled);  // compiled with its upcast
  CHECK_FALSE(chunked.scenario->training.optimizer_in_backward);
  CHECK(chunked.scenario->training.fused_optimizer_step);
  CHECK(chunked.scenario->training.gradients_set_to_none);
  RunScenario eager_chunked = scenario_for_run(
      row({{"source", "torchtune README"}, {"notes", "x; active techniques: packed, chunked CE; y"}}), catalog());
  REQUIRE(eager_chunked.scenario);
  CHECK(eager_chunked.scenario->training.loss == LossKernel::chunked);
  RunScenario unpacked = scenario_for_run(
      row({{"source", "torchtune README"}, {"notes", "active techniques: unpacked (padding-dependent)"}}), catalog());
  CHECK(unpacked.skip_reason.find("unpacked dataset") != std::string::npos);
  // LitGPT: bf16-true, no checkpointing, chunked output layer.
  RunScenario lit = scenario_for_run(row({{"source", "Lightning-AI/litgpt tutorials"}, {"finetune", "lora"}}), catalog());
  REQUIRE(lit.scenario);
  CHECK(lit.scenario->training.recompute == Recompute::none);
  CHECK(lit.scenario->training.loss == LossKernel::chunked);
  CHECK(lit.scenario->training.lora_targets == LoraTargets::qv);
  CHECK(lit.scenario->training.lora_dropout == Approx(0.05));
  CHECK(lit.scenario->training.sharding == Sharding::none);
  // LitGPT on several GPUs: FSDP per block with checkpointing, use_orig_params (frozen weights take
  // gradients) and no_sync accumulation.
  RunScenario lit2 = scenario_for_run(row({{"source", "Lightning-AI/litgpt tutorials"}, {"finetune", "lora"},
                                           {"num_gpus", "2"}, {"global_batch", "128"}}), catalog());
  REQUIRE(lit2.scenario);
  CHECK(lit2.scenario->training.sharding == Sharding::fsdp);
  CHECK(lit2.scenario->training.recompute == Recompute::full);
  CHECK(lit2.scenario->training.frozen_weights_get_gradients());
  CHECK(lit2.scenario->training.accumulates_unsharded_gradients());
  // torchtitan's per-op policy refines the row's "selective"; other values stay as written.
  RunScenario titan = scenario_for_run(row({{"source", "torchtitan MXFP8 doc"}, {"recompute", "selective"},
                                            {"notes", "per-op selective AC; x"}}), catalog());
  REQUIRE(titan.scenario);
  CHECK(titan.scenario->training.recompute == Recompute::selective_op);
  CHECK(titan.scenario->training.gradients_set_to_none);
  CHECK(titan.scenario->training.loss == LossKernel::fp32_logits);  // no compile named
  RunScenario titan_compiled = scenario_for_run(
      row({{"source", "torchtitan MXFP8 doc"}, {"notes", "torch.compile (doc: 'torch.compile, FSDP2, per-op SAC')"}}),
      catalog());
  REQUIRE(titan_compiled.scenario);
  CHECK(titan_compiled.scenario->training.loss == LossKernel::compiled);
  RunScenario titan_full = scenario_for_run(row({{"source", "torchtitan MXFP8 doc"}, {"recompute", "full"},
                                                 {"notes", "per-op selective AC; x"}}), catalog());
  REQUIRE(titan_full.scenario);
  CHECK(titan_full.scenario->training.recompute == Recompute::full);
  // Unsloth's own rows use its fused loss and offloaded checkpoints; its Hugging Face rows do not.
  RunScenario uns = scenario_for_run(
      row({{"source", "Unsloth README"}, {"finetune", "qlora"}, {"notes", "implementation Unsloth; method: QLoRA"}}),
      catalog());
  REQUIRE(uns.scenario);
  CHECK(uns.scenario->training.loss == LossKernel::fused);
  CHECK(uns.scenario->training.activation_offload);
  CHECK(uns.scenario->training.optimizer == Optimizer::adamw8bit);  // its benchmark settings
  // LLaMA-Factory's table (2024-04) predates Unsloth's CCE: the logits are kept, their gradient in place.
  RunScenario factory = scenario_for_run(row({{"source", "LLaMA-Factory wiki"}, {"finetune", "qlora"},
                                              {"notes", "implementation Unsloth+FA2; method: QLoRA"}}),
                                         catalog());
  REQUIRE(factory.scenario);
  CHECK(factory.scenario->training.loss == LossKernel::inplace);
  CHECK(factory.scenario->training.optimizer == Optimizer::adamw);
  RunScenario hf = scenario_for_run(
      row({{"source", "Unsloth README"}, {"finetune", "qlora"}, {"notes", "implementation Hugging Face + FA2"}}),
      catalog());
  REQUIRE(hf.scenario);
  CHECK(hf.scenario->training.loss == LossKernel::upcast);
  CHECK_FALSE(hf.scenario->training.activation_offload);
  // The PEFT docs' scripts load a non-quantized model in fp32; FSDP keeps it, DeepSpeed casts it.
  RunScenario peft_fsdp = scenario_for_run(row({{"source", "HF PEFT docs"}, {"finetune", "lora"}, {"lora_rank", "8"},
                                                {"sharding", "fsdp"}}), catalog());
  REQUIRE(peft_fsdp.scenario);
  CHECK(peft_fsdp.scenario->training.fp32_base_weights);
  RunScenario peft_zero3 = scenario_for_run(row({{"source", "HF PEFT docs"}, {"finetune", "lora"}, {"lora_rank", "8"},
                                                 {"sharding", "zero3"}}), catalog());
  REQUIRE(peft_zero3.scenario);
  CHECK_FALSE(peft_zero3.scenario->training.fp32_base_weights);
  // The llama3_1 configs of the README's memory table build the chunked cross-entropy.
  RunScenario tt31 = scenario_for_run(row({{"source", "torchtune README"}, {"num_gpus", "1"}, {"finetune", "lora"},
                                           {"lora_rank", "8"},
                                           {"notes", "torch.compile on; configs recipes/configs/llama3_1/*"}}),
                                      catalog());
  REQUIRE(tt31.scenario);
  CHECK(tt31.scenario->training.loss == LossKernel::chunked_compiled);
  // torchtune's 70B_full.yaml shards the embedding and the output layer as units of their own.
  RunScenario tt70 = scenario_for_run(row({{"source", "torchtune README"}, {"sharding", "fsdp"}, {"num_gpus", "8"},
                                           {"notes", "70B_full.yaml: AC True"}}), catalog());
  REQUIRE(tt70.scenario);
  CHECK(tt70.scenario->training.fsdp_embedding_units);
  // Axolotl's full fine-tune: bf16 model without a master copy, bitsandbytes' paged 8-bit AdamW.
  RunScenario axo = scenario_for_run(row({{"source", "Axolotl example README"}, {"finetune", "full"},
                                          {"optimizer", "adamw8bit"}, {"notes", "method: full finetune, paged_adamw_8bit"}}),
                                     catalog());
  REQUIRE(axo.scenario);
  CHECK(axo.scenario->training.paged_optimizer);
  CHECK(axo.scenario->training.fused_optimizer_step);
  CHECK_FALSE(axo.scenario->training.fp32_master_weights);
  // Pre-training sources get no recipe.
  RunScenario megatron = scenario_for_run(row({{"source", "NVIDIA/Megatron-LM README"}, {"finetune", ""}}), catalog());
  REQUIRE(megatron.scenario);
  CHECK(megatron.scenario->training.loss == LossKernel::fp32_logits);
  CHECK(megatron.scenario->training.fp32_master_weights);
  CHECK_FALSE(megatron.scenario->training.gradients_set_to_none);
  CHECK_FALSE(megatron.scenario->training.fused_optimizer_step);
}

TEST_CASE("every shipped row yields a scenario or a skip reason", "[published]") {
  std::map<std::string, std::vector<std::string>> skipped;  // reason -> row ids
  size_t built = 0, skips = 0;
  for (const auto& row : shipped()) {
    RunScenario rs = scenario_for_run(row, catalog());
    CHECK(rs.scenario.has_value() != !rs.skip_reason.empty());
    CHECK(rs.document.root.is_object());
    if (rs.scenario) ++built;
    else {
      ++skips;
      CHECK(rs.skip_reason.rfind("skipped: ", 0) == 0);
      skipped[rs.skip_reason].push_back(row.id);
    }
  }
  std::string summary = fmt::format("{} of {} rows built, {} skipped:", built, shipped().size(), skips);
  for (const auto& [reason, ids] : skipped) {
    summary += fmt::format("\n  {} x {} [", ids.size(), reason);
    for (size_t i = 0; i < ids.size(); ++i) summary += (i ? " " : "") + ids[i];
    summary += "]";
  }
  WARN(summary);
  CHECK(built + skips == shipped().size());
  CHECK(skips * 100 < shipped().size() * 15);
}

TEST_CASE("metrics the validate command compares", "[published]") {
  for (const char* m : {"step_time_s", "tflops_per_gpu", "hw_tflops_per_gpu", "mfu", "tokens_per_s",
                        "tokens_per_s_per_gpu", "peak_mem_gib", "peak_mem_gb", "fits", "oom"})
    CHECK(metric_supported(m));
  CHECK_FALSE(metric_supported("loss"));
  for (const auto& row : shipped()) CHECK(metric_supported(row.metric));
}
