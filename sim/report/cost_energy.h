// Energy and cost of a simulated step (model and formulas: docs/cost-and-energy.md; fields:
// docs/report-schema.md#energy-and-cost).
//
// REQUIRES a simulated step (step time > 0) and the scenario's resolved CostSpec. The GPU
// energy comes from the engine (SimGrid's host energy plugin); everything else is arithmetic
// on the scenario: node overhead = watts × nodes × step time, facility energy = (GPUs + node
// overhead) × PUE; cloud cost = GPU-hours × price; owned cost = capex amortized over the life
// (divided by utilization) + facility energy × electricity price. A price nobody gave leaves its
// cost absent, with the reason in `unavailable`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenario/cost_spec.h"

namespace stepsim {

struct StepFacts {  // what the cost model needs of a scenario and its simulated step
  int gpus = 0, nodes = 0;
  double tokens_per_step = 0;
  double step_time_s = 0;
  double gpu_energy_j = 0;  // whole cluster
  int simulated_ranks = 0;  // < gpus when replicas were folded
};

struct EnergyFigures {
  double gpu_j = 0, node_overhead_j = 0, it_j = 0, facility_j = 0;
  double average_power_w = 0, facility_power_w = 0;
  double kwh_per_million_tokens = 0;  // at the facility meter (× PUE)
};

struct CostFigures {
  double tokens = 0;            // N of the run
  double steps = 0;             // N / tokens per step
  double time_s = 0;            // steps × step time
  double gpu_hours = 0;         // gpus × time
  double energy_kwh = 0;        // facility energy of the run
  double electricity_usd_per_million_tokens = 0, electricity_usd = 0;
  std::optional<double> cloud_usd_per_million_tokens, cloud_usd;
  std::optional<double> capex_usd_per_hour;  // owned: purchase / (life hours × utilization)
  std::optional<double> owned_usd_per_million_tokens, owned_usd;
  std::vector<std::string> unavailable;  // why a cost is absent and how to supply it
};

struct CostEnergy {
  EnergyFigures energy;
  CostFigures cost;
};

// Hours in an amortization year (365.25 days): a unit conversion, not a calibration.
constexpr double kHoursPerYear = 365.25 * 24;

CostEnergy compute_cost_energy(const CostSpec& c, const StepFacts& f, const std::string& gpu_id);

nlohmann::ordered_json energy_json(const CostSpec& c, const StepFacts& f, const CostEnergy& ce);
nlohmann::ordered_json cost_json(const CostSpec& c, const CostEnergy& ce);
// Lines for the text report, already indented like report_text's.
std::string cost_energy_text(const CostSpec& c, const StepFacts& f, const CostEnergy& ce);

}  // namespace stepsim
