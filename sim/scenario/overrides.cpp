#include "scenario/overrides.h"

namespace stepsim {

Result<Override> parse_override(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    Diagnostics d;
    d.add({"", 0, "", "--set expects PATH=VALUE, got \"" + text + "\"", "e.g. --set training.tp=4"});
    return d;
  }
  return Override{text.substr(0, eq), text.substr(eq + 1)};
}

static Json parse_value(const std::string& raw) {
  Json value = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Json(raw);
  return value;
}

Diagnostics apply_overrides(JsonDocument& doc, const std::vector<Override>& overrides) {
  Diagnostics diags;
  for (const auto& o : overrides) {
    Json* node = &doc.root;
    std::string walked;
    size_t start = 0;
    bool failed = false;
    while (true) {
      size_t dot = o.path.find('.', start);
      std::string key = o.path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (key.empty() || !node->is_object()) {
        diags.add({"", 0, o.path,
                   key.empty() ? "empty path segment in --set " + o.path
                               : "--set " + o.path + ": \"" + walked + "\" is not an object",
                   "paths name nested keys with dots, e.g. training.tp"});
        failed = true;
        break;
      }
      walked = join_path(walked, key);
      if (dot == std::string::npos) {
        (*node)[key] = parse_value(o.value);
        break;
      }
      node = &(*node)[key];
      if (node->is_null()) *node = Json::object();
      start = dot + 1;
    }
    if (!failed) doc.lines[o.path] = 0;  // no file line: the value came from the command line
  }
  return diags;
}

}  // namespace stepsim
