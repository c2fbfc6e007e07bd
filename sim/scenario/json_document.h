// JsonDocument: one parsed input file plus the line of every value, so that later checks can
// point at "file:line: training.tp". Accepts JSON with // and /* */ comments.
//
// Loading never throws and never crashes on hostile bytes: syntax errors, invalid UTF-8,
// numbers out of range, nesting deeper than kMaxDepth, duplicate keys and oversized files
// all come back as Diagnostics naming the file and line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "scenario/diagnostics.h"

namespace stepsim {

using Json = nlohmann::json;

struct JsonDocument {
  std::string file;  // path as shown to the user
  Json root;
  std::unordered_map<std::string, int> lines;  // JSON path ("a.b[2].c") -> 1-based line

  // Line of `path`, or of its nearest ancestor that has one; 0 if none.
  int line_of(const std::string& path) const;
};

constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxJsonBytes = 64u << 20;

Result<JsonDocument> parse_json_text(const std::string& text, const std::string& display_name);
Result<JsonDocument> load_json_file(const std::string& path);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_path(const std::string& parent, const std::string& key);
std::string index_path(const std::string& parent, size_t index);

}  // namespace stepsim
