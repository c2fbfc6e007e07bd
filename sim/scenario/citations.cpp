#include "scenario/citations.h"

namespace stepsim {

bool is_cited(const std::map<std::string, std::string>& sources, std::string path) {
  while (true) {
    if (sources.count(path)) return true;
    size_t cut = path.find_last_of('.');
    if (cut == std::string::npos) return false;
    path = path.substr(0, cut);
  }
}

void check_citations(const JsonDocument& doc, const Json& node, const std::string& path,
                     const std::map<std::string, std::string>& sources, const std::set<std::string>& skip_top_level,
                     Diagnostics& diags) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (path.empty() && skip_top_level.count(it.key())) continue;
      check_citations(doc, it.value(), join_path(path, it.key()), sources, skip_top_level, diags);
    }
    return;
  }
  if (node.is_null() || is_cited(sources, path)) return;
  diags.add({doc.file, doc.line_of(path), path, "this figure has no citation in \"sources\"",
             "add \"sources\": {\"" + path + "\": \"<where the number comes from>\"} (or cite its parent)"});
}

std::map<std::string, std::string> read_sources(FieldReader& r) {
  std::map<std::string, std::string> sources;
  r.require("sources");
  if (const Json* s = r.object_member("sources")) {
    for (auto it = s->begin(); it != s->end(); ++it) {
      if (!it->is_string() || it->get<std::string>().empty())
        r.error("sources." + it.key(), "a citation must be a non-empty string", "");
      else
        sources[it.key()] = it->get<std::string>();
    }
  }
  return sources;
}

bool names_a_value(const Json& root, const std::string& path) {
  const Json* node = &root;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return false;
    node = &(*node)[key];
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
  return false;
}

}  // namespace stepsim
