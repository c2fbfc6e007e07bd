// Recognises which stepsim format a file is in, so that `stepsim check FILE...` can validate
// any input without being told: scenario, model (stepsim or Hugging Face), topology, GPU, sweep spec.
#pragma once

#include <string>

#include "scenario/diagnostics.h"

namespace stepsim {

struct CheckOutcome {
  std::string kind;     // "scenario", "model", "hf-config", "topology", "gpu", "sweep", or "unknown"
  std::string summary;  // one line describing what was read, when valid
  Diagnostics errors;
};

CheckOutcome check_file(const std::string& path);

}  // namespace stepsim
