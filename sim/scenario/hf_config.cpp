// Import of Hugging Face config.json files (Llama, Mistral, Mixtral, Qwen2, GPT-2, GPT-NeoX).
// HF configs carry many keys irrelevant to training cost, so unknown keys are ignored here,
// unlike in stepsim's own formats; a missing required key is still an error.
#include <fmt/format.h>

#include "scenario/model_spec.h"

namespace stepsim {

bool is_hf_config(const Json& root) {
  return root.is_object() && (root.contains("model_type") || root.contains("architectures"));
}

namespace {

class HfReader {
 public:
  HfReader(const JsonDocument& doc, Diagnostics& diags) : doc_(doc), diags_(diags) {}

  int64_t integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt) {
    auto it = doc_.root.find(key);
    if (it == doc_.root.end() || it->is_null()) {
      if (fallback) return *fallback;
      diags_.add({doc_.file, 0, key, "Hugging Face config lacks \"" + key + "\"",
                  "this model type needs it; see docs/formats/model.md"});
      return 1;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 1) {
      diags_.add({doc_.file, doc_.line_of(key), key, "expected a positive integer, got " + describe_json(*it), ""});
      return 1;
    }
    return it->get<int64_t>();
  }

  std::string string(const std::string& key) {
    auto it = doc_.root.find(key);
    return it != doc_.root.end() && it->is_string() ? it->get<std::string>() : "";
  }

  std::optional<bool> boolean(const std::string& key) {
    auto it = doc_.root.find(key);
    if (it == doc_.root.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
  }

 private:
  const JsonDocument& doc_;
  Diagnostics& diags_;
};

std::string stem_of(const std::string& file) {
  size_t slash = file.find_last_of('/');
  std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
  size_t dot = name.rfind(".json");
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

Result<ModelSpec> parse_hf_config(const JsonDocument& doc) {
  Diagnostics diags;
  HfReader r(doc, diags);
  ModelSpec m;
  m.file = doc.file;
  m.id = stem_of(doc.file);
  m.name = m.id;
  m.source = "Hugging Face config.json: " + doc.file;
  std::string type = r.string("model_type");
  if (type == "llama" || type == "mistral" || type == "qwen2" || type == "mixtral") {
    m.arch = Arch::llama;
    m.position = PositionEmbedding::rope;
    m.hidden = r.integer("hidden_size");
    m.layers = r.integer("num_hidden_layers");
    m.heads = r.integer("num_attention_heads");
    m.kv_heads = r.integer("num_key_value_heads", m.heads);
    m.ffn_hidden = r.integer("intermediate_size");
    m.vocab = r.integer("vocab_size");
    m.max_seq_len = r.integer("max_position_embeddings", 0);
    m.tied_embeddings = r.boolean("tie_word_embeddings").value_or(false);
    m.qkv_bias = type == "qwen2" || r.boolean("attention_bias").value_or(false);
    if (type == "mixtral")
      m.moe = MoeSpec{r.integer("num_local_experts"), r.integer("num_experts_per_tok")};
  } else if (type == "gpt2") {
    m.arch = Arch::gpt;
    m.position = PositionEmbedding::learned;
    m.hidden = r.integer("n_embd");
    m.layers = r.integer("n_layer");
    m.heads = r.integer("n_head");
    m.kv_heads = m.heads;
    m.ffn_hidden = r.integer("n_inner", 4 * m.hidden);
    m.vocab = r.integer("vocab_size");
    m.max_seq_len = r.integer("n_positions");
    m.tied_embeddings = r.boolean("tie_word_embeddings").value_or(true);
    m.qkv_bias = true;
  } else if (type == "gpt_neox") {
    m.arch = Arch::gpt;
    m.position = PositionEmbedding::rope;
    m.hidden = r.integer("hidden_size");
    m.layers = r.integer("num_hidden_layers");
    m.heads = r.integer("num_attention_heads");
    m.kv_heads = m.heads;
    m.ffn_hidden = r.integer("intermediate_size");
    m.vocab = r.integer("vocab_size");
    m.max_seq_len = r.integer("max_position_embeddings", 0);
    m.tied_embeddings = r.boolean("tie_word_embeddings").value_or(false);
    m.qkv_bias = true;
  } else {
    diags.add({doc.file, doc.line_of("model_type"), "model_type",
               type.empty() ? "Hugging Face config without \"model_type\""
                            : "unsupported Hugging Face model_type \"" + type + "\"",
               "supported: llama, mistral, mixtral, qwen2, gpt2, gpt_neox; or write a stepsim model file"});
  }
  if (diags.ok() && m.hidden % m.heads != 0)
    diags.add({doc.file, 0, "", fmt::format("hidden_size {} not divisible by heads {}", m.hidden, m.heads), ""});
  if (diags.ok() && m.heads % m.kv_heads != 0)
    diags.add({doc.file, 0, "", fmt::format("heads {} not divisible by kv heads {}", m.heads, m.kv_heads), ""});
  if (!diags.ok()) return diags;
  return m;
}

}  // namespace stepsim
