// ModelSpec: a transformer's architecture (models/<id>.json, docs/formats/model.md), read from
// stepsim's own format, inline in a scenario, or from a Hugging Face config.json.
//
// "gpt": GELU MLP (2 GEMMs with biases), LayerNorm, learned positions, tied embeddings.
// "llama": SwiGLU MLP (3 GEMMs, no biases), RMSNorm, RoPE, untied embeddings.
// For MoE models ffn_hidden is the hidden size of one expert's MLP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "scenario/field_reader.h"

namespace stepsim {

enum class Arch { gpt, llama };
enum class PositionEmbedding { learned, rope };

struct MoeSpec {
  int64_t experts = 0;
  int64_t top_k = 0;
};

struct ModelSpec {
  std::string file;  // where it was read from; empty when inline
  std::string id, name;
  Arch arch = Arch::llama;
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn_hidden = 0, vocab = 0;
  int64_t max_seq_len = 0;
  bool tied_embeddings = false;
  bool qkv_bias = false;
  PositionEmbedding position = PositionEmbedding::rope;
  std::optional<MoeSpec> moe;
  std::optional<double> published_parameters;
  std::string source;

  int64_t head_dim() const { return hidden / heads; }
};

std::string to_string(Arch a);

// Reads stepsim's model format from the object `r` points at (a whole file or a scenario's
// inline "model"). Checks divisibility (hidden by heads, heads by kv_heads, top_k <= experts).
void read_model_fields(FieldReader& r, ModelSpec& m);
Result<ModelSpec> parse_model(const JsonDocument& doc);

// A file is loaded as a Hugging Face config when it has "model_type" or "architectures".
bool is_hf_config(const Json& root);
Result<ModelSpec> parse_hf_config(const JsonDocument& doc);

// Catalog id, stepsim model file or HF config.json.
Result<ModelSpec> load_model(const std::string& ref, const std::string& base_dir = "");

}  // namespace stepsim
