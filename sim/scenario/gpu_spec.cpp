#include "scenario/gpu_spec.h"

#include <cmath>
#include <limits>

#include "scenario/citations.h"
#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

constexpr double kGB = 1e9;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kTera = 1e12;

std::string to_string(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
    case Precision::fp8: return "fp8";
    case Precision::fp4: return "fp4";
  }
  return "?";
}

std::optional<Precision> parse_precision(const std::string& s) {
  for (Precision p : kAllPrecisions)
    if (to_string(p) == s) return p;
  return std::nullopt;
}

// YYYY, YYYY-MM or YYYY-MM-DD with a plausible month and day.
bool is_price_date(const std::string& d) {
  auto digits = [&](size_t from, size_t n) {
    if (d.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i)
      if (d[i] < '0' || d[i] > '9') return false;
    return true;
  };
  if (!digits(0, 4)) return false;
  if (d.size() == 4) return true;
  if (d[4] != '-' || !digits(5, 2)) return false;
  const int month = std::stoi(d.substr(5, 2));
  if (month < 1 || month > 12) return false;
  if (d.size() == 7) return true;
  if (d.size() != 10 || d[7] != '-' || !digits(8, 2)) return false;
  const int day = std::stoi(d.substr(8, 2));
  return day >= 1 && day <= 31;
}

std::optional<double> GpuSpec::peak_flops(Precision p) const {
  auto it = dense_flops.find(p);
  if (it == dense_flops.end()) return std::nullopt;
  return it->second;
}

Result<GpuSpec> parse_gpu(const JsonDocument& doc) {
  Diagnostics diags;
  GpuSpec g;
  g.file = doc.file;
  FieldReader r(doc, doc.root, "", diags);
  g.id = r.required_string("id");
  g.name = r.required_string("name");
  g.vendor = r.choice("vendor", "nvidia", {"nvidia", "amd"});
  r.require("family");
  g.family = r.choice("family", "", {"volta", "ampere", "ada", "hopper", "blackwell", "blackwell-pro", "cdna3"});
  g.form_factor = r.choice("form_factor", "pcie", {"sxm", "pcie", "superchip", "oam"});

  r.require("memory");
  if (const Json* m = r.object_member("memory")) {
    FieldReader mr(doc, *m, "memory", diags);
    // Vendors quote device memory in binary units: an "80 GB" H100 has 80 GiB (nvidia-smi
    // shows 81559 MiB of it, docs/reference/memory.md).
    g.memory_bytes = mr.required_number("capacity_gb", 1, 1e5) * kGiB;
    g.cuda_total_bytes = mr.number_or("cuda_total_gib", 0, 0.5, 1e5) * kGiB;
    if (g.cuda_total_bytes > g.memory_bytes)
      mr.error("cuda_total_gib", "the CUDA-visible total exceeds capacity_gb",
               "cuda_total_gib is what torch reports as the total capacity, at most the card's memory");
    g.memory_type = mr.required_string("type");
    g.memory_bandwidth = mr.required_number("bandwidth_gbps", 1, 1e6) * kGB;
    g.bus_bits = static_cast<int>(mr.integer_or("bus_bits", 0, 0, 1 << 16));
    mr.finish();
  }
  r.require("dense_tflops");
  if (const Json* t = r.object_member("dense_tflops")) {
    FieldReader tr(doc, *t, "dense_tflops", diags);
    for (Precision p : kAllPrecisions) {
      if (auto v = tr.optional_number(to_string(p), 0.001, 1e6)) g.dense_flops[p] = *v * kTera;
    }
    tr.finish();
    if (!g.dense_flops.count(Precision::bf16) && !g.dense_flops.count(Precision::fp16))
      r.error("dense_tflops", "the card has neither a bf16 nor an fp16 rate", "give at least one 16-bit rate");
  }
  g.sms = static_cast<int>(r.required_integer("sms", 1, 100000));
  g.l2_bytes = r.number_or("l2_mb", 0, 0, 1e6) * 1e6;
  g.boost_clock_mhz = r.number_or("boost_clock_mhz", 0, 0, 1e5);
  r.require("power");
  if (const Json* p = r.object_member("power")) {
    FieldReader pr(doc, *p, "power", diags);
    g.tdp_w = pr.required_number("tdp_w", 1, 1e5);
    if (auto idle = pr.optional_number("idle_w", 0, 1e5)) {
      g.idle_w = *idle;
      g.has_idle_w = true;
    }
    pr.finish();
    if (g.idle_w > g.tdp_w) pr.error("idle_w", "idle power exceeds the TDP", "check both figures");
  }
  r.require("host_link");
  if (const Json* h = r.object_member("host_link")) {
    FieldReader hr(doc, *h, "host_link", diags);
    g.host_link_kind = hr.choice("kind", "pcie", {"pcie", "nvlink-c2c"});
    if (g.host_link_kind == "pcie") {
      g.pcie_gen = static_cast<int>(hr.required_integer("pcie_gen", 1, 7));
      g.pcie_lanes = static_cast<int>(hr.required_integer("lanes", 1, 32));
    }
    g.host_bandwidth = hr.required_number("bandwidth_gbps", 0.1, 1e5) * kGB;
    hr.finish();
  }
  if (const Json* n = r.object_member("nvlink")) {
    FieldReader nr(doc, *n, "nvlink", diags);
    NvlinkSpec nv;
    nv.generation = static_cast<int>(nr.required_integer("generation", 0, 10));
    nv.bandwidth = nr.required_number("bandwidth_gbps", 1, 1e6) * kGB;
    nv.scope = nr.choice("scope", "switch", {"switch", "bridge-pairs", "bridge-4way", "xgmi-mesh"});
    nr.finish();
    g.nvlink = nv;
  }
  r.require("pcie_p2p");
  g.pcie_p2p = r.boolean_or("pcie_p2p", false);
  if (const Json* prices = r.array_member("prices")) {
    for (size_t i = 0; i < prices->size(); ++i) {
      FieldReader pr(doc, (*prices)[i], index_path("prices", i), diags);
      GpuPrice price;
      price.kind = pr.choice("kind", "purchase", {"purchase", "cloud_gpu_hour"});
      price.usd = pr.required_number("usd", 0.01, 1e7);
      price.date = pr.required_string("date");
      if (!price.date.empty() && !is_price_date(price.date))
        pr.error("date", "\"" + price.date + "\" is not a date",
                 "write YYYY-MM-DD, or YYYY-MM / YYYY when the source gives no day");
      price.provider = pr.string_or("provider", "");
      price.source = pr.required_string("source");
      pr.finish();
      g.prices.push_back(price);
    }
  }
  g.sources = read_sources(r);
  r.finish();
  if (diags.ok())
    check_citations(doc, doc.root, "", g.sources, {"id", "name", "vendor", "family", "form_factor", "sources", "prices"},
                    diags);
  if (!diags.ok()) return diags;
  return g;
}

Result<GpuSpec> load_gpu(const std::string& ref, const std::string& base_dir) {
  auto path = resolve_reference(CatalogKind::gpus, ref, base_dir);
  if (!path) {
    Diagnostics d;
    std::string hint = closest_match(ref, catalog_ids(CatalogKind::gpus));
    d.add({"", 0, "", "no GPU \"" + ref + "\" in the catalog (" + catalog_dir(CatalogKind::gpus) + ")",
           hint.empty() ? "run `stepsim catalog gpus` for the list" : "did you mean \"" + hint + "\"?"});
    return d;
  }
  auto doc = load_json_file(*path);
  if (!doc.ok()) return doc.errors();
  return parse_gpu(doc.value());
}

}  // namespace stepsim
