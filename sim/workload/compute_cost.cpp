#include "workload/compute_cost.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

namespace {

constexpr double kMicro = 1e-6;

// --- the sources rule (same as the GPU catalog's): every number is cited at its path or above --

bool covered(const std::map<std::string, std::string>& sources, std::string path) {
  while (true) {
    if (sources.count(path)) return true;
    size_t cut = path.find_last_of('.');
    if (cut == std::string::npos) return false;
    path = path.substr(0, cut);
  }
}

void check_cited(const JsonDocument& doc, const Json& node, const std::string& path,
                 const std::map<std::string, std::string>& sources, Diagnostics& diags) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (path.empty() && (it.key() == "family" || it.key() == "sources")) continue;
      check_cited(doc, it.value(), join_path(path, it.key()), sources, diags);
    }
    return;
  }
  if (node.is_null() || covered(sources, path)) return;
  diags.add({doc.file, doc.line_of(path), path, "this figure has no citation in \"sources\"",
             "add \"sources\": {\"" + path + "\": \"<where the number comes from>\"} (or cite its parent)"});
}

// A citation whose key names nothing would silently cite nothing (a typo such as "gemm.max_eff").
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

// --- rates --------------------------------------------------------------------------------------

struct RatePair {
  double flops_per_s = 0;
  double max_efficiency = 0;
};

std::optional<RatePair> pair_for(const GpuSpec& gpu, const EfficiencyModel& eff, Precision p) {
  auto rate = gpu.peak_flops(p);
  auto it = eff.gemm_max_efficiency.find(p);
  if (!rate || it == eff.gemm_max_efficiency.end()) return std::nullopt;
  return RatePair{*rate, it->second};
}

double sixteen_bit_rate(const GpuSpec& gpu) {
  for (Precision p : {Precision::bf16, Precision::fp16, Precision::fp32})
    if (auto r = gpu.peak_flops(p)) return *r;
  return 0;
}

// The requested precision when both the card and the file have it, else the 16-bit pair. Only a
// hand-made GpuSpec or model can miss every 16-bit entry; parse_gpu/parse_efficiency require one.
RatePair gemm_pair(const GpuSpec& gpu, const EfficiencyModel& eff, Precision p) {
  for (Precision q : {p, Precision::bf16, Precision::fp16})
    if (auto pair = pair_for(gpu, eff, q)) return *pair;
  double e = 0;
  for (Precision q : {Precision::bf16, Precision::fp16})
    if (eff.gemm_max_efficiency.count(q)) { e = eff.gemm_max_efficiency.at(q); break; }
  return {sixteen_bit_rate(gpu), e};
}

double divide(double work, double rate) {
  if (work <= 0) return 0;
  if (rate <= 0) return std::numeric_limits<double>::infinity();
  return work / rate;
}

}  // namespace

const std::vector<std::string>& efficiency_families() {
  static const std::vector<std::string> families = {"volta",     "ampere",        "ada",  "hopper",
                                                    "blackwell", "blackwell-pro", "cdna3"};
  return families;
}

std::string efficiency_dir() {
  return (std::filesystem::path(data_root()) / "topologies" / "efficiency").string();
}

Result<EfficiencyModel> parse_efficiency(const JsonDocument& doc) {
  Diagnostics diags;
  EfficiencyModel m;
  m.file = doc.file;
  FieldReader r(doc, doc.root, "", diags);
  r.require("family");
  m.family = r.choice("family", "", efficiency_families());

  r.require("gemm");
  if (const Json* g = r.object_member("gemm")) {
    FieldReader gr(doc, *g, "gemm", diags);
    gr.require("max_efficiency");
    if (const Json* me = gr.object_member("max_efficiency")) {
      FieldReader mr(doc, *me, "gemm.max_efficiency", diags);
      for (Precision p : kAllPrecisions)
        if (auto v = mr.optional_number(to_string(p), 0.01, 1.0)) m.gemm_max_efficiency[p] = *v;
      mr.finish();
      if (!m.gemm_max_efficiency.count(Precision::bf16) && !m.gemm_max_efficiency.count(Precision::fp16))
        gr.error("max_efficiency", "neither bf16 nor fp16 has an efficiency",
                 "give at least one 16-bit value: it is the fallback for every other precision");
    }
    m.gemm_half_saturation_s = gr.required_number("half_saturation_us", 0, 1e4) * kMicro;
    if (const Json* pen = gr.object_member("min_dimension_penalty")) {
      FieldReader pr(doc, *pen, "gemm.min_dimension_penalty", diags);
      m.gemm_min_dimension_half = pr.required_number("half_dimension", 0, 1e6);
      pr.finish();
    }
    gr.finish();
  }
  r.require("attention");
  if (const Json* a = r.object_member("attention")) {
    FieldReader ar(doc, *a, "attention", diags);
    m.attention_efficiency = ar.required_number("efficiency", 0.01, 1.0);
    ar.finish();
  }
  r.require("memory");
  if (const Json* mem = r.object_member("memory")) {
    FieldReader mr(doc, *mem, "memory", diags);
    m.memory_bandwidth_efficiency = mr.required_number("bandwidth_efficiency", 0.01, 1.0);
    mr.finish();
  }
  m.launch_overhead_s = r.required_number("launch_overhead_us", 0, 1e4) * kMicro;

  r.require("sources");
  if (const Json* s = r.object_member("sources")) {
    for (auto it = s->begin(); it != s->end(); ++it) {
      const std::string key = "sources." + it.key();
      if (!it->is_string() || it->get<std::string>().empty())
        r.error(key, "a citation must be a non-empty string", "");
      else if (!names_a_value(doc.root, it.key()) || it.key().rfind("family", 0) == 0 ||
               it.key().rfind("sources", 0) == 0)
        r.error(key, "\"" + it.key() + "\" names no figure in this file",
                "use the dotted path of a number or of an object above it, e.g. \"gemm.max_efficiency.bf16\"");
      else
        m.sources[it.key()] = it->get<std::string>();
    }
  }
  r.finish();
  if (diags.ok()) check_cited(doc, doc.root, "", m.sources, diags);
  if (!diags.ok()) return diags;
  return m;
}

Result<EfficiencyModel> load_efficiency(const std::string& family) {
  Diagnostics d;
  const auto& families = efficiency_families();
  if (std::find(families.begin(), families.end(), family) == families.end()) {
    std::string hint = closest_match(family, families);
    d.add({"", 0, "", "no efficiency model for GPU family \"" + family + "\"",
           hint.empty() ? "families: volta, ampere, ada, hopper, blackwell, blackwell-pro, cdna3"
                        : "did you mean \"" + hint + "\"?"});
    return d;
  }
  const std::string path = (std::filesystem::path(efficiency_dir()) / (family + ".json")).string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    d.add({path, 0, "", "the efficiency file for family \"" + family + "\" is missing",
           "create it (docs/formats/efficiency.md)"});
    return d;
  }
  auto doc = load_json_file(path);
  if (!doc.ok()) return doc.errors();
  auto model = parse_efficiency(doc.value());
  if (model.ok() && model.value().family != family) {
    d.add({path, doc.value().line_of("family"), "family",
           "the file is named for \"" + family + "\" but says \"" + model.value().family + "\"",
           "make the file name and the family field agree"});
    return d;
  }
  return model;
}

double gemm_efficiency(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  if (work.flops <= 0) return 0;
  const RatePair pair = gemm_pair(gpu, eff, work.precision);
  // F_half = ramp time × achievable rate, so eff = max · F / (F + F_half).
  const double f_half = eff.gemm_half_saturation_s * pair.flops_per_s * pair.max_efficiency;
  double e = pair.max_efficiency * work.flops / (work.flops + f_half);
  if (eff.gemm_min_dimension_half) {
    double d = 0;  // smallest known dimension: thin GEMMs fill few tiles and re-read operands
    for (double x : {work.gemm_m, work.gemm_n, work.gemm_k})
      if (x > 0) d = d > 0 ? std::min(d, x) : x;
    if (d > 0) e *= d / (d + *eff.gemm_min_dimension_half);
  }
  return e;
}

KernelCost kernel_cost(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  KernelCost c;
  switch (work.cls) {
    case WorkClass::gemm: {
      const double rate = gemm_pair(gpu, eff, work.precision).flops_per_s;
      c.compute_s = divide(work.flops, rate * gemm_efficiency(gpu, eff, work));
      break;
    }
    case WorkClass::attention:
      c.compute_s = divide(work.flops, sixteen_bit_rate(gpu) * eff.attention_efficiency);
      break;
    case WorkClass::memory_bound: {
      // Elementwise math runs on CUDA cores; its peak is a bound, not a calibrated rate.
      auto fp32 = gpu.peak_flops(Precision::fp32);
      c.compute_s = divide(work.flops, fp32 ? *fp32 : sixteen_bit_rate(gpu));
      break;
    }
  }
  c.memory_s = divide(work.bytes, gpu.memory_bandwidth * eff.memory_bandwidth_efficiency);
  c.overhead_s = eff.launch_overhead_s;
  return c;
}

double kernel_seconds(const GpuSpec& gpu, const EfficiencyModel& eff, const ComputeWork& work) {
  return kernel_cost(gpu, eff, work).seconds();
}

}  // namespace stepsim
