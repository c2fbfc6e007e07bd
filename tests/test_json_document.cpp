#include <catch2/catch.hpp>

#include <random>

#include "scenario/json_document.h"

using namespace stepsim;

TEST_CASE("comments are allowed and lines are tracked per JSON path", "[json]") {
  const std::string text =
      "// a scenario\n"
      "{\n"
      "  \"training\": {\n"
      "    /* block\n comment */\n"
      "    \"tp\": 4,\n"
      "    \"list\": [1,\n"
      "      {\"x\": 2}]\n"
      "  }\n"
      "}\n";
  auto doc = parse_json_text(text, "t.json");
  REQUIRE(doc.ok());
  CHECK(doc.value().root["training"]["tp"] == 4);
  CHECK(doc.value().line_of("training") == 3);
  CHECK(doc.value().line_of("training.tp") == 6);
  CHECK(doc.value().line_of("training.list[1].x") == 8);
  CHECK(doc.value().line_of("training.list[0]") == 7);
  CHECK(doc.value().line_of("training.missing") == 3);  // falls back to the parent
}

TEST_CASE("syntax errors name the file and the line", "[json]") {
  auto doc = parse_json_text("{\n  \"a\": 1,\n  \"b\": \n}\n", "bad.json");
  REQUIRE_FALSE(doc.ok());
  const Diagnostic& d = doc.errors().items().at(0);
  CHECK(d.file == "bad.json");
  CHECK(d.line == 4);
  CHECK(d.message.find("not valid JSON") != std::string::npos);
}

TEST_CASE("duplicate keys are rejected instead of silently dropped", "[json]") {
  auto doc = parse_json_text("{\"tp\": 2,\n \"tp\": 4}", "dup.json");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.errors().items()[0].message.find("appears twice") != std::string::npos);
  CHECK(doc.errors().items()[0].line == 2);
}

TEST_CASE("deep nesting, huge numbers and NaN are errors, not crashes", "[json]") {
  CHECK_FALSE(parse_json_text(std::string(100000, '[') + std::string(100000, ']'), "deep").ok());
  auto deep = parse_json_text(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']'), "d");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.errors().items()[0].message.find("nesting deeper") != std::string::npos);
  CHECK(parse_json_text(std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']'), "ok").ok());
  CHECK_FALSE(parse_json_text("{\"x\": 1e999}", "huge").ok());
  CHECK_FALSE(parse_json_text("{\"x\": NaN}", "nan").ok());
  CHECK_FALSE(parse_json_text("", "empty").ok());
  CHECK_FALSE(parse_json_text("{\"x\": \"\xff\xfe\"}", "utf8").ok());
}

TEST_CASE("random and truncated byte sequences never crash the loader", "[json]") {
  std::mt19937 rng(12345);
  const std::string valid = "{\"cluster\": {\"topology\": \"dgx-h100\", \"nodes\": 2}, \"list\": [1, 2.5, true, null]}";
  for (size_t cut = 0; cut < valid.size(); ++cut) {
    auto doc = parse_json_text(valid.substr(0, cut), "cut");
    CHECK_FALSE(doc.ok());
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text(static_cast<size_t>(trial % 97), '\0');
    for (char& c : text) c = static_cast<char>(byte(rng));
    auto doc = parse_json_text(text, "random");
    if (!doc.ok()) CHECK_FALSE(doc.errors().items().empty());
  }
}

TEST_CASE("a missing file is a diagnostic", "[json]") {
  auto doc = load_json_file("/nonexistent/stepsim.json");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.errors().items()[0].message == "cannot open the file");
}
