// Command-line overrides: "--set training.tp=4" replaces one scenario field before validation.
// The value is read as JSON when it parses (4, true, null, "x", {...}) and as a plain string
// otherwise, so `--set cluster.gpu=rtx-pro-6000-blackwell-ws` needs no quotes.
#pragma once

#include <string>
#include <vector>

#include "scenario/json_document.h"

namespace stepsim {

struct Override {
  std::string path;   // dotted, e.g. "training.tp"
  std::string value;  // raw text after '='
};

// Splits "PATH=VALUE"; returns a diagnostic when there is no '=' or the path is empty.
Result<Override> parse_override(const std::string& text);

// Applies each override to `doc.root`, creating missing intermediate objects. Fails when a
// path crosses a value that is not an object.
Diagnostics apply_overrides(JsonDocument& doc, const std::vector<Override>& overrides);

}  // namespace stepsim
