#include "scenario/published_runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "scenario/data_dirs.h"
#include "scenario/framework_recipes.h"

namespace stepsim {

const std::string& PublishedRun::cell(const std::string& column) const {
  static const std::string empty;
  auto it = cells.find(column);
  return it == cells.end() ? empty : it->second;
}

bool metric_supported(const std::string& metric) {
  static const std::set<std::string> known = {"step_time_s", "tflops_per_gpu", "hw_tflops_per_gpu", "mfu",
                                              "tokens_per_s", "tokens_per_s_per_gpu", "peak_mem_gib",
                                              "peak_mem_gb", "fits", "oom"};
  return known.count(metric) > 0;
}

namespace {

// RFC 4180 splitting: records of fields, each record with the line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

Diagnostics located(const std::string& file, int line, const std::string& column, const std::string& message,
                    const std::string& fix = "") {
  Diagnostics d;
  d.add({file, line, column, message, fix});
  return d;
}

bool line_end_at(const std::string& t, size_t i) {
  return t[i] == '\n' || (t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n');
}

Result<std::vector<CsvRecord>> split_csv(const std::string& text, const std::string& file) {
  std::vector<CsvRecord> records;
  const size_t n = text.size();
  size_t i = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // UTF-8 byte-order mark
  int line = 1;
  CsvRecord rec{1, {}};
  while (true) {
    std::string field;
    if (i < n && text[i] == '"') {
      const int opened = line;
      for (++i;; ++i) {
        if (i >= n)
          return located(file, opened, "", "unterminated quoted field: the quote opened on this line is never closed",
                         "close the field with \" and write a quote inside it as \"\"");
        if (text[i] == '"' && i + 1 < n && text[i + 1] == '"') { field += '"'; ++i; continue; }
        if (text[i] == '"') { ++i; break; }
        if (text[i] == '\n') ++line;
        field += text[i];
      }
      if (i < n && text[i] != ',' && !line_end_at(text, i))
        return located(file, line, "", "unexpected text after the closing quote of a field",
                       "a quote inside a quoted field is written twice (\"\")");
    } else {
      for (; i < n && text[i] != ',' && !line_end_at(text, i); ++i) {
        if (text[i] == '"')
          return located(file, line, "", "quote inside an unquoted field",
                         "quote the whole field and write the quote twice (\"\")");
        field += text[i];
      }
    }
    rec.fields.push_back(std::move(field));
    if (i < n && text[i] == ',') { ++i; continue; }
    const bool blank = rec.fields.size() == 1 && rec.fields[0].empty();
    if (!blank) records.push_back(std::move(rec));
    if (i >= n) break;
    i += text[i] == '\r' ? 2 : 1;
    rec = CsvRecord{++line, {}};
  }
  return records;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<double> parse_number(const std::string& text) {
  std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

Diagnostics check_header(const std::vector<std::string>& header, const std::string& file, int line) {
  Diagnostics diags;
  std::set<std::string> seen;
  for (const auto& name : header) {
    if (name.empty()) diags.add({file, line, "", "the header has an empty column name", "name every column"});
    else if (!seen.insert(name).second)
      diags.add({file, line, name, "column \"" + name + "\" appears twice in the header", "keep one of them"});
  }
  for (const char* required : {"id", "measured_metric", "measured_value"})
    if (!seen.count(required))
      diags.add({file, line, "", fmt::format("the header has no \"{}\" column", required),
                 "the first row must name the columns (docs/formats/published-runs.md)"});
  return diags;
}

}  // namespace

Result<std::vector<PublishedRun>> parse_published_runs(const std::string& text, const std::string& file) {
  auto split = split_csv(text, file);
  if (!split.ok()) return split.errors();
  const auto& records = split.value();
  if (records.empty()) return located(file, 0, "", "empty file: a header row is required");
  const auto& header = records.front().fields;
  Diagnostics diags = check_header(header, file, records.front().line);
  if (!diags.ok()) return diags;
  std::vector<PublishedRun> runs;
  std::set<std::string> ids;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (rec.fields.size() != header.size()) {
      diags.add({file, rec.line, "",
                 fmt::format("the row has {} fields but the header has {}", rec.fields.size(), header.size()),
                 "quote fields that contain commas; every row needs one field per column"});
      continue;
    }
    PublishedRun run;
    run.file = file;
    run.line = rec.line;
    for (size_t k = 0; k < header.size(); ++k) run.cells[header[k]] = rec.fields[k];
    run.id = trim(run.cell("id"));
    run.metric = trim(run.cell("measured_metric"));
    if (run.id.empty()) diags.add({file, rec.line, "id", "empty row id", "give every row a unique id"});
    else if (!ids.insert(run.id).second)
      diags.add({file, rec.line, "id", "row id \"" + run.id + "\" appears twice", "row ids must be unique"});
    if (auto v = parse_number(run.cell("measured_value"))) run.measured_value = *v;
    else
      diags.add({file, rec.line, "measured_value", "\"" + run.cell("measured_value") + "\" is not a number", ""});
    runs.push_back(std::move(run));
  }
  if (!diags.ok()) return diags;
  return runs;
}

Result<std::vector<PublishedRun>> read_published_runs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return located(path, 0, "", "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_published_runs(text.str(), path);
}

Result<RunCatalog> load_run_catalog() {
  RunCatalog c;
  Diagnostics diags;
  for (const auto& f : catalog_files(CatalogKind::models)) {
    auto m = load_model(f);
    if (m.ok()) c.models.push_back(m.value());
    else diags.append(m.errors());
  }
  for (const auto& f : catalog_files(CatalogKind::gpus)) {
    auto g = load_gpu(f);
    if (g.ok()) c.gpus.push_back(g.value());
    else diags.append(g.errors());
  }
  if (!diags.ok()) return diags;
  return c;
}

namespace {

// Row -> scenario JSON. Typed access to a row's cells. Records every default it applies and the first problem.
class RowReader {
 public:
  RowReader(const PublishedRun& row, std::vector<std::string>& defaults) : row_(row), defaults_(defaults) {}

  std::string text(const std::string& col) const { return trim(row_.cell(col)); }
  void note(const std::string& col, const std::string& value, const std::string& why) {
    defaults_.push_back(col + "=" + value + " (" + why + ")");
  }
  void fail(const std::string& reason) {
    if (problem.empty()) problem = reason;
  }
  std::optional<int64_t> integer(const std::string& col) {
    std::string t = text(col);
    if (t.empty()) return std::nullopt;
    auto v = parse_number(t);
    if (!v || *v != std::floor(*v) || std::fabs(*v) > 1e15) {
      fail(fmt::format("{}: expected an integer, got \"{}\"", col, t));
      return std::nullopt;
    }
    return static_cast<int64_t>(*v);
  }
  int64_t integer_or(const std::string& col, int64_t fallback, const std::string& why = "empty") {
    if (auto v = integer(col)) return *v;
    note(col, std::to_string(fallback), why);
    return fallback;
  }
  std::optional<int64_t> required(const std::string& col) {
    auto v = integer(col);
    if (!v) fail(col + " not stated (empty)");
    return v;
  }
  std::string text_or(const std::string& col, const std::string& fallback) {
    std::string t = text(col);
    if (!t.empty()) return t;
    note(col, fallback, "empty");
    return fallback;
  }

  // The same without recording a default (for lookups that are recorded elsewhere).
  std::string text_or_silent(const std::string& col, const std::string& fallback) const {
    std::string t = text(col);
    return t.empty() ? fallback : t;
  }
  const PublishedRun& row() const { return row_; }

  std::string problem;

 private:
  const PublishedRun& row_;
  std::vector<std::string>& defaults_;
};

// Topologies by (intra_node_link, GPUs per node, inter_node_link); inter "" = the box's own
// (idealized single-switch) fabric, also used when the inter link is irrelevant (one node).
struct Box { const char* intra; int gpus; const char* inter; const char* topology; };
constexpr Box kBoxes[] = {
    {"nvlink2-nvswitch", 16, "", "dgx-2"}, {"nvlink2-nvswitch", 16, "ib-edr-100x8", "dgx-2"},
    {"nvlink3-nvswitch", 1, "", "a100-sxm-1gpu"}, {"nvlink3-nvswitch", 2, "", "a100-sxm-2gpu"},
    {"nvlink3-nvswitch", 4, "", "a100-sxm-4gpu"}, {"nvlink3-nvswitch", 8, "", "dgx-a100"},
    {"nvlink3-nvswitch", 8, "ib-hdr-200x8", "dgx-a100-ib-hdr"}, {"nvlink3-nvswitch", 8, "roce-200x8", "a100-roce-200"},
    {"nvlink4-nvswitch", 1, "", "h100-sxm-1gpu"}, {"nvlink4-nvswitch", 2, "", "h100-sxm-2gpu"},
    {"nvlink4-nvswitch", 4, "", "h100-sxm-4gpu"}, {"nvlink4-nvswitch", 8, "", "dgx-h100"},
    {"nvlink4-nvswitch", 8, "ib-ndr-400x8", "dgx-h100-ib-ndr"}, {"nvlink4-nvswitch", 8, "roce-400x8", "dgx-h100-roce"},
    {"nvlink5-nvswitch", 1, "", "b200-sxm-1gpu"}, {"nvlink5-nvswitch", 2, "", "b200-sxm-2gpu"},
    {"nvlink5-nvswitch", 4, "", "b200-sxm-4gpu"}, {"nvlink5-nvswitch", 8, "", "hgx-b200"},
    {"nvlink5-nvswitch", 8, "ib-ndr-400x8", "hgx-b200"}, {"nvlink-bridge-pairs", 8, "", "h100-pcie-8gpu-nvlink-pairs"},
    {"pcie4", 1, "", "pcie4-1gpu"}, {"pcie4", 2, "", "pcie4-2gpu"}, {"pcie4", 4, "", "pcie4-4gpu"},
    {"pcie4", 8, "", "pcie4-8gpu"}, {"pcie5", 1, "", "pcie5-1gpu"}, {"pcie5", 2, "", "pcie5-2gpu"},
    {"pcie5", 4, "", "pcie5-4gpu"}, {"pcie5", 8, "", "pcie5-8gpu"},
};

int largest_box(const std::string& intra) {
  int most = 0;
  for (const Box& b : kBoxes)
    if (intra == b.intra) most = std::max(most, b.gpus);
  return most;
}

const char* find_box(const std::string& intra, int64_t gpus, const std::string& inter, int64_t nodes) {
  for (const Box& b : kBoxes)
    if (intra == b.intra && gpus == b.gpus && inter == b.inter) return b.topology;
  if (nodes > 1 && !inter.empty()) return nullptr;  // a stated fabric we do not have
  for (const Box& b : kBoxes)
    if (intra == b.intra && gpus == b.gpus && std::string(b.inter).empty()) return b.topology;
  return nullptr;
}

// The intra-node fabric of the box a card ships in: SXM cards by family, PCIe cards by PCIe gen.
std::optional<std::string> own_box(const GpuSpec& g) {
  static const std::map<std::string, std::string> sxm = {{"volta", "nvlink2-nvswitch"},
                                                         {"ampere", "nvlink3-nvswitch"},
                                                         {"hopper", "nvlink4-nvswitch"},
                                                         {"blackwell", "nvlink5-nvswitch"}};
  if (g.form_factor == "sxm" && sxm.count(g.family)) return sxm.at(g.family);
  if (g.form_factor == "pcie" && (g.pcie_gen == 4 || g.pcie_gen == 5)) return "pcie" + std::to_string(g.pcie_gen);
  return std::nullopt;
}

const GpuSpec* find_gpu(const RunCatalog& c, const std::string& id) {
  for (const auto& g : c.gpus)
    if (g.id == id) return &g;
  return nullptr;
}

// The card itself when it has `gb` of memory, else its same-family, same-form-factor sibling.
const GpuSpec* memory_variant(const GpuSpec& card, double gb, const RunCatalog& c) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  auto has = [&](const GpuSpec& g) { return std::fabs(g.memory_bytes / kGiB - gb) < 0.5; };
  if (has(card)) return &card;
  for (const auto& g : c.gpus)
    if (g.vendor == card.vendor && g.family == card.family && g.form_factor == card.form_factor && has(g))
      return &g;
  return nullptr;
}

// The row's card, or its memory variant when gpu_mem_gb differs from the catalog capacity. With
// no such variant the card keeps its speeds and gets gpu_mem_gb as its capacity (`memory_gib`):
// rows that state a VRAM budget on a placeholder card.
const GpuSpec* card_for_row(RowReader& r, const RunCatalog& c, std::optional<double>& memory_gib) {
  const std::string id = r.text("gpu");
  const GpuSpec* gpu = find_gpu(c, id);
  if (id.empty()) r.fail("gpu not stated (empty)");
  else if (!gpu) r.fail("GPU \"" + id + "\" is not in the catalog (topologies/gpus/)");
  auto mem = parse_number(r.text("gpu_mem_gb"));
  if (!gpu || !mem) return gpu;
  const GpuSpec* variant = memory_variant(*gpu, *mem, c);
  if (!variant) {
    memory_gib = *mem;
    r.note("cluster.gpu_memory_gib", fmt::format("{:g}", *mem),
           fmt::format("gpu_mem_gb={:g}: no catalog variant of {}; its capacity set to the stated memory", *mem, gpu->id));
    return gpu;
  }
  if (variant != gpu)
    r.note("gpu", variant->id, fmt::format("gpu_mem_gb={:g}: same family and form factor", *mem));
  return variant;
}

// intra_node_link as written, or the fabric of the card's own box.
std::string intra_for_row(RowReader& r, const GpuSpec& gpu) {
  std::string intra = r.text("intra_node_link");
  if (!intra.empty()) return intra;
  auto own = own_box(gpu);
  if (!own) {
    r.fail(fmt::format("no topology for {} ({} {}) with intra_node_link empty", gpu.id, gpu.form_factor, gpu.family));
    return "";
  }
  r.note("intra_node_link", *own, "empty; the box of a " + gpu.form_factor + " " + gpu.family + " card");
  return *own;
}

Json cluster_json(RowReader& r, const RunCatalog& c, int64_t& num_gpus) {
  std::optional<double> memory_gib;
  const GpuSpec* gpu = card_for_row(r, c, memory_gib);
  if (!r.problem.empty()) return {};
  num_gpus = r.required("num_gpus").value_or(0);
  if (r.problem.empty() && num_gpus < 1) r.fail("num_gpus must be at least 1");
  const std::string intra = r.problem.empty() ? intra_for_row(r, *gpu) : "";
  const int box = largest_box(intra);
  if (r.problem.empty() && box == 0) r.fail("no topology for intra_node_link \"" + intra + "\"");
  if (!r.problem.empty()) return {};
  const int64_t per_node = r.integer_or("gpus_per_node", std::min<int64_t>(num_gpus, box),
                                        fmt::format("empty; min(num_gpus, {})", box));
  if (per_node < 1 || num_gpus % per_node != 0)
    r.fail(fmt::format("num_gpus = {} is not a multiple of gpus_per_node = {}", num_gpus, per_node));
  if (!r.problem.empty()) return {};
  const int64_t nodes = num_gpus / per_node;
  const std::string inter = r.text("inter_node_link");
  const char* topology = find_box(intra, per_node, inter, nodes);
  if (!topology)
    r.fail(fmt::format("no topology for {}-GPU {} nodes{}", per_node, intra, inter.empty() ? "" : " on " + inter));
  else if (nodes > 1 && inter.empty())
    r.note("inter_node_link", std::string(topology) + "'s idealized fabric", "empty");
  if (!r.problem.empty()) return {};
  Json cluster{{"topology", topology}, {"nodes", nodes}, {"gpu", gpu->id}};
  if (memory_gib) cluster["gpu_memory_gib"] = *memory_gib;
  return cluster;
}

Json training_json(RowReader& r, int64_t num_gpus) {
  Json t;
  if (auto seq_len = r.required("seq_len")) t["seq_len"] = *seq_len;
  const int64_t micro = r.integer_or("micro_batch", 1);
  t["micro_batch"] = micro;
  t["precision"] = r.text_or("precision", "bf16");
  for (const char* degree : {"tp", "pp", "cp", "ep"}) t[degree] = r.integer_or(degree, 1);
  std::optional<int64_t> dp = r.integer("dp");
  if (dp) {
    t["dp"] = *dp;
  } else if (r.problem.empty()) {
    const int64_t mp = t["tp"].get<int64_t>() * t["pp"].get<int64_t>() * t["cp"].get<int64_t>();
    if (mp < 1 || num_gpus % mp != 0)
      r.fail(fmt::format("num_gpus = {} is not divisible by tp·pp·cp = {}", num_gpus, mp));
    else r.note("dp", std::to_string(*(dp = num_gpus / mp)), "num_gpus/(tp·pp·cp)");
  }
  const int64_t vp = r.integer_or("vp_interleave", 1);
  if (vp > 1) {
    t["vp"] = vp;
    t["pipeline_schedule"] = "interleaved";
  }
  if (auto batch = r.integer("global_batch_seqs")) {
    t["global_batch"] = *batch;
  } else if (r.problem.empty()) {
    // The smallest batch the schedule runs: one micro-batch per pipeline (pp of them when interleaved).
    const int64_t per_pipeline = vp > 1 ? t["pp"].get<int64_t>() : 1;
    t["global_batch"] = micro * *dp * per_pipeline;
    r.note("global_batch_seqs", std::to_string(micro * *dp * per_pipeline),
           vp > 1 ? "empty; micro_batch·dp·pp, the fewest micro-batches the interleaved schedule runs"
                  : "empty; micro_batch·dp, one micro-batch per step");
  }
  const std::string sp = r.text_or("sp", "0");
  if (sp != "0" && sp != "1") r.fail("sp: expected 0 or 1, got \"" + sp + "\"");
  t["sp"] = sp == "1";
  // Keys the row leaves empty: the framework's recipe (framework_recipes.h) first, then the
  // documented fallbacks. Fine-tuning rows without a known framework keep activation
  // checkpointing on, as fine-tuning recipes do; pre-training rows state theirs or run without it.
  const bool fine_tuning = !r.text("finetune").empty();
  const FrameworkRecipe recipe = framework_recipe(r.row(), static_cast<long>(num_gpus), r.text_or_silent("finetune", "full"));
  if (!recipe.skip_reason.empty()) r.fail(recipe.skip_reason);
  for (const RecipeSetting& setting : recipe.settings) {
    const std::string stated = r.text(setting.key);
    if (!stated.empty() && stated != setting.refines) continue;  // the row's own column wins
    t[setting.key] = setting.value;
    r.note(setting.key, setting.value.is_string() ? setting.value.get<std::string>() : setting.value.dump(),
           recipe.framework + ": " + setting.why);
  }
  const std::pair<const char*, const char*> choices[] = {{"sharding", "none"},
                                                         {"offload", "none"},
                                                         {"recompute", fine_tuning ? "full" : "none"},
                                                         {"finetune", "full"},
                                                         {"optimizer", "adamw"}};
  for (const auto& [col, fallback] : choices)
    if (!t.contains(col)) t[col] = r.text_or(col, fallback);
  if (auto rank = r.integer("lora_rank")) t["lora_rank"] = *rank;
  else if (t["finetune"] == "lora" || t["finetune"] == "qlora") {
    t["lora_rank"] = 8;
    r.note("lora_rank", "8", "empty; PEFT LoraConfig's default r");
  }
  return t;
}

// tied_embeddings, qkv_bias and position_embedding: from a catalog model with the same numbers.
void model_details(Json& m, RowReader& r, const RunCatalog& c) {
  auto same = [&](const ModelSpec& s) {
    bool moe_same = m.contains("moe") ? s.moe && s.moe->experts == m["moe"]["experts"].get<int64_t>() &&
                                            s.moe->top_k == m["moe"]["top_k"].get<int64_t>()
                                      : !s.moe;
    return to_string(s.arch) == m["arch"].get<std::string>() && s.layers == m["layers"].get<int64_t>() &&
           s.hidden == m["hidden"].get<int64_t>() && s.heads == m["heads"].get<int64_t>() &&
           s.kv_heads == m["kv_heads"].get<int64_t>() && s.ffn_hidden == m["ffn_hidden"].get<int64_t>() &&
           s.vocab == m["vocab"].get<int64_t>() && moe_same;
  };
  auto it = std::find_if(c.models.begin(), c.models.end(), same);
  const bool gpt = m["arch"] == "gpt";
  m["tied_embeddings"] = it != c.models.end() ? it->tied_embeddings : gpt;
  m["qkv_bias"] = it != c.models.end() ? it->qkv_bias : gpt;
  const bool learned = it != c.models.end() ? it->position == PositionEmbedding::learned : gpt;
  m["position_embedding"] = learned ? "learned" : "rope";
  r.note("model", fmt::format("tied_embeddings {}, qkv_bias {}, {} positions", m["tied_embeddings"].dump(),
                              m["qkv_bias"].dump(), learned ? "learned" : "rope"),
         it != c.models.end() ? "as models/" + it->id + ".json, same architecture numbers"
                              : "arch defaults; no catalog model has these numbers");
}

Json model_json(RowReader& r, const RunCatalog& c, const std::string& id, int64_t seq_len) {
  Json m = {{"id", id}, {"name", r.text("model").empty() ? id : r.text("model")}};
  m["arch"] = r.text_or("arch", "gpt");
  for (const char* col : {"layers", "hidden", "heads", "ffn_hidden", "vocab"})
    if (auto v = r.required(col)) m[col] = *v;
  if (!r.problem.empty()) return m;
  m["kv_heads"] = r.integer_or("kv_heads", m["heads"].get<int64_t>(), "empty = heads");
  auto experts = r.integer("moe_experts"), top_k = r.integer("moe_topk");
  if (experts && top_k) m["moe"] = {{"experts", *experts}, {"top_k", *top_k}};
  else if (experts || top_k) r.fail("moe_experts and moe_topk must be given together");
  if (auto params = parse_number(r.text("params_b")); params && *params > 0)
    m["published_parameters"] = std::llround(*params * 1e9);
  if (!r.problem.empty() || (m["arch"] != "gpt" && m["arch"] != "llama")) return m;  // validation reports arch
  model_details(m, r, c);
  if (m["position_embedding"] == "learned") {
    m["max_seq_len"] = seq_len;
    r.note("max_seq_len", std::to_string(seq_len), "learned positions: the row's seq_len");
  }
  return m;
}

}  // namespace

RunScenario scenario_for_run(const PublishedRun& row, const RunCatalog& catalog) {
  // measured_value (and measured_metric, measured_unit, notes) are never read here: the
  // scenario is the predictor's input and must not depend on the answer.
  RunScenario out;
  RowReader r(row, out.defaults);
  Json root = {{"name", row.id},
               {"description", fmt::format("Published run {} (line {}): {}", row.id, row.line, r.text("model"))}};
  int64_t num_gpus = 0;
  root["cluster"] = cluster_json(r, catalog, num_gpus);
  if (r.problem.empty()) root["training"] = training_json(r, num_gpus);
  if (r.problem.empty()) root["model"] = model_json(r, catalog, row.id, root["training"]["seq_len"].get<int64_t>());
  out.document.file = row.file;
  out.document.root = std::move(root);
  out.document.lines[""] = row.line;  // every error points at the row
  if (!r.problem.empty()) {
    out.skip_reason = "skipped: " + r.problem;
    return out;
  }
  auto s = parse_scenario(out.document, {});
  if (!s.ok()) {
    const Diagnostic& d = s.errors().items().front();
    out.skip_reason = "skipped: " + (d.path.empty() ? "" : d.path + ": ") + d.message;
    return out;
  }
  out.scenario = std::move(s.value());
  return out;
}

RunScenario scenario_for_run(const PublishedRun& row) {
  auto catalog = load_run_catalog();
  if (catalog.ok()) return scenario_for_run(row, catalog.value());
  RunScenario out;
  out.skip_reason = "skipped: the catalog does not load: " + format_diagnostic(catalog.errors().items().front());
  return out;
}

}  // namespace stepsim
