// Sweep spec parsing (docs/formats/sweep.md): strict errors with file:line: path + fix, and
// deterministic enumeration (product and zip counts, order, ids, duplicates, skip rules).
#include <catch2/catch.hpp>

#include <set>

#include "scenario/sweep_spec.h"

using namespace stepsim;

namespace {

Result<SweepSpec> spec_of(const std::string& text) {
  auto d = parse_json_text(text, "spec.json");
  REQUIRE(d.ok());
  return parse_sweep_spec(d.value());
}

SweepSpec valid(const std::string& text) {
  auto s = spec_of(text);
  INFO(s.errors().to_string());
  REQUIRE(s.ok());
  return s.value();
}

std::string errors_of(const std::string& text) {
  auto s = spec_of(text);
  REQUIRE_FALSE(s.ok());
  return s.errors().to_string();
}

std::string axes_of(const SweepPoint& p) {
  std::string s;
  for (const auto& [axis, label] : p.axes) s += axis + "=" + label + ";";
  return s;
}

const char* kBase = R"("base": "llama3-70b-lora-h100-pcie")";

}  // namespace

TEST_CASE("a product sweep has the product of the axis lengths, first axis outermost", "[sweep]") {
  auto spec = valid(std::string("{") + kBase + R"(,
    "axes": [
      {"path": "training.sharding", "values": ["zero2", "zero3"]},
      {"path": "training.micro_batch", "values": [1, 2, 4]},
      {"name": "box", "values": [{"label": "a", "set": {"cluster.nodes": 1}},
                                  {"label": "b", "set": {"cluster.nodes": 2, "training.tp": 2}}]}
    ]})");
  auto points = enumerate_sweep(spec);
  REQUIRE(points.size() == 2 * 3 * 2);
  CHECK(raw_point_count(spec) == 12);
  CHECK(axes_of(points[0]) == "training.sharding=zero2;training.micro_batch=1;box=a;");
  CHECK(axes_of(points[1]) == "training.sharding=zero2;training.micro_batch=1;box=b;");
  CHECK(axes_of(points[2]) == "training.sharding=zero2;training.micro_batch=2;box=a;");
  CHECK(axes_of(points[11]) == "training.sharding=zero3;training.micro_batch=4;box=b;");
  std::set<std::string> ids;
  for (size_t i = 0; i < points.size(); ++i) {
    CHECK(points[i].index == i);
    ids.insert(points[i].id);
  }
  CHECK(ids.size() == points.size());
  // The bundle value "b" sets two paths; overrides come sorted by path with JSON values.
  const auto& o = points[1].overrides;
  REQUIRE(o.size() == 4);
  CHECK(o[0].path == "cluster.nodes");
  CHECK(o[0].value == "2");
  CHECK(o[1].path == "training.micro_batch");
  CHECK(o[2].path == "training.sharding");
  CHECK(o[2].value == "\"zero2\"");
  CHECK(o[3].path == "training.tp");
}

TEST_CASE("ids depend on the overrides only, not on the axis order", "[sweep]") {
  auto ab = valid(std::string("{") + kBase + R"(, "axes": [
      {"path": "training.tp", "values": [1, 2]}, {"path": "training.sharding", "values": ["zero2", "zero3"]}]})");
  auto ba = valid(std::string("{") + kBase + R"(, "axes": [
      {"path": "training.sharding", "values": ["zero2", "zero3"]}, {"path": "training.tp", "values": [1, 2]}]})");
  std::set<std::string> a, b;
  for (const auto& p : enumerate_sweep(ab)) a.insert(p.id);
  for (const auto& p : enumerate_sweep(ba)) b.insert(p.id);
  CHECK(a == b);
  // FNV-1a 64: the empty input gives the offset basis; "training.tp=2\n" computed independently
  // (python: h ^= byte; h *= 0x100000001b3 mod 2^64).
  CHECK(point_id({}) == "cbf29ce484222325");
  CHECK(point_id({{"training.tp", "2"}}) == "b6aba45e8d3a61ca");
}

TEST_CASE("zip pairs the i-th values; groups add up and duplicates are kept once", "[sweep]") {
  auto spec = valid(std::string("{") + kBase + R"(,
    "groups": [
      {"combine": "zip", "axes": [{"path": "training.tp", "values": [1, 2, 4]},
                                   {"path": "training.micro_batch", "values": [4, 2, 1]}]},
      {"axes": [{"path": "training.tp", "values": [1, 8]}]}
    ]})");
  auto points = enumerate_sweep(spec);
  CHECK(raw_point_count(spec) == 3 + 2);
  REQUIRE(points.size() == 5);
  CHECK(axes_of(points[0]) == "training.tp=1;training.micro_batch=4;");
  CHECK(axes_of(points[2]) == "training.tp=4;training.micro_batch=1;");
  CHECK(axes_of(points[3]) == "training.tp=1;");
  CHECK(spec.axis_names() == std::vector<std::string>{"training.tp", "training.micro_batch"});

  // The same overrides reached twice make one point.
  auto dup = valid(std::string("{") + kBase + R"(, "groups": [
      {"axes": [{"path": "training.tp", "values": [1, 2]}]},
      {"axes": [{"path": "training.tp", "values": [2, 4]}]}]})");
  CHECK(raw_point_count(dup) == 4);
  CHECK(enumerate_sweep(dup).size() == 3);
}

TEST_CASE("ranges are inclusive, integer when all bounds are", "[sweep]") {
  auto spec = valid(std::string("{") + kBase + R"(, "axes": [
      {"path": "training.micro_batch", "range": {"from": 1, "to": 8, "step": 3}},
      {"path": "cost.utilization", "range": {"from": 0.1, "to": 0.3, "step": 0.1}}]})");
  const auto& tp = spec.groups[0].axes[0].values;
  REQUIRE(tp.size() == 3);  // 1, 4, 7
  CHECK(tp[2].label == "7");
  CHECK(tp[2].set[0].second.is_number_integer());
  const auto& u = spec.groups[0].axes[1].values;
  REQUIRE(u.size() == 3);  // 0.1, 0.2, 0.3 (not 0.30000000000000004)
  CHECK(u[2].label == "0.3");
  auto down = valid(std::string("{") + kBase + R"(, "axes": [{"path": "training.tp", "range": {"from": 8, "to": 1, "step": -2}}]})");
  CHECK(down.groups[0].axes[0].values.size() == 4);  // 8, 6, 4, 2
}

TEST_CASE("skip rules drop matching points with their reason", "[sweep]") {
  auto spec = valid(std::string("{") + kBase + R"(,
    "axes": [{"path": "training.sharding", "values": ["zero2", "zero3"]},
             {"path": "training.finetune", "values": ["full", "lora", "qlora"]}],
    "skip": [{"when": {"training.sharding": "zero2", "training.finetune": ["full", "lora"]},
              "reason": "the unsharded weights do not fit"}]})");
  auto points = enumerate_sweep(spec);
  REQUIRE(points.size() == 6);
  size_t skipped = 0;
  for (const auto& p : points)
    if (p.skip_reason) {
      ++skipped;
      CHECK(*p.skip_reason == "the unsharded weights do not fit");
      CHECK(axes_of(p).find("training.sharding=zero2") != std::string::npos);
      CHECK(axes_of(p).find("qlora") == std::string::npos);
    }
  CHECK(skipped == 2);
}

TEST_CASE("sweep spec errors name the file, line, path and fix", "[sweep]") {
  // Unknown key, with a hint.
  auto e = errors_of(std::string("{") + kBase + R"(,
    "axis": []})");
  CHECK(e.find("spec.json:2: axis: unknown key") != std::string::npos);
  CHECK(e.find("did you mean \"axes\"") != std::string::npos);
  // Missing base; a base that does not exist.
  e = errors_of(R"({"axes": [{"path": "training.tp", "values": [1]}]})");
  CHECK(e.find("missing required key \"base\"") != std::string::npos);
  e = errors_of(R"({"base": "no-such-scenario",
    "axes": [{"path": "training.tp", "values": [1]}]})");
  CHECK(e.find("spec.json:1: base: no scenario \"no-such-scenario\"") != std::string::npos);
  // Zip of unequal lengths.
  e = errors_of(std::string("{") + kBase + R"(, "combine": "zip",
    "axes": [{"path": "training.tp", "values": [1, 2]},
             {"path": "training.micro_batch", "values": [1, 2, 4]}]})");
  CHECK(e.find("combine: zip needs axes of one length") != std::string::npos);
  CHECK(e.find("fix:") != std::string::npos);
  // A bad combine value, an empty axis, a repeated value, a range that never arrives.
  CHECK(errors_of(std::string("{") + kBase + R"(, "combine": "cross", "axes": [{"path": "training.tp", "values": [1]}]})")
            .find("\"cross\" is not one of: product, zip") != std::string::npos);
  CHECK(errors_of(std::string("{") + kBase + R"(, "axes": [{"path": "training.tp", "values": []}]})")
            .find("axes[0].values: an axis with no values") != std::string::npos);
  CHECK(errors_of(std::string("{") + kBase + R"(, "axes": [{"path": "training.tp", "values": [2, 2]}]})")
            .find("\"2\" appears twice") != std::string::npos);
  CHECK(errors_of(std::string("{") + kBase + R"(, "axes": [{"path": "training.tp", "range": {"from": 1, "to": 8, "step": -1}}]})")
            .find("axes[0].range.step: a range from 1 to 8 never arrives") != std::string::npos);
  // A bundle value without "set"; an axis with neither path nor name.
  CHECK(errors_of(std::string("{") + kBase + R"(, "axes": [{"name": "box", "values": [{"label": "a"}]}]})")
            .find("axes[0].values[0].set: missing required key") != std::string::npos);
  e = errors_of(std::string("{") + kBase + R"(, "axes": [{"values": [1]}]})");
  CHECK(e.find("axes[0].name: an axis needs") != std::string::npos);
  // Skip rules must name axes and values of the sweep.
  e = errors_of(std::string("{") + kBase + R"(, "axes": [{"path": "training.tp", "values": [1, 2]}],
    "skip": [{"when": {"training.pt": 1}, "reason": "x"}, {"when": {"training.tp": 3}, "reason": "y"}]})");
  CHECK(e.find("skip[0].when.training.pt: \"training.pt\" is not an axis") != std::string::npos);
  CHECK(e.find("did you mean \"training.tp\"") != std::string::npos);
  CHECK(e.find("\"3\" is not a value of axis \"training.tp\"") != std::string::npos);
}

TEST_CASE("the shipped seed sweep enumerates 3 boxes x 3 fine-tunes x 2 shardings", "[sweep]") {
  auto files = sweep_spec_files();
  REQUIRE_FALSE(files.empty());
  for (const auto& f : files) {
    auto spec = load_sweep_spec(f);
    INFO(f << "\n" << spec.errors().to_string());
    REQUIRE(spec.ok());
    std::string summary;
    CHECK(check_sweep(spec.value(), &summary).ok());
    if (f.find("h100-pcie-vs-rtx-pro-6000") != std::string::npos) CHECK(enumerate_sweep(spec.value()).size() == 18);
  }
}
