#include "scenario/scenario.h"

#include <fmt/format.h>

#include <numeric>

#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

std::string default_scenario_path() {
  return catalog_dir(CatalogKind::scenarios) + "/llama3-70b-full-zero3-rtx-pro-6000.json";
}

std::vector<int> balanced_layer_split(int64_t layers, int stages) {
  std::vector<int> split(static_cast<size_t>(stages), static_cast<int>(layers / stages));
  int64_t remainder = layers % stages;
  std::vector<int> order;  // middle stages first, then the last, then the first
  for (int s = 1; s + 1 < stages; ++s) order.push_back(s);
  if (stages > 1) order.push_back(stages - 1);
  order.push_back(0);
  for (int64_t i = 0; i < remainder; ++i) ++split[static_cast<size_t>(order[static_cast<size_t>(i)])];
  return split;
}

namespace {

// Re-attributes diagnostics of a referenced file that has no file name (catalog misses) to the
// scenario line that named it.
void attribute(Diagnostics& into, const Diagnostics& from, const JsonDocument& doc, const std::string& path) {
  for (Diagnostic d : from.items()) {
    if (d.file.empty()) {
      d.file = doc.file;
      d.line = doc.line_of(path);
      d.path = path;
    }
    into.add(d);
  }
}

void read_model_reference(FieldReader& r, const std::string& base_dir, Scenario& s, Diagnostics& diags) {
  const JsonDocument& doc = r.document();
  r.require("model");
  const Json* m = r.member("model");
  if (!m) return;
  if (m->is_string()) {
    auto model = load_model(m->get<std::string>(), base_dir);
    if (model.ok()) s.model = model.value();
    else attribute(diags, model.errors(), doc, "model");
    return;
  }
  if (!m->is_object()) {
    r.error("model", "expected a model id, a path, or an object, got " + describe_json(*m),
            "e.g. \"model\": \"llama3-70b\" or {\"hf_config\": \"config.json\"}");
    return;
  }
  FieldReader mr(doc, *m, "model", diags);
  if (mr.has("hf_config") || mr.has("path")) {
    std::string key = mr.has("hf_config") ? "hf_config" : "path";
    std::string ref = mr.required_string(key);
    mr.finish();
    auto model = load_model(ref.find('/') == std::string::npos && ref.find(".json") == std::string::npos
                                ? "./" + ref
                                : ref,
                            base_dir);
    if (model.ok()) s.model = model.value();
    else attribute(diags, model.errors(), doc, "model." + key);
    return;
  }
  read_model_fields(mr, s.model);
  mr.finish();
  s.model.file = doc.file;
}

void check_precision(const Scenario& s, const JsonDocument& doc, Diagnostics& diags) {
  Precision p = s.training.precision;
  if (s.gpu.peak_flops(p)) return;
  std::string why = p == Precision::fp4   ? "FP4 tensor cores exist only on Blackwell GPUs"
                    : p == Precision::fp8 ? "FP8 tensor cores exist only on Hopper, Ada and newer"
                                          : "the catalog has no rate for it";
  diags.add({doc.file, doc.line_of("training.precision"), "training.precision",
             fmt::format("{} does not support {} matmuls ({})", s.gpu.id, to_string(p), why),
             p == Precision::bf16 ? "use \"fp16\" (pre-Ampere cards have no bf16), or pick a newer card"
                                  : "use \"bf16\", or pick a card that supports it (see `stepsim catalog gpus`)"});
}

// A card without NVLink cannot sit in a topology whose GPUs are wired with NVLink.
void check_card_fits_topology(const Scenario& s, const JsonDocument& doc, Diagnostics& diags) {
  if (s.gpu.nvlink) return;
  for (const Link& l : s.topology.links) {
    auto type = s.topology.link_types.find(l.type);
    if (type == s.topology.link_types.end() || type->second.kind != "nvlink") continue;
    diags.add({doc.file, doc.line_of("cluster.gpu"), "cluster.gpu",
               fmt::format("{} has no NVLink, but topology \"{}\" connects its GPUs with NVLink ({} - {})", s.gpu.id,
                           s.topology.id, l.a, l.b),
               "use a PCIe topology for this card (see `stepsim catalog topologies`)"});
    return;
  }
}

void check_parallelism(Scenario& s, const JsonDocument& doc, Diagnostics& diags) {
  TrainingConfig& t = s.training;
  auto err = [&](const std::string& path, const std::string& msg, const std::string& fix) {
    diags.add({doc.file, doc.line_of("training." + path), "training." + path, msg, fix});
  };
  const ModelSpec& m = s.model;
  if (m.heads % t.tp != 0)
    err("tp", fmt::format("the model's {} attention heads are not divisible by tp = {}", m.heads, t.tp),
        "tensor parallelism splits heads evenly; use a tp that divides " + std::to_string(m.heads));
  if (m.kv_heads % t.tp != 0)
    err("tp", fmt::format("the model's {} KV heads are not divisible by tp = {}", m.kv_heads, t.tp),
        "use a tp that divides " + std::to_string(m.kv_heads));
  if (m.ffn_hidden % t.tp != 0)
    err("tp", fmt::format("ffn_hidden = {} is not divisible by tp = {}", m.ffn_hidden, t.tp),
        "use a tp that divides the MLP width");
  const int gpus = s.total_gpus();
  const int64_t model_parallel = int64_t{t.tp} * t.pp * t.cp;
  if (!t.dp) {
    if (gpus % model_parallel != 0) {
      err("tp", fmt::format("tp·pp·cp = {}·{}·{} = {} does not divide the {} GPUs of the cluster", t.tp, t.pp,
                            t.cp, model_parallel, gpus),
          "choose degrees whose product divides the GPU count, or change cluster.nodes");
      return;
    }
    t.dp = static_cast<int>(gpus / model_parallel);
  } else if (model_parallel * *t.dp != gpus) {
    err("dp", fmt::format("tp·pp·dp·cp = {}·{}·{}·{} = {} but the cluster has {} GPUs ({} node{} × {})", t.tp,
                          t.pp, *t.dp, t.cp, model_parallel * *t.dp, gpus, s.nodes, s.nodes == 1 ? "" : "s",
                          s.gpus_per_node()),
        gpus % model_parallel == 0 ? fmt::format("set \"dp\": {} (or remove it to derive it)", gpus / model_parallel)
                                   : "make the product of the degrees equal the GPU count");
    return;
  }
  const int64_t stages = int64_t{t.pp} * t.vp;
  if (stages > m.layers)
    err("pp", fmt::format("pp·vp = {} pipeline stages but the model has only {} layers", stages, m.layers),
        "use at most " + std::to_string(m.layers) + " stages (uneven splits are fine)");
  if (!t.layers_per_stage.empty()) {
    int64_t sum = std::accumulate(t.layers_per_stage.begin(), t.layers_per_stage.end(), int64_t{0});
    if (static_cast<int64_t>(t.layers_per_stage.size()) != stages || sum != m.layers)
      err("layers_per_stage",
          fmt::format("{} entries summing to {} layers; expected pp·vp = {} entries summing to {}",
                      t.layers_per_stage.size(), sum, stages, m.layers),
          "list one layer count per (virtual) stage, or remove it for a balanced split");
  } else if (stages <= m.layers) {
    t.layers_per_stage = balanced_layer_split(m.layers, static_cast<int>(stages));
  }
  const int64_t per_step = t.micro_batch * *t.dp;
  if (t.global_batch % per_step != 0)
    err("global_batch",
        fmt::format("global_batch = {} is not a multiple of micro_batch·dp = {}·{} = {}", t.global_batch,
                    t.micro_batch, *t.dp, per_step),
        fmt::format("use a global batch that is a multiple of {} (e.g. {})", per_step,
                    (t.global_batch / per_step + 1) * per_step));
  if (t.recompute == Recompute::selective_op && m.moe)
    err("recompute", "\"selective-op\" (torchtitan's per-op policy) is modelled for dense models only",
        "use \"selective\" or \"full\" for a mixture-of-experts model");
  if (t.optimizer_in_backward && (t.global_batch != per_step || t.pp > 1))
    err("optimizer_in_backward",
        fmt::format("the optimizer step in backward needs one micro-batch per step and no pipeline; "
                    "global_batch = {}, micro_batch·dp = {}, pp = {}", t.global_batch, per_step, t.pp),
        fmt::format("set global_batch = {} and pp = 1, or remove optimizer_in_backward", per_step));
  if (t.schedule == PipelineSchedule::interleaved && t.global_batch % per_step == 0 &&
      (t.global_batch / per_step) % t.pp != 0)
    err("global_batch",
        fmt::format("the interleaved schedule needs the {} micro-batches per step to be a multiple of pp = {}",
                    t.global_batch / per_step, t.pp),
        fmt::format("use a global batch that is a multiple of micro_batch·dp·pp = {}", per_step * t.pp));
  if (t.cp > 1 && t.seq_len % (2 * t.cp) != 0)
    err("cp", fmt::format("seq_len = {} is not divisible by 2·cp = {}", t.seq_len, 2 * t.cp),
        "context parallelism splits the sequence into 2·cp balanced chunks");
  if (t.ep > 1) {
    if (!m.moe)
      err("ep", "expert parallelism needs a mixture-of-experts model", "set \"ep\": 1");
    else if (m.moe->experts % t.ep != 0)
      err("ep", fmt::format("{} experts are not divisible by ep = {}", m.moe->experts, t.ep),
          "use an ep that divides the expert count");
    else if ((int64_t{*t.dp} * t.cp) % t.ep != 0)
      err("ep", fmt::format("ep = {} does not divide dp·cp = {}", t.ep, int64_t{*t.dp} * t.cp),
          "experts are spread over data-parallel ranks; ep must divide dp·cp");
  }
  if (t.sharding == Sharding::hsdp) {
    if (t.hsdp_shard_size == 0)
      t.hsdp_shard_size = std::min(*t.dp, std::max(1, s.gpus_per_node() / (t.tp * t.cp)));
    if (*t.dp % t.hsdp_shard_size != 0)
      err("hsdp_shard_size", fmt::format("dp = {} is not a multiple of hsdp_shard_size = {}", *t.dp, t.hsdp_shard_size),
          "the replica groups must tile the data-parallel ranks");
  }
  if (m.position == PositionEmbedding::learned && m.max_seq_len > 0 && t.seq_len > m.max_seq_len)
    err("seq_len", fmt::format("seq_len = {} exceeds the model's {} learned positions", t.seq_len, m.max_seq_len),
        "use a shorter sequence or a model with a larger position table");
  if (s.nodes > 1 && !s.topology.fabric)
    diags.add({doc.file, doc.line_of("cluster.nodes"), "cluster.nodes",
               fmt::format("{} nodes requested but topology \"{}\" has no inter-node fabric", s.nodes, s.topology.id),
               "use 1 node, or a topology with a \"fabric\""});
}

// The cost and energy inputs; the power figures also go into the scenario's copy of the card.
void resolve_scenario_cost(const CostOverrides& o, const JsonDocument& doc, Scenario& s, Diagnostics& diags) {
  auto defaults = load_cost_defaults();
  if (!defaults.ok()) {
    diags.append(defaults.errors());
    return;
  }
  s.cost = resolve_cost(o, defaults.value(), s.gpu, s.gpus_per_node(), doc, diags);
  s.gpu.tdp_w = s.cost.gpu_load_w;
  s.gpu.idle_w = s.cost.gpu_idle_w;
}

// Errors about values that came from --set say so: they have no line in the file.
Diagnostics mark_overrides(const Diagnostics& diags, const std::vector<Override>& overrides) {
  Diagnostics out;
  for (Diagnostic d : diags.items()) {
    for (const auto& o : overrides)
      if (d.path == o.path || d.path.rfind(o.path + ".", 0) == 0) {
        d.message += " (value from --set " + o.path + "=" + o.value + ")";
        d.line = 0;
      }
    out.add(d);
  }
  return out;
}

}  // namespace

Result<Scenario> parse_scenario(JsonDocument doc, const std::vector<Override>& overrides) {
  Diagnostics diags = apply_overrides(doc, overrides);
  if (!diags.ok()) return diags;
  Scenario s;
  s.file = doc.file;
  const std::string base_dir = parent_dir(doc.file);
  FieldReader r(doc, doc.root, "", diags);
  s.name = r.string_or("name", "");
  s.description = r.string_or("description", "");

  r.require("cluster");
  std::string topology_ref, gpu_ref;
  std::optional<double> memory_gib;
  if (const Json* c = r.object_member("cluster")) {
    FieldReader cr(doc, *c, "cluster", diags);
    topology_ref = cr.required_string("topology");
    s.nodes = static_cast<int>(cr.integer_or("nodes", 0, 1, 1 << 20));
    gpu_ref = cr.string_or("gpu", "");
    memory_gib = cr.optional_number("gpu_memory_gib", 0.5, 1e5);
    cr.finish();
  }
  read_model_reference(r, base_dir, s, diags);
  r.require("training");
  if (const Json* t = r.object_member("training")) {
    FieldReader tr(doc, *t, "training", diags);
    read_training(tr, s.training);
    tr.finish();
  }
  if (const Json* sim = r.object_member("simulation")) {
    FieldReader sr(doc, *sim, "simulation", diags);
    s.simulation.collective_algorithm =
        sr.choice("collective_algorithm", "auto", {"auto", "ring", "tree", "hier", "nvls", "direct"});
    s.simulation.collective_protocol = sr.choice("collective_protocol", "auto", {"auto", "simple", "ll128", "ll"});
    s.simulation.fidelity = sr.choice("fidelity", "macro", {"macro", "step", "analytic"});
    s.simulation.fold_replicas = sr.boolean_or("fold_replicas", false);
    sr.finish();
  }
  CostOverrides cost_overrides;
  if (const Json* c = r.object_member("cost")) {
    FieldReader cr(doc, *c, "cost", diags);
    cost_overrides = read_cost_overrides(cr);
    cr.finish();
  }
  if (const Json* out = r.object_member("outputs")) {
    FieldReader orr(doc, *out, "outputs", diags);
    s.outputs.report_json = orr.string_or("report_json", "");
    orr.finish();
  }
  r.finish();

  if (!topology_ref.empty()) {
    auto topo = load_topology(topology_ref, base_dir);
    if (topo.ok()) {
      s.topology = topo.value();
      if (s.nodes == 0) s.nodes = s.topology.nodes;
      if (gpu_ref.empty()) gpu_ref = s.topology.gpu;
    } else {
      attribute(diags, topo.errors(), doc, "cluster.topology");
    }
  }
  if (!gpu_ref.empty()) {
    auto gpu = load_gpu(gpu_ref, base_dir);
    if (gpu.ok()) s.gpu = gpu.value();
    else attribute(diags, gpu.errors(), doc, "cluster.gpu");
  }
  // A what-if capacity (or a VRAM budget): the card keeps its speeds, only its memory changes.
  // The card's measured CUDA-visible total belongs to its real memory, not to the new figure.
  if (memory_gib) {
    s.gpu.memory_bytes = *memory_gib * 1024.0 * 1024.0 * 1024.0;
    s.gpu.cuda_total_bytes = 0;
  }
  if (!diags.ok()) return mark_overrides(diags, overrides);
  resolve_scenario_cost(cost_overrides, doc, s, diags);
  check_precision(s, doc, diags);
  check_card_fits_topology(s, doc, diags);
  check_parallelism(s, doc, diags);
  if (!diags.ok()) return mark_overrides(diags, overrides);
  return s;
}

Result<Scenario> load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  auto doc = load_json_file(path);
  if (!doc.ok()) return doc.errors();
  return parse_scenario(std::move(doc.value()), overrides);
}

}  // namespace stepsim
