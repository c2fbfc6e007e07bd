// Kernel cost model against hand computations, and the shipped efficiency files against the
// format's rules (docs/formats/efficiency.md).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "scenario/data_dirs.h"
#include "scenario/gpu_spec.h"
#include "workload/compute_cost.h"

using namespace stepsim;

namespace {

GpuSpec gpu(const std::string& id) {
  auto g = load_gpu(id);
  if (!g.ok()) FAIL(g.errors().to_string());
  return g.value();
}

EfficiencyModel efficiency(const std::string& family) {
  auto e = load_efficiency(family);
  if (!e.ok()) FAIL(e.errors().to_string());
  return e.value();
}

// A small, fully cited model whose numbers the tests below compute by hand.
const char* kModel = R"({
  "family": "hopper",
  "gemm": {"max_efficiency": {"bf16": 0.80, "fp16": 0.80, "fp8": 0.70, "fp32": 0.60, "tf32": 0.75},
           "half_saturation_us": 5},
  "attention": {"efficiency": 0.5},
  "memory": {"bandwidth_efficiency": 0.85},
  "launch_overhead_us": 5,
  "sources": {"gemm": "test", "attention": "test", "memory": "test", "launch_overhead_us": "test"}
})";

Result<EfficiencyModel> parse(const std::string& text) {
  auto doc = parse_json_text(text, "eff.json");
  REQUIRE(doc.ok());
  return parse_efficiency(doc.value());
}

EfficiencyModel model() {
  auto m = parse(kModel);
  if (!m.ok()) FAIL(m.errors().to_string());
  return m.value();
}

ComputeWork gemm(double m, double n, double k, Precision p = Precision::bf16) {
  ComputeWork w;
  w.flops = 2 * m * n * k;
  w.bytes = 2 * (m * k + k * n + m * n);
  w.gemm_m = m, w.gemm_n = n, w.gemm_k = k;
  w.precision = p;
  return w;
}

}  // namespace

TEST_CASE("large bf16 GEMM on H100 SXM: F / (989e12 · 0.80 · F/(F + F_half)) + overhead", "[cost]") {
  const GpuSpec h100 = gpu("h100-sxm5-80gb");
  const EfficiencyModel e = model();
  ComputeWork w = gemm(8192, 8192, 8192);
  const double f = w.flops;
  const double f_half = 5e-6 * 989e12 * 0.80;  // ramp time × achievable rate = 3.956 GFLOP
  const double expected = f / (989e12 * 0.80 * f / (f + f_half)) + 5e-6;
  CHECK(kernel_seconds(h100, e, w) == Approx(expected).epsilon(1e-12));
  CHECK(gemm_efficiency(h100, e, w) == Approx(0.80 * f / (f + f_half)).epsilon(1e-12));
  // Written as a ramp: F / (peak · max) + ramp + overhead.
  CHECK(kernel_seconds(h100, e, w) == Approx(f / (989e12 * 0.80) + 5e-6 + 5e-6).epsilon(1e-12));
  CHECK_FALSE(kernel_cost(h100, e, w).memory_bound());

  // Half-saturation: a GEMM of exactly F_half FLOPs runs at half the large-GEMM efficiency.
  ComputeWork half;
  half.flops = f_half;
  CHECK(gemm_efficiency(h100, e, half) == Approx(0.40).epsilon(1e-12));
}

TEST_CASE("memory-bound op: bytes / (3350e9 · eff) + overhead", "[cost]") {
  const GpuSpec h100 = gpu("h100-sxm5-80gb");
  const EfficiencyModel e = model();
  ComputeWork w;
  w.cls = WorkClass::memory_bound;
  w.bytes = 8e9;
  w.flops = 4e9;  // elementwise math at the 67 TFLOPS CUDA-core rate: 60 us, far below 2.8 ms
  CHECK(kernel_seconds(h100, e, w) == Approx(8e9 / (3350e9 * 0.85) + 5e-6).epsilon(1e-12));
  CHECK(kernel_cost(h100, e, w).memory_bound());
  CHECK(kernel_cost(h100, e, w).compute_s == Approx(4e9 / 67e12).epsilon(1e-12));
}

TEST_CASE("max() picks the binding term", "[cost]") {
  const GpuSpec h100 = gpu("h100-sxm5-80gb");
  const EfficiencyModel e = model();
  // A skinny GEMM (one token row) moves its whole weight matrix for very few FLOPs.
  ComputeWork skinny = gemm(1, 8192, 8192);
  KernelCost c = kernel_cost(h100, e, skinny);
  CHECK(c.memory_bound());
  CHECK(c.seconds() == Approx(skinny.bytes / (3350e9 * 0.85) + 5e-6).epsilon(1e-12));
  // The same bytes with a big FLOP count flip to compute-bound.
  ComputeWork fat = skinny;
  fat.flops = 1e13;
  c = kernel_cost(h100, e, fat);
  CHECK_FALSE(c.memory_bound());
  CHECK(c.seconds() == Approx(1e13 / (989e12 * 0.80) + 5e-6 + 5e-6).epsilon(1e-12));
  // Nothing to do still costs a launch.
  CHECK(kernel_seconds(h100, e, ComputeWork{}) == Approx(5e-6));
}

TEST_CASE("fp8 uses the fp8 rate; fp32 is full FP32, tf32 the tensor rate", "[cost]") {
  const GpuSpec h100 = gpu("h100-sxm5-80gb");
  const EfficiencyModel e = model();
  const double f = 1e13;
  ComputeWork w;
  w.flops = f;
  w.precision = Precision::fp8;
  CHECK(kernel_seconds(h100, e, w) == Approx(f / (1979e12 * 0.70) + 5e-6 + 5e-6).epsilon(1e-12));
  w.precision = Precision::fp32;
  CHECK(kernel_seconds(h100, e, w) == Approx(f / (67e12 * 0.60) + 5e-6 + 5e-6).epsilon(1e-12));
  w.precision = Precision::tf32;
  CHECK(kernel_seconds(h100, e, w) == Approx(f / (494.7e12 * 0.75) + 5e-6 + 5e-6).epsilon(1e-12));
  // Hopper has no fp4: fall back to the bf16 rate and efficiency instead of failing.
  w.precision = Precision::fp4;
  CHECK(kernel_seconds(h100, e, w) == Approx(f / (989e12 * 0.80) + 5e-6 + 5e-6).epsilon(1e-12));
}

TEST_CASE("attention runs at the 16-bit rate times its efficiency, whatever the precision", "[cost]") {
  const EfficiencyModel e = model();
  ComputeWork w;
  w.cls = WorkClass::attention;
  w.flops = 1e12;
  w.precision = Precision::fp8;
  CHECK(kernel_seconds(gpu("h100-sxm5-80gb"), e, w) == Approx(1e12 / (989e12 * 0.5) + 5e-6).epsilon(1e-12));
  // Volta has no bf16: attention falls back to fp16.
  CHECK(kernel_seconds(gpu("v100-sxm3-32gb"), e, w) == Approx(1e12 / (125e12 * 0.5) + 5e-6).epsilon(1e-12));
}

TEST_CASE("the optional shape penalty scales by d / (d + d_half) for the smallest known dimension",
          "[cost]") {
  std::string text = kModel;
  text.replace(text.find("\"half_saturation_us\": 5}"), 24,
               "\"half_saturation_us\": 5, \"min_dimension_penalty\": {\"half_dimension\": 64}}");
  auto m = parse(text);
  REQUIRE(m.ok());
  const GpuSpec h100 = gpu("h100-sxm5-80gb");
  ComputeWork w = gemm(4096, 256, 4096);
  const double base = gemm_efficiency(h100, model(), w);
  CHECK(gemm_efficiency(h100, m.value(), w) == Approx(base * 256.0 / (256 + 64)).epsilon(1e-12));
  w.gemm_n = 0;  // unknown dimensions are ignored
  CHECK(gemm_efficiency(h100, m.value(), w) == Approx(base * 4096.0 / (4096 + 64)).epsilon(1e-12));
}

TEST_CASE("every catalog GPU family has a valid efficiency file that covers its precisions", "[cost]") {
  std::set<std::string> families;
  for (const auto& file : catalog_files(CatalogKind::gpus)) {
    auto doc = load_json_file(file);
    REQUIRE(doc.ok());
    auto g = parse_gpu(doc.value());
    if (!g.ok()) FAIL(g.errors().to_string());
    families.insert(g.value().family);
    const EfficiencyModel e = efficiency(g.value().family);
    for (const auto& [precision, rate] : g.value().dense_flops) {
      INFO(g.value().id << " " << to_string(precision));
      CHECK(e.gemm_max_efficiency.count(precision) == 1);  // no silent fallback for a real card
    }
  }
  CHECK(families.size() >= 7);
  // Every shipped file parses, and its name is its family.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(efficiency_dir())) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    auto doc = load_json_file(entry.path().string());
    REQUIRE(doc.ok());
    auto e = parse_efficiency(doc.value());
    INFO(entry.path().string());
    if (!e.ok()) FAIL(e.errors().to_string());
    CHECK(e.value().family == entry.path().stem().string());
  }
  CHECK(files == static_cast<int>(efficiency_families().size()));
}

namespace {
// The measured kernel efficiency a calibration fit started from ("before the fit: value X" in the
// source, written by tools/calibrate.py), or the value itself when it was not fitted.
double measured_value(const EfficiencyModel& e, const std::string& key, double value) {
  const std::string& source = e.sources.at(key);
  const std::string marker = "before the fit: value ";
  const size_t at = source.find(marker);
  return at == std::string::npos ? value : std::stod(source.substr(at + marker.size()));
}
}  // namespace

TEST_CASE("shipped H100 numbers: MAMF 0.803 and a 6.8 us ramp", "[cost]") {
  const EfficiencyModel e = efficiency("hopper");
  const double bf16 = e.gemm_max_efficiency.at(Precision::bf16), fp8 = e.gemm_max_efficiency.at(Precision::fp8);
  const double mamf_bf16 = measured_value(e, "gemm.max_efficiency.bf16", bf16);
  const double mamf_fp8 = measured_value(e, "gemm.max_efficiency.fp8", fp8);
  CHECK(mamf_bf16 == Approx(0.803));
  CHECK(mamf_fp8 == Approx(0.709));
  CHECK(e.gemm_max_efficiency.count(Precision::fp4) == 0);
  // A calibration fit scales the family's tensor-core efficiencies by one factor (docs/validation.md).
  CHECK(bf16 / mamf_bf16 == Approx(fp8 / mamf_fp8).epsilon(0.005));
  // XLA's sm_90 table measured a 4096^3 bf16 GEMM at 783 TFLOPS; the kernel model with the
  // measured maximum gives 764 (2.5 % slow).
  EfficiencyModel measured = e;
  measured.gemm_max_efficiency[Precision::bf16] = mamf_bf16;
  ComputeWork w = gemm(4096, 4096, 4096);
  CHECK(gemm_efficiency(gpu("h100-sxm5-80gb"), measured, w) * 989 == Approx(764).epsilon(0.01));
}

TEST_CASE("efficiency files: uncited numbers, unknown keys and bad values are errors", "[cost]") {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    auto m = parse(text);
    REQUIRE_FALSE(m.ok());
    INFO(m.errors().to_string());
    CHECK(m.errors().to_string().find(needle) != std::string::npos);
  };
  auto edit = [](std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  expect_error(edit(kModel, "\"memory\": \"test\", ", ""), "no citation");
  expect_error(edit(kModel, "\"launch_overhead_us\": 5,", "\"launch_overhead_us\": 5, \"lanch\": 1,"),
               "unknown key \"lanch\"");
  expect_error(edit(kModel, "\"efficiency\": 0.5", "\"efficency\": 0.5"), "did you mean \"efficiency\"");
  expect_error(edit(kModel, "\"bf16\": 0.80", "\"bf16\": 1.3"), "gemm.max_efficiency.bf16");
  expect_error(edit(kModel, "\"family\": \"hopper\"", "\"family\": \"hoper\""), "did you mean \"hopper\"");
  expect_error(edit(kModel, "\"gemm\": \"test\"", "\"gemm.max_eff\": \"test\""), "names no figure");
  expect_error(edit(edit(kModel, "\"bf16\": 0.80, ", ""), "\"fp16\": 0.80, ", ""), "neither bf16 nor fp16");
  expect_error(edit(kModel, "\"half_saturation_us\": 5", "\"half_saturation_gflop\": 2"), "half_saturation");
  // A citation for a parent covers every number below it; null needs no citation.
  CHECK(parse(edit(kModel, "\"fp8\": 0.70", "\"fp8\": null")).ok());
  // load_efficiency rejects an unknown family with a hint.
  auto missing = load_efficiency("hoppper");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.errors().to_string().find("did you mean \"hopper\"") != std::string::npos);
}
