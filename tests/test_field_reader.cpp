#include <catch2/catch.hpp>

#include "scenario/field_reader.h"

using namespace stepsim;

namespace {
JsonDocument doc_of(const std::string& text) {
  auto d = parse_json_text(text, "f.json");
  REQUIRE(d.ok());
  return d.value();
}
}  // namespace

TEST_CASE("unknown keys are errors with a did-you-mean hint", "[fields]") {
  JsonDocument doc = doc_of("{\n\"seq_len\": 4096,\n\"micro_bacth\": 2\n}");
  Diagnostics diags;
  FieldReader r(doc, doc.root, "training", diags);
  r.integer_or("seq_len", 0, 1);
  r.integer_or("micro_batch", 1, 1);
  r.finish();
  REQUIRE(diags.items().size() == 1);
  const Diagnostic& d = diags.items()[0];
  CHECK(d.path == "training.micro_bacth");
  CHECK(d.message == "unknown key \"micro_bacth\"");
  CHECK(d.fix == "did you mean \"micro_batch\"?");
}

TEST_CASE("type and range errors say what was expected and what was found", "[fields]") {
  JsonDocument ok = doc_of("{\"tp\": \"four\", \"pp\": -2, \"cp\": 2.5, \"dp\": 1e30, \"flag\": 1}");
  Diagnostics diags;
  FieldReader r(ok, ok.root, "training", diags);
  CHECK(r.integer_or("tp", 1, 1) == 1);
  CHECK(r.integer_or("pp", 1, 1) == 1);
  CHECK(r.integer_or("cp", 1, 1) == 1);
  CHECK(r.integer_or("dp", 1, 1) == 1);
  CHECK(r.boolean_or("flag", false) == false);
  r.finish();
  REQUIRE(diags.items().size() == 5);
  CHECK(diags.items()[0].message == "expected an integer >= 1, got \"four\" (a string)");
  CHECK(diags.items()[1].message == "expected an integer >= 1, got -2");
  CHECK(diags.items()[2].message == "expected an integer >= 1, got 2.5");
  CHECK(diags.items()[4].message == "expected true or false, got 1");
}

TEST_CASE("choices list the options and suggest the closest", "[fields]") {
  JsonDocument doc = doc_of("{\"sharding\": \"zero-3\"}");
  Diagnostics diags;
  FieldReader r(doc, doc.root, "training", diags);
  CHECK(r.choice("sharding", "none", {"none", "zero1", "zero2", "zero3"}) == "none");
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].message == "\"zero-3\" is not one of: none, zero1, zero2, zero3");
  CHECK(diags.items()[0].fix == "did you mean \"zero3\"?");
}

TEST_CASE("a non-object where an object belongs is one clear error", "[fields]") {
  JsonDocument doc = doc_of("[1, 2]");
  Diagnostics diags;
  FieldReader r(doc, doc.root, "", diags);
  r.required_integer("layers", 1);
  r.finish();
  REQUIRE(diags.items().size() == 1);
  CHECK(diags.items()[0].message == "expected an object { ... }, got a list");
}

TEST_CASE("diagnostics format as file:line: path: message with the fix", "[fields]") {
  Diagnostic d{"s.json", 12, "training.tp", "bad", "do this"};
  CHECK(format_diagnostic(d) == "s.json:12: training.tp: bad\n    fix: do this");
  CHECK(closest_match("zero-3", {"zero1", "zero3"}) == "zero3");
  CHECK(closest_match("completely-different", {"zero1", "zero3"}).empty());
}
