// Cost and energy inputs of a scenario (model: docs/cost-and-energy.md).
//
// Three layers, the later one wins: topologies/framework/cost-defaults.json (cited defaults),
// the GPU catalog (dated purchase and cloud prices, power under load and idle), the scenario's
// optional "cost" section (docs/formats/scenario.md#cost; unknown keys are errors).
// resolve_cost() merges them into a CostSpec; a price that no layer gives stays absent and the
// report says the cost is unavailable. The scenario stage owns this; the report stage reads
// the resolved CostSpec and never loads files.
#pragma once

#include <optional>
#include <string>

#include "scenario/field_reader.h"
#include "scenario/gpu_spec.h"
#include "scenario/json_document.h"

namespace stepsim {

struct CostDefaults {
  double amortization_years = 0;
  double utilization = 0;
  double electricity_usd_per_kwh = 0;
  double pue = 0;
  double node_overhead_w_per_gpu = 0;
  double purchase_usd_per_node = 0;
  double gpu_idle_fraction_of_tdp = 0;
  double tokens = 0;
};

Result<CostDefaults> parse_cost_defaults(const JsonDocument& doc);
Result<CostDefaults> load_cost_defaults();  // the shipped file
std::string cost_defaults_path();

// The scenario's "cost" section as written: absent keys take the catalog's or the defaults' value.
struct CostOverrides {
  std::optional<double> cloud_usd_per_gpu_hour, purchase_usd_per_gpu, purchase_usd_per_node;
  std::optional<double> amortization_years, utilization, electricity_usd_per_kwh, pue;
  std::optional<double> node_overhead_w, gpu_load_w, gpu_idle_w, tokens;
};

// Reads the members of the "cost" object; the caller calls finish().
CostOverrides read_cost_overrides(FieldReader& r);

// A price and where it came from ("scenario cost.cloud_usd_per_gpu_hour", or the catalog
// entry's provider, date and source).
struct SourcedPrice {
  double usd = 0;
  std::string origin;
};

struct CostSpec {
  std::optional<SourcedPrice> cloud_usd_per_gpu_hour;  // absent: no price anywhere
  std::optional<SourcedPrice> purchase_usd_per_gpu;
  double purchase_usd_per_node = 0;
  double amortization_years = 0;
  double utilization = 0;  // fraction of the amortization life the hardware does this work
  double electricity_usd_per_kwh = 0;
  double pue = 1;
  double node_overhead_w = 0;  // per node: CPUs, NICs, switches, fans
  double gpu_load_w = 0;       // while a kernel runs (the card's TDP unless overridden)
  double gpu_idle_w = 0;       // while none runs
  std::string gpu_idle_origin; // "catalog", "scenario", or the default fraction
  double tokens = 0;           // N of "time and cost to process N tokens"
};

// The first catalog price of each kind is the one used (list the preferred one first).
// Errors (idle above load power) are reported at the scenario's cost.* paths.
CostSpec resolve_cost(const CostOverrides& o, const CostDefaults& d, const GpuSpec& gpu, int gpus_per_node,
                      const JsonDocument& doc, Diagnostics& diags);

}  // namespace stepsim
