#include "scenario/efficiency_spec.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "scenario/citations.h"
#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

namespace {
constexpr double kMicro = 1e-6;
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
  if (diags.ok()) check_citations(doc, doc.root, "", m.sources, {"family", "sources"}, diags);
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

}  // namespace stepsim
