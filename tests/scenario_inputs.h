// Inputs shared by the Catch2 tests that build workloads: a scenario parsed from JSON text (a
// parse error fails the test with its diagnostics) and the shipped memory-overheads file.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "scenario/json_document.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"

namespace stepsim::test_inputs {

inline Scenario scenario_from_text(const std::string& text, const std::vector<Override>& overrides = {},
                                   const std::string& file_name = "s.json") {
  auto doc = parse_json_text(text, file_name);
  REQUIRE(doc.ok());
  auto s = parse_scenario(doc.value(), overrides);
  if (!s.ok()) FAIL(s.errors().to_string());
  return s.value();
}

inline MemoryOverheads shipped_overheads() {
  auto o = load_memory_overheads();
  REQUIRE(o.ok());
  return o.value();
}

}  // namespace stepsim::test_inputs
