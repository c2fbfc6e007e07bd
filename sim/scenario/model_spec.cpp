#include "scenario/model_spec.h"

#include <fmt/format.h>

#include "scenario/data_dirs.h"

namespace stepsim {

std::string to_string(Arch a) { return a == Arch::gpt ? "gpt" : "llama"; }

void read_model_fields(FieldReader& r, ModelSpec& m) {
  m.id = r.string_or("id", "inline");
  m.name = r.string_or("name", m.id);
  r.require("arch");
  m.arch = r.choice("arch", "llama", {"gpt", "llama"}) == "gpt" ? Arch::gpt : Arch::llama;
  m.layers = r.required_integer("layers", 1, 100000);
  m.hidden = r.required_integer("hidden", 1, 1 << 24);
  m.heads = r.required_integer("heads", 1, 1 << 16);
  m.kv_heads = r.integer_or("kv_heads", m.heads, 1, 1 << 16);
  m.ffn_hidden = r.required_integer("ffn_hidden", 1, 1 << 26);
  m.vocab = r.required_integer("vocab", 1, 1 << 26);
  m.max_seq_len = r.integer_or("max_seq_len", 0, 0, 1 << 26);
  m.tied_embeddings = r.boolean_or("tied_embeddings", m.arch == Arch::gpt);
  m.qkv_bias = r.boolean_or("qkv_bias", m.arch == Arch::gpt);
  std::string default_position = m.arch == Arch::gpt ? "learned" : "rope";
  m.position = r.choice("position_embedding", default_position, {"learned", "rope"}) == "learned"
                   ? PositionEmbedding::learned
                   : PositionEmbedding::rope;
  if (const Json* moe = r.object_member("moe")) {
    FieldReader mr(r.document(), *moe, r.path_of("moe"), r.diagnostics());
    MoeSpec spec;
    spec.experts = mr.required_integer("experts", 1, 1 << 16);
    spec.top_k = mr.required_integer("top_k", 1, 1 << 16);
    if (spec.top_k > spec.experts)
      mr.error("top_k", fmt::format("top_k = {} exceeds experts = {}", spec.top_k, spec.experts),
               "a token is routed to at most every expert");
    mr.finish();
    m.moe = spec;
  }
  m.published_parameters = r.optional_number("published_parameters", 1, 1e16);
  m.source = r.string_or("source", "");
  if (m.hidden > 0 && m.heads > 0 && m.hidden % m.heads != 0)
    r.error("heads", fmt::format("hidden = {} is not divisible by heads = {}", m.hidden, m.heads),
            "the head dimension hidden/heads must be an integer");
  if (m.heads > 0 && m.kv_heads > 0 && m.heads % m.kv_heads != 0)
    r.error("kv_heads", fmt::format("heads = {} is not divisible by kv_heads = {}", m.heads, m.kv_heads),
            "grouped-query attention shares each KV head among heads/kv_heads query heads");
  if (m.position == PositionEmbedding::learned && m.max_seq_len == 0)
    r.error("max_seq_len", "learned position embeddings need max_seq_len (the size of the position table)",
            "add \"max_seq_len\"");
}

Result<ModelSpec> parse_model(const JsonDocument& doc) {
  if (is_hf_config(doc.root)) return parse_hf_config(doc);
  Diagnostics diags;
  ModelSpec m;
  m.file = doc.file;
  FieldReader r(doc, doc.root, "", diags);
  r.require("id");
  read_model_fields(r, m);
  r.finish();
  if (!diags.ok()) return diags;
  return m;
}

Result<ModelSpec> load_model(const std::string& ref, const std::string& base_dir) {
  auto path = resolve_reference(CatalogKind::models, ref, base_dir);
  if (!path) {
    Diagnostics d;
    std::string hint = looks_like_path(ref) ? "" : closest_match(ref, catalog_ids(CatalogKind::models));
    d.add({"", 0, "", "no model \"" + ref + "\" (not a catalog id in " + catalog_dir(CatalogKind::models) +
                          " nor an existing file)",
           hint.empty() ? "run `stepsim catalog models`, or give a path to a .json file"
                        : "did you mean \"" + hint + "\"?"});
    return d;
  }
  auto doc = load_json_file(*path);
  if (!doc.ok()) return doc.errors();
  return parse_model(doc.value());
}

}  // namespace stepsim
