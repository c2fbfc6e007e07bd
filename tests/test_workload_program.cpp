// The lowered per-rank programs: FLOPs add up to the closed forms, the collectives that each
// parallelism adds are there, the memory timeline peaks where the literature says, and the
// computed OOM fixes really fit when applied.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "scenario/data_dirs.h"
#include "scenario/scenario.h"
#include "workload/memory_verdict.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/parallel_layout.h"
#include "workload/program_builder.h"
#include "scenario_inputs.h"

using namespace stepsim;
using stepsim::test_inputs::shipped_overheads;

namespace {

Scenario scenario(const std::string& model, const std::string& cluster, const std::string& training,
                  std::vector<Override> overrides = {}) {
  std::string text = "{\"cluster\": {" + cluster + "}, \"model\": \"" + model + "\", \"training\": {" + training + "}}";
  return test_inputs::scenario_from_text(text, overrides);
}

Scenario shipped(const std::string& name, std::vector<Override> overrides = {}) {
  auto s = load_scenario(catalog_dir(CatalogKind::scenarios) + "/" + name + ".json", overrides);
  if (!s.ok()) FAIL(s.errors().to_string());
  return s.value();
}

// Model FLOPs of the whole step from the programs: every stage's ops times the ranks that run it.
double program_model_flops(const Scenario& s) {
  Workload w = build_workload(s, shipped_overheads());
  double per_replica = 0;
  for (const RankProgram& p : w.stages)
    for (const Op& op : p.ops) per_replica += op.model_flops;
  return per_replica * s.training.tp * s.training.cp * s.dp();
}

std::map<std::string, int> count_kinds(const RankProgram& p, Phase phase) {
  std::map<std::string, int> counts;
  for (const Op& op : p.ops)
    if (op.phase == phase) ++counts[to_string(op.kind) + "/" + to_string(op.group)];
  return counts;
}

}  // namespace

TEST_CASE("op FLOPs add up to the model-FLOPs formulas", "[program]") {
  const std::vector<Scenario> cases = {
      shipped("gpt3-175b-megatron-dgx-a100"),                  // TP8 PP8, full recompute
      shipped("llama3-70b-full-zero3-h100-pcie"),              // ZeRO-3, 8 micro-batches per rank
      shipped("llama3-70b-lora-rtx-pro-6000"),                 // frozen base, adapters
      shipped("gpt-8gpu-h100-pcie"),                           // TP2 SP, micro-batch 2
      scenario("mixtral-8x7b", "\"topology\": \"dgx-h100\"",
               "\"seq_len\": 4096, \"global_batch\": 16, \"tp\": 2, \"ep\": 4, \"sharding\": \"zero1\""),
      scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
               "\"seq_len\": 8192, \"global_batch\": 16, \"cp\": 2, \"pp\": 2, \"vp\": 2, \"micro_batch\": 1"),
  };
  for (const Scenario& s : cases) {
    INFO(s.name << " " << s.model.id);
    const double closed_form = flops_per_token(s.model, s.training).model() * static_cast<double>(s.tokens_per_step());
    CHECK(program_model_flops(s) == Approx(closed_form).epsilon(0.01));
  }
  // GPT-3 175B against Narayanan et al.'s formula directly: 72·B·s·l·h²·(1 + s/6h + V/12lh).
  const Scenario gpt3 = cases[0];
  const double B = 64, s = 2048, l = 96, h = 12288, V = 50257;
  CHECK(program_model_flops(gpt3) == Approx(72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h))).epsilon(0.01));
}

TEST_CASE("recompute adds executed FLOPs but no model FLOPs", "[program]") {
  const Scenario full = shipped("gpt3-175b-megatron-dgx-a100");
  const Scenario none = shipped("gpt3-175b-megatron-dgx-a100", {{"training.recompute", "none"}});
  CHECK(program_model_flops(full) == Approx(program_model_flops(none)));
  double executed_full = 0, executed_none = 0;
  for (const RankProgram& p : build_workload(full, shipped_overheads()).stages)
    for (const Op& op : p.ops) executed_full += op.flops;
  for (const RankProgram& p : build_workload(none, shipped_overheads()).stages)
    for (const Op& op : p.ops) executed_none += op.flops;
  CHECK(executed_full > executed_none * 1.25);  // one more forward of every layer (~4/3)
  CHECK(executed_full < executed_none * 1.34);
}

TEST_CASE("each parallelism adds its collectives", "[program]") {
  // Megatron TP without SP: two all-reduces per layer forward; with SP: two all-gathers and two reduce-scatters.
  Scenario tp = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", "\"seq_len\": 2048, \"global_batch\": 2, \"tp\": 8");
  auto forward = count_kinds(build_workload(tp, shipped_overheads()).stages[0], Phase::forward);
  CHECK(forward["all_reduce/tp"] == 32 * 2 * 2 + 2 * 2);  // 2 micro-batches × (2 per layer + embedding + loss)
  Scenario sp = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                         "\"seq_len\": 2048, \"global_batch\": 2, \"tp\": 8, \"sp\": true");
  auto sp_forward = count_kinds(build_workload(sp, shipped_overheads()).stages[0], Phase::forward);
  CHECK(sp_forward["all_gather/tp"] == 2 * (32 * 2 + 1));
  CHECK(sp_forward["reduce_scatter/tp"] == 2 * 32 * 2);
  // ZeRO-3: one parameter all-gather per layer per micro-batch in forward and in backward, one reduce-scatter.
  Scenario z3 = shipped("llama3-70b-full-zero3-h100-pcie");
  const Workload z3_workload = build_workload(z3, shipped_overheads());
  const RankProgram& p = z3_workload.stages[0];
  auto fw = count_kinds(p, Phase::forward);
  auto bw = count_kinds(p, Phase::backward);
  // DeepSpeed fetches the embedding and the output layer on each use: + 2 per micro-batch each way;
  // their gradients are reduce-scattered once at the end.
  CHECK(fw["all_gather/dp_shard"] == 80 * 8 + 2 * 8);
  CHECK(bw["all_gather/dp_shard"] == 80 * 8 + 2 * 8);
  CHECK(bw["reduce_scatter/dp_shard"] == 80 * 8 + 1);
  // DDP: gradients all-reduced once, during the last micro-batch's backward, in buckets of at
  // least 25 MB that never split a layer (a Llama-3-8B layer holds 436 MB of bf16 gradients):
  // one per layer plus the embedding and output layer at the end.
  Scenario ddp = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", "\"seq_len\": 2048, \"global_batch\": 32");
  auto ddp_bw = count_kinds(build_workload(ddp, shipped_overheads()).stages[0], Phase::backward);
  CHECK(ddp_bw["all_reduce/dp_shard"] == 32 + 1);
  Scenario small_buckets = scenario("gpt2", "\"topology\": \"dgx-h100\"", "\"seq_len\": 1024, \"global_batch\": 8");
  auto gpt2_bw = count_kinds(build_workload(small_buckets, shipped_overheads()).stages[0], Phase::backward);
  // GPT-2 small: 12 layers of 14.2 MB; 25 MB buckets take two layers each (6), then the tied
  // embedding (77 MB) goes alone at the end.
  CHECK(gpt2_bw["all_reduce/dp_shard"] == 7);
  // PP: a send and a receive per micro-batch and direction on middle stages.
  Scenario pp = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", "\"seq_len\": 2048, \"global_batch\": 8, \"pp\": 4");
  const Workload pp_workload = build_workload(pp, shipped_overheads());
  const RankProgram& middle = pp_workload.stages[1];
  auto mf = count_kinds(middle, Phase::forward);
  CHECK(mf["send/pp_next"] == 4);
  CHECK(mf["recv/pp_prev"] == 4);
}

TEST_CASE("pipeline stage 0 keeps min(p, m) micro-batches of activations under 1F1B", "[program][memory]") {
  Scenario pp = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                         "\"seq_len\": 2048, \"global_batch\": 16, \"pp\": 4, \"recompute\": \"full\"");
  auto v = evaluate_memory(pp, false);
  REQUIRE(v.ok());
  const double checkpoints_first = v.value().stages[0].max_by_category[static_cast<size_t>(MemCategory::activations)];
  const double checkpoints_last = v.value().stages[3].max_by_category[static_cast<size_t>(MemCategory::activations)];
  // 8 layers per stage, checkpoint 2·s·h bytes per layer: stage 0 holds 4 micro-batches, the last stage 1.
  const double per_micro_batch = 8 * 2.0 * 2048 * 4096;
  CHECK(checkpoints_first == Approx(4 * per_micro_batch + 2048 * 8).epsilon(0.05));
  CHECK(checkpoints_last == Approx(per_micro_batch).epsilon(0.05));
}

TEST_CASE("with checkpointing the peak comes in backward", "[program][memory]") {
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                        "\"seq_len\": 8192, \"global_batch\": 8, \"recompute\": \"full\", \"sharding\": \"fsdp\"");
  auto v = evaluate_memory(s, false);
  REQUIRE(v.ok());
  INFO(to_string(v.value().worst.peak_at.phase) << " " << to_string(v.value().worst.peak_at.kind));
  CHECK(v.value().worst.peak_at.phase != Phase::forward);
  CHECK(v.value().worst.peak_at.phase != Phase::optimizer);
}

TEST_CASE("seed question: 70B full fine-tune is out of memory on both cards, LoRA and QLoRA fit", "[program][memory][seed]") {
  for (const char* name : {"llama3-70b-full-zero3-h100-pcie", "llama3-70b-full-zero3-rtx-pro-6000"}) {
    INFO(name);
    auto v = evaluate_memory(shipped(name), true);
    REQUIRE(v.ok());
    CHECK(v.value().oom);
    // fp32 AdamW states alone, ZeRO-3 over 8 GPUs: 12 B × 70.55 B / 8 = 98.6 GiB (memory.md §1.2).
    CHECK(v.value().worst.at_peak[static_cast<size_t>(MemCategory::optimizer)] / (1 << 30) == Approx(98.6).epsilon(0.01));
    CHECK(v.value().shortfall_bytes > 0);
    CHECK_FALSE(v.value().fixes.empty());
  }
  for (const char* name : {"llama3-70b-lora-h100-pcie", "llama3-70b-lora-rtx-pro-6000", "llama3-70b-qlora-h100-pcie",
                           "llama3-70b-qlora-rtx-pro-6000"}) {
    INFO(name);
    auto v = evaluate_memory(shipped(name), true);
    REQUIRE(v.ok());
    CHECK_FALSE(v.value().oom);
    CHECK(v.value().headroom_bytes > 0);
  }
}

namespace {
// Every fix of `s`, applied as --set overrides to the scenario `load` reads, parses and fits.
template <typename Load>
void check_fixes_fit(const Scenario& s, Load load, size_t at_least, const std::string& expected_first = "") {
  auto v = evaluate_memory(s, true);
  REQUIRE(v.ok());
  REQUIRE(v.value().oom);
  REQUIRE(v.value().fixes.size() >= at_least);
  if (!expected_first.empty()) CHECK(v.value().fixes.front().overrides.front() == expected_first);
  for (const MemoryFix& fix : v.value().fixes) {
    INFO(fix.description);
    std::vector<Override> overrides;
    for (const std::string& text : fix.overrides) {
      auto o = parse_override(text);
      REQUIRE(o.ok());
      overrides.push_back(o.value());
    }
    auto applied = load(overrides);
    if (!applied.ok()) FAIL(applied.errors().to_string());
    auto after = evaluate_memory(applied.value(), false);
    REQUIRE(after.ok());
    CHECK_FALSE(after.value().oom);
    CHECK(after.value().worst.peak_device_bytes == Approx(fix.peak_device_bytes));
  }
}
}  // namespace

TEST_CASE("the OOM fixes really fit when applied as --set overrides", "[program][memory]") {
  const std::string file = catalog_dir(CatalogKind::scenarios) + "/llama3-70b-full-zero3-h100-pcie.json";
  check_fixes_fit(shipped("llama3-70b-full-zero3-h100-pcie"),
                  [&](const std::vector<Override>& o) { return load_scenario(file, o); }, 2);
  // LitGPT-style LoRA on 2 × A100 40GB (FSDP, use_orig_params, no_sync): the cheapest fix is to
  // keep the frozen weights' gradients away; the QLoRA fix must turn them off too (NF4 takes none).
  const std::string text =
      "{\"cluster\": {\"topology\": \"a100-sxm-2gpu\", \"gpu\": \"a100-sxm4-40gb\"}, \"model\": \"llama2-13b\", "
      "\"training\": {\"loss\": \"chunked\", \"lora_dropout\": 0.05, "
      "\"seq_len\": 1304, \"global_batch\": 128, \"finetune\": \"lora\", \"lora_rank\": 8, \"lora_targets\": \"qv\", "
      "\"master_weights\": \"none\", \"sharding\": \"fsdp\", \"recompute\": \"full\", \"zero_grad\": \"set_to_none\", "
      "\"fsdp_frozen_gradients\": true, \"fsdp_gradient_sync\": \"last_micro_batch\"}}";
  auto doc = parse_json_text(text, "litgpt.json");
  REQUIRE(doc.ok());
  check_fixes_fit(test_inputs::scenario_from_text(text),
                  [&](const std::vector<Override>& o) { return parse_scenario(doc.value(), o); }, 3,
                  "training.fsdp_frozen_gradients=false");
}

TEST_CASE("the first step peaks lower: optimizer states appear at the first optimizer step", "[program][memory]") {
  // memory.md §4.1: Llama3-8B, FSDP2 on 8 GPUs, no AC: step 1 69.46 GiB, later steps 77.29 GiB,
  // the difference ≈ the sharded Adam m and v. Here: whatever the peak, the two differ by at most
  // the optimizer states, and the first step is never higher.
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", "\"seq_len\": 8192, \"global_batch\": 8, \"sharding\": \"fsdp\"");
  auto v = evaluate_memory(s, false);
  REQUIRE(v.ok());
  const RankMemory& m = v.value().worst;
  const double states = m.max_by_category[static_cast<size_t>(MemCategory::optimizer)];
  CHECK(m.first_step_peak_device_bytes <= m.peak_device_bytes);
  CHECK(m.peak_device_bytes - m.first_step_peak_device_bytes <= states * 1.0801 + 1);
  CHECK(m.peak_device_bytes - m.first_step_peak_device_bytes > 0);
}

TEST_CASE("a fit that leaves no room for the allocator's spare cache is flagged tight", "[program][memory]") {
  // The verdict counts allocated tensors + context + NCCL; the caching allocator usually holds
  // 8 % more (memory-overheads.json). Capacities placed by hand around those two figures.
  constexpr double GiB = 1024.0 * 1024 * 1024, MiB = 1024.0 * 1024;
  const std::string training = "\"seq_len\": 8192, \"global_batch\": 8, \"sharding\": \"fsdp\"";
  auto roomy = evaluate_memory(scenario("llama3-8b", "\"topology\": \"dgx-h100\", \"gpu_memory_gib\": 1000", training), false);
  REQUIRE(roomy.ok());
  const double required = roomy.value().worst.required_bytes, spare = roomy.value().spare_cache_bytes();
  CHECK(spare == Approx(0.08 * roomy.value().worst.peak_tensor_bytes));
  CHECK_FALSE(roomy.value().tight);
  auto with_usable = [&](double usable) {
    const std::string gib = fmt::format("{:.6f}", (usable + 361 * MiB) / GiB);
    auto v = evaluate_memory(scenario("llama3-8b", "\"topology\": \"dgx-h100\", \"gpu_memory_gib\": " + gib, training), false);
    REQUIRE(v.ok());
    return v.value();
  };
  const MemoryVerdict between = with_usable(required + spare / 2);
  CHECK_FALSE(between.oom);
  CHECK(between.tight);
  CHECK(between.headroom_bytes == Approx(spare / 2).epsilon(1e-4));
  CHECK_FALSE(with_usable(required + 1.5 * spare).tight);
  const MemoryVerdict short_of = with_usable(required - GiB);
  CHECK(short_of.oom);
  CHECK_FALSE(short_of.tight);
}

TEST_CASE("rank orders: Megatron's tp-cp-dp-pp and the Llama 3 tp-cp-pp-dp", "[program]") {
  for (const char* order : {"tp-cp-dp-pp", "tp-cp-pp-dp"}) {
    INFO(order);
    Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\", \"nodes\": 4",
                          std::string("\"seq_len\": 2048, \"global_batch\": 16, \"tp\": 2, \"pp\": 4, \"rank_order\": \"") +
                              order + "\"");
    ParallelLayout layout(s);
    for (int r = 0; r < layout.world_size(); ++r) CHECK(layout.rank_of(layout.coordinates(r)) == r);
    // TP peers are neighbours in both orders.
    CHECK(layout.group_members(Group::tp, 0) == std::vector<int>{0, 1});
    const std::vector<int> dp = layout.group_members(Group::dp, 0);
    const std::vector<int> next = layout.group_members(Group::pp_next, 0);
    if (std::string(order) == "tp-cp-dp-pp") {
      CHECK(dp == std::vector<int>{0, 2, 4, 6});  // replicas interleave, pipeline stages are 8 ranks apart
      CHECK(next == std::vector<int>{8});
    } else {
      CHECK(dp == std::vector<int>{0, 8, 16, 24});  // a replica fills 8 consecutive ranks
      CHECK(next == std::vector<int>{2});
    }
  }
}

namespace {
// Bytes of one category along the program: after each op, in program order.
std::vector<double> category_after_each_op(const RankProgram& p, MemCategory c) {
  std::vector<double> out;
  double now = 0;
  for (const Op& op : p.ops) {
    for (const MemoryEffect& e : op.at_start) now += e.category == c ? e.bytes : 0;
    for (const MemoryEffect& e : op.at_end) now += e.category == c ? e.bytes : 0;
    out.push_back(now);
  }
  return out;
}
}  // namespace

TEST_CASE("gradients set to none: they appear during backward and go after the optimizer step", "[program][memory]") {
  const std::string training = "\"seq_len\": 2048, \"global_batch\": 16, \"micro_batch\": 1, \"zero_grad\": \"set_to_none\"";
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", training);
  const RankProgram p = build_workload(s, shipped_overheads()).stages[0];
  const std::vector<double> grads = category_after_each_op(p, MemCategory::gradients);
  size_t first_backward = 0, optimizer = 0;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (!first_backward && p.ops[i].phase == Phase::backward) first_backward = i;
    if (p.ops[i].kind == OpKind::optimizer_step) optimizer = i;
  }
  REQUIRE(first_backward > 0);
  CHECK(grads[first_backward - 1] == 0);
  // Two micro-batches per rank: the second backward adds nothing, the step sees all of them.
  const double all = model_state_bytes(s, 0).gradients;
  CHECK(grads[optimizer - 1] == Approx(all).epsilon(1e-12));
  CHECK(grads[optimizer] == Approx(0).margin(1));
  // Persistent buffers (the default) hold them from the start.
  Scenario kept = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", "\"seq_len\": 2048, \"global_batch\": 16");
  CHECK(category_after_each_op(build_workload(kept, shipped_overheads()).stages[0], MemCategory::gradients)[0] ==
        Approx(all).epsilon(1e-12));
}

TEST_CASE("FSDP gathers the root unit once and releases it after its gradients", "[program][memory]") {
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                        "\"seq_len\": 2048, \"global_batch\": 8, \"sharding\": \"fsdp\"");
  const RankProgram p = build_workload(s, shipped_overheads()).stages[0];
  // Llama-3-8B: untied embedding and head, 128256 × 4096 each, and the final norm: bf16.
  const double root = 2.0 * (2 * 128256.0 * 4096 + 4096);
  const Op* first_gather = nullptr;
  for (const Op& op : p.ops)
    if (op.kind == OpKind::all_gather) {
      first_gather = &op;
      break;
    }
  REQUIRE(first_gather);
  CHECK(first_gather->bytes == Approx(root).epsilon(1e-12));
  CHECK(first_gather->layer == -1);
  const std::vector<double> gathered = category_after_each_op(p, MemCategory::gathered_parameters);
  CHECK(gathered.back() == Approx(0).margin(1));
  CHECK(*std::max_element(gathered.begin(), gathered.end()) >= root);
  // ZeRO-3 holds the output layer only while it runs: the loss moment has the head gathered,
  // the embedding is not.
  Scenario z3 = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                         "\"seq_len\": 2048, \"global_batch\": 8, \"sharding\": \"zero3\"");
  const RankProgram q = build_workload(z3, shipped_overheads()).stages[0];
  const std::vector<double> z3_gathered = category_after_each_op(q, MemCategory::gathered_parameters);
  const double head = 2.0 * (128256.0 * 4096 + 4096);
  for (size_t i = 0; i < q.ops.size(); ++i)
    if (q.ops[i].kind == OpKind::lm_head && q.ops[i].phase == Phase::forward) {
      CHECK(z3_gathered[i] == Approx(0).margin(1));  // released when the output layer's forward ends
      double during = 0;
      for (size_t j = 0; j < i; ++j) during = z3_gathered[j];
      CHECK(during >= head);
    }
  CHECK(z3_gathered.back() == Approx(0).margin(1));
}

TEST_CASE("FSDP prefetches the last block while the loss runs backward", "[program][memory]") {
  // FSDP1's BACKWARD_PRE prefetch (and torchtitan's unresharded last block): when backward
  // starts, the root unit (embedding, head, final norm) and the last block are both gathered.
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                        "\"seq_len\": 2048, \"global_batch\": 8, \"sharding\": \"fsdp\"");
  const RankProgram p = build_workload(s, shipped_overheads()).stages[0];
  const std::vector<double> gathered = category_after_each_op(p, MemCategory::gathered_parameters);
  // Llama-3-8B: untied 128256 × 4096 embedding and head plus the final norm; a block has
  // 4·4096² (q, o) + 2·4096·1024 (k, v) + 3·4096·14336 (MLP) + 2·4096 (norms) = 218,112,000.
  const double root = 2.0 * (2 * 128256.0 * 4096 + 4096), block = 2.0 * 218112000;
  int loss_backwards = 0;
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].kind == OpKind::loss && p.ops[i].phase == Phase::backward) {
      ++loss_backwards;
      CHECK(gathered[i] == Approx(root + block).epsilon(1e-12));
    }
  CHECK(loss_backwards == 1);
}

TEST_CASE("FSDP with the embedding and output as units of their own gathers them around each use", "[program][memory]") {
  // torchtune's custom_sharded_layers: no root gather before the first forward; the embedding
  // and the output layer are gathered per micro-batch in forward and backward, as ZeRO-3 does.
  Scenario s = scenario("llama3-8b", "\"topology\": \"dgx-h100\"",
                        "\"seq_len\": 2048, \"global_batch\": 16, \"sharding\": \"fsdp\", "
                        "\"fsdp_units\": \"layers+embeddings\"");
  const RankProgram p = build_workload(s, shipped_overheads()).stages[0];
  auto fw = count_kinds(p, Phase::forward);
  auto bw = count_kinds(p, Phase::backward);
  CHECK(fw["all_gather/dp_shard"] == 32 * 2 + 2 * 2);  // 2 micro-batches per rank
  CHECK(bw["all_gather/dp_shard"] == 32 * 2 + 2 * 2);
  const std::vector<double> gathered = category_after_each_op(p, MemCategory::gathered_parameters);
  const double head = 2.0 * (128256.0 * 4096 + 4096), layer = 2.0 * 218112000;
  // Never the embedding and the head at once, nor one of them for the whole step.
  CHECK(*std::max_element(gathered.begin(), gathered.end()) < head + 2 * layer + 1);
  CHECK(gathered.back() == Approx(0).margin(1));
}


TEST_CASE("FSDP no_sync keeps each block's gradient unsharded until the last micro-batch", "[program][memory]") {
  // Llama 3 8B, rank-8 q/v adapters, 8 ranks, 4 micro-batches per rank; the frozen weights share
  // the blocks' FSDP units, so each block's unsharded gradient U covers all its parameters.
  const std::string lora = "\"seq_len\": 2048, \"global_batch\": 32, \"finetune\": \"lora\", \"lora_rank\": 8, "
                           "\"lora_targets\": \"qv\", \"sharding\": \"fsdp\", \"zero_grad\": \"set_to_none\", "
                           "\"fsdp_frozen_gradients\": true";
  const double unsharded = 2 * (218112000.0 + 106496.0);
  Scenario every = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", lora);
  Scenario no_sync = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", lora + ", \"fsdp_gradient_sync\": \"last_micro_batch\"");
  const RankProgram e = build_workload(every, shipped_overheads()).stages[0];
  const RankProgram n = build_workload(no_sync, shipped_overheads()).stages[0];
  // One reduce-scatter per block per micro-batch, or per block per step (+ the root unit's).
  CHECK(count_kinds(e, Phase::backward)["reduce_scatter/dp_shard"] == 32 * 4 + 1);
  CHECK(count_kinds(n, Phase::backward)["reduce_scatter/dp_shard"] == 32 + 1);
  // From the second micro-batch on, all 32 accumulators are held, plus the fresh gradient of the
  // block whose backward runs.
  const std::vector<double> held = category_after_each_op(n, MemCategory::gradient_buffers);
  size_t first_backward = 0, first_reduce = 0, optimizer = 0;
  for (size_t i = 0; i < n.ops.size(); ++i) {
    if (!first_backward && n.ops[i].phase == Phase::backward) first_backward = i;
    if (!first_reduce && n.ops[i].kind == OpKind::reduce_scatter) first_reduce = i;
    if (n.ops[i].kind == OpKind::optimizer_step) optimizer = i;
  }
  double peak = 0;
  for (size_t i = 0; i < n.ops.size(); ++i)
    for (const MemoryEffect& m : n.ops[i].at_start)
      if (m.category == MemCategory::gradient_buffers) peak = std::max(peak, held[i - 1] + m.bytes);
  CHECK(peak == Approx(33 * unsharded).epsilon(1e-12));
  CHECK(held.back() == Approx(0).margin(1));
  const std::vector<double> sent = category_after_each_op(e, MemCategory::gradient_buffers);
  CHECK(*std::max_element(sent.begin(), sent.end()) < 3 * unsharded);
  // The sharded gradients (set to none) appear with the last micro-batch's reduce-scatters.
  const std::vector<double> sharded = category_after_each_op(n, MemCategory::gradients);
  CHECK(sharded[first_reduce - 1] == 0);
  CHECK(first_reduce > first_backward);
  CHECK(sharded[optimizer - 1] == Approx(model_state_bytes(no_sync, 0).gradients).epsilon(1e-12));
}

TEST_CASE("frozen weights that take gradients cost weight-gradient GEMMs but no model FLOPs", "[program]") {
  // Per block and micro-batch the frozen matrices' weight gradients add 2·tokens·(their weights):
  // Llama 3 8B blocks hold 4096·(4096+1024+1024+4096) + 3·4096·14336 = 218,103,808 matrix weights.
  const std::string lora = "\"seq_len\": 2048, \"global_batch\": 32, \"finetune\": \"lora\", \"lora_rank\": 8, "
                           "\"lora_targets\": \"qv\", \"sharding\": \"fsdp\"";
  auto flops = [](const Scenario& s, bool model) {
    double sum = 0;
    const Workload w = build_workload(s, shipped_overheads());
    for (const Op& op : w.stages[0].ops) sum += model ? op.model_flops : op.flops;
    return sum;
  };
  Scenario frozen = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", lora);
  Scenario mixed = scenario("llama3-8b", "\"topology\": \"dgx-h100\"", lora + ", \"fsdp_frozen_gradients\": true");
  CHECK(flops(mixed, false) - flops(frozen, false) == Approx(4 * 32 * 2 * 2048 * 218103808.0).epsilon(1e-9));
  CHECK(flops(mixed, true) == Approx(flops(frozen, true)).epsilon(1e-12));
}
