#include "scenario/cost_spec.h"

#include <fmt/format.h>

#include "scenario/citations.h"
#include "scenario/data_dirs.h"

namespace stepsim {

namespace {

constexpr double kMaxUsd = 1e9;

std::optional<SourcedPrice> catalog_price(const GpuSpec& gpu, const std::string& kind) {
  for (const GpuPrice& p : gpu.prices) {
    if (p.kind != kind) continue;
    std::string who = p.provider.empty() ? "" : p.provider + ", ";
    return SourcedPrice{p.usd, fmt::format("catalog {}: {}{} ({})", gpu.id, who, p.date, p.source)};
  }
  return std::nullopt;
}

std::optional<SourcedPrice> scenario_price(const std::optional<double>& v, const std::string& key) {
  if (!v) return std::nullopt;
  return SourcedPrice{*v, "scenario cost." + key};
}

}  // namespace

std::string cost_defaults_path() { return data_root() + "/topologies/framework/cost-defaults.json"; }

Result<CostDefaults> parse_cost_defaults(const JsonDocument& doc) {
  Diagnostics diags;
  FieldReader r(doc, doc.root, "", diags);
  CostDefaults d;
  d.amortization_years = r.required_number("amortization_years", 0.1, 100);
  d.utilization = r.required_number("utilization", 0.001, 1);
  d.electricity_usd_per_kwh = r.required_number("electricity_usd_per_kwh", 0, 100);
  d.pue = r.required_number("pue", 1, 10);
  d.node_overhead_w_per_gpu = r.required_number("node_overhead_w_per_gpu", 0, 1e5);
  d.purchase_usd_per_node = r.required_number("purchase_usd_per_node", 0, kMaxUsd);
  d.gpu_idle_fraction_of_tdp = r.required_number("gpu_idle_fraction_of_tdp", 0, 1);
  d.tokens = r.required_number("tokens", 1, 1e18);
  const auto sources = read_sources(r);
  r.finish();
  if (diags.ok()) check_citations(doc, doc.root, "", sources, {"sources"}, diags);
  for (const auto& [path, text] : sources)
    if (!names_a_value(doc.root, path))
      diags.add({doc.file, doc.line_of("sources." + path), "sources." + path,
                 "cites \"" + path + "\", which is not a field of this file", "remove it or fix the key"});
  if (!diags.ok()) return diags;
  return d;
}

Result<CostDefaults> load_cost_defaults() {
  auto doc = load_json_file(cost_defaults_path());
  if (!doc.ok()) return doc.errors();
  return parse_cost_defaults(doc.value());
}

CostOverrides read_cost_overrides(FieldReader& r) {
  CostOverrides o;
  o.cloud_usd_per_gpu_hour = r.optional_number("cloud_usd_per_gpu_hour", 0, 1e5);
  o.purchase_usd_per_gpu = r.optional_number("purchase_usd_per_gpu", 0, kMaxUsd);
  o.purchase_usd_per_node = r.optional_number("purchase_usd_per_node", 0, kMaxUsd);
  o.amortization_years = r.optional_number("amortization_years", 0.1, 100);
  o.utilization = r.optional_number("utilization", 0.001, 1);
  o.electricity_usd_per_kwh = r.optional_number("electricity_usd_per_kwh", 0, 100);
  o.pue = r.optional_number("pue", 1, 10);
  o.node_overhead_w = r.optional_number("node_overhead_w", 0, 1e7);
  o.gpu_load_w = r.optional_number("gpu_load_w", 1, 1e5);
  o.gpu_idle_w = r.optional_number("gpu_idle_w", 0, 1e5);
  o.tokens = r.optional_number("tokens", 1, 1e18);
  return o;
}

CostSpec resolve_cost(const CostOverrides& o, const CostDefaults& d, const GpuSpec& gpu, int gpus_per_node,
                      const JsonDocument& doc, Diagnostics& diags) {
  CostSpec c;
  c.cloud_usd_per_gpu_hour = o.cloud_usd_per_gpu_hour ? scenario_price(o.cloud_usd_per_gpu_hour, "cloud_usd_per_gpu_hour")
                                                      : catalog_price(gpu, "cloud_gpu_hour");
  c.purchase_usd_per_gpu = o.purchase_usd_per_gpu ? scenario_price(o.purchase_usd_per_gpu, "purchase_usd_per_gpu")
                                                  : catalog_price(gpu, "purchase");
  c.purchase_usd_per_node = o.purchase_usd_per_node.value_or(d.purchase_usd_per_node);
  c.amortization_years = o.amortization_years.value_or(d.amortization_years);
  c.utilization = o.utilization.value_or(d.utilization);
  c.electricity_usd_per_kwh = o.electricity_usd_per_kwh.value_or(d.electricity_usd_per_kwh);
  c.pue = o.pue.value_or(d.pue);
  c.node_overhead_w = o.node_overhead_w.value_or(d.node_overhead_w_per_gpu * gpus_per_node);
  c.tokens = o.tokens.value_or(d.tokens);
  c.gpu_load_w = o.gpu_load_w.value_or(gpu.tdp_w);
  if (o.gpu_idle_w) {
    c.gpu_idle_w = *o.gpu_idle_w;
    c.gpu_idle_origin = "scenario cost.gpu_idle_w";
  } else if (gpu.has_idle_w) {
    c.gpu_idle_w = gpu.idle_w;
    c.gpu_idle_origin = "catalog " + gpu.id;
  } else {
    c.gpu_idle_w = d.gpu_idle_fraction_of_tdp * c.gpu_load_w;
    c.gpu_idle_origin = fmt::format("default: {} × load power (cost-defaults.json; {} has no power.idle_w)",
                                    d.gpu_idle_fraction_of_tdp, gpu.id);
  }
  if (c.gpu_idle_w > c.gpu_load_w) {
    const std::string path = o.gpu_idle_w ? "cost.gpu_idle_w" : "cost.gpu_load_w";
    diags.add({doc.file, doc.line_of(path), path,
               fmt::format("GPU idle power {} W exceeds its power under load {} W", c.gpu_idle_w, c.gpu_load_w),
               "give cost.gpu_idle_w at most cost.gpu_load_w"});
  }
  return c;
}

}  // namespace stepsim
