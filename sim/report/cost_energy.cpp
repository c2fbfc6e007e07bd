#include "report/cost_energy.h"

#include <fmt/format.h>

#include "report/units.h"

namespace stepsim {

namespace {

using OJson = nlohmann::ordered_json;

constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kSecondsPerHour = 3600;
constexpr double kMillion = 1e6;

EnergyFigures energy_of(const CostSpec& c, const StepFacts& f) {
  EnergyFigures e;
  e.gpu_j = f.gpu_energy_j;
  e.node_overhead_j = c.node_overhead_w * f.nodes * f.step_time_s;
  e.it_j = e.gpu_j + e.node_overhead_j;
  e.facility_j = e.it_j * c.pue;
  e.average_power_w = e.it_j / f.step_time_s;
  e.facility_power_w = e.facility_j / f.step_time_s;
  e.kwh_per_million_tokens = e.facility_j / kJoulesPerKwh * kMillion / f.tokens_per_step;
  return e;
}

std::string duration(double s) {
  if (s >= 2 * 86400) return fmt::format("{:.1f} days", s / 86400);
  if (s >= 2 * 3600) return fmt::format("{:.1f} h", s / 3600);
  if (s >= 120) return fmt::format("{:.1f} min", s / 60);
  return format_seconds(s);
}

std::string usd(double v) { return v >= 100 ? fmt::format("${:.0f}", v) : fmt::format("${:.3g}", v); }

}  // namespace

CostEnergy compute_cost_energy(const CostSpec& c, const StepFacts& f, const std::string& gpu_id) {
  CostEnergy out;
  out.energy = energy_of(c, f);
  CostFigures& k = out.cost;
  const double steps_per_million = kMillion / f.tokens_per_step;
  const double step_hours = f.step_time_s / kSecondsPerHour;
  k.tokens = c.tokens;
  k.steps = c.tokens / f.tokens_per_step;
  k.time_s = k.steps * f.step_time_s;
  k.gpu_hours = f.gpus * k.time_s / kSecondsPerHour;
  k.energy_kwh = k.steps * out.energy.facility_j / kJoulesPerKwh;
  const double electricity_per_step = out.energy.facility_j / kJoulesPerKwh * c.electricity_usd_per_kwh;
  k.electricity_usd_per_million_tokens = electricity_per_step * steps_per_million;
  k.electricity_usd = electricity_per_step * k.steps;
  if (c.cloud_usd_per_gpu_hour) {
    const double per_step = f.gpus * step_hours * c.cloud_usd_per_gpu_hour->usd;
    k.cloud_usd_per_million_tokens = per_step * steps_per_million;
    k.cloud_usd = per_step * k.steps;
  } else {
    k.unavailable.push_back(fmt::format(
        "cloud: the catalog has no cloud_gpu_hour price for {}; set cost.cloud_usd_per_gpu_hour", gpu_id));
  }
  if (c.purchase_usd_per_gpu) {
    const double capex = c.purchase_usd_per_gpu->usd * f.gpus + c.purchase_usd_per_node * f.nodes;
    k.capex_usd_per_hour = capex / (c.amortization_years * kHoursPerYear * c.utilization);
    const double per_step = *k.capex_usd_per_hour * step_hours + electricity_per_step;
    k.owned_usd_per_million_tokens = per_step * steps_per_million;
    k.owned_usd = per_step * k.steps;
  } else {
    k.unavailable.push_back(fmt::format(
        "owned: the catalog has no purchase price for {}; set cost.purchase_usd_per_gpu", gpu_id));
  }
  return out;
}

OJson energy_json(const CostSpec& c, const StepFacts& f, const CostEnergy& ce) {
  const EnergyFigures& e = ce.energy;
  return {{"gpu_j", e.gpu_j},
          {"node_overhead_j", e.node_overhead_j},
          {"it_j", e.it_j},
          {"facility_j", e.facility_j},
          {"average_power_w", e.average_power_w},
          {"facility_power_w", e.facility_power_w},
          {"kwh_per_million_tokens", e.kwh_per_million_tokens},
          {"gpu_load_w", c.gpu_load_w},
          {"gpu_idle_w", c.gpu_idle_w},
          {"gpu_idle_from", c.gpu_idle_origin},
          {"node_overhead_w", c.node_overhead_w},
          {"pue", c.pue},
          {"simulated_gpus", f.simulated_ranks}};
}

OJson cost_json(const CostSpec& c, const CostEnergy& ce) {
  const CostFigures& k = ce.cost;
  OJson inputs;
  if (c.cloud_usd_per_gpu_hour) {
    inputs["cloud_usd_per_gpu_hour"] = c.cloud_usd_per_gpu_hour->usd;
    inputs["cloud_price_from"] = c.cloud_usd_per_gpu_hour->origin;
  }
  if (c.purchase_usd_per_gpu) {
    inputs["purchase_usd_per_gpu"] = c.purchase_usd_per_gpu->usd;
    inputs["purchase_price_from"] = c.purchase_usd_per_gpu->origin;
  }
  inputs["purchase_usd_per_node"] = c.purchase_usd_per_node;
  inputs["amortization_years"] = c.amortization_years;
  inputs["utilization"] = c.utilization;
  inputs["electricity_usd_per_kwh"] = c.electricity_usd_per_kwh;
  OJson per_million = OJson::object();
  if (k.cloud_usd_per_million_tokens) per_million["cloud"] = *k.cloud_usd_per_million_tokens;
  if (k.owned_usd_per_million_tokens) per_million["owned"] = *k.owned_usd_per_million_tokens;
  per_million["electricity"] = k.electricity_usd_per_million_tokens;
  OJson run{{"tokens", k.tokens},       {"steps", k.steps},          {"time_s", k.time_s},
            {"gpu_hours", k.gpu_hours}, {"energy_kwh", k.energy_kwh}};
  if (k.cloud_usd) run["cloud_usd"] = *k.cloud_usd;
  if (k.owned_usd) run["owned_usd"] = *k.owned_usd;
  run["electricity_usd"] = k.electricity_usd;
  OJson j{{"inputs", inputs}, {"usd_per_million_tokens", per_million}, {"run", run}};
  if (k.capex_usd_per_hour) j["capex_usd_per_hour"] = *k.capex_usd_per_hour;
  if (!k.unavailable.empty()) j["unavailable"] = k.unavailable;
  return j;
}

std::string cost_energy_text(const CostSpec& c, const StepFacts& f, const CostEnergy& ce) {
  const EnergyFigures& e = ce.energy;
  const CostFigures& k = ce.cost;
  std::string out;
  auto line = [&](const std::string& label, const std::string& value) {
    out += fmt::format("  {:<28}{}\n", label, value);
  };
  line("energy per step", fmt::format("{} (GPUs {} + node overhead {}) × PUE {:.2f} = {}", format_si(e.it_j, "J"),
                                      format_si(e.gpu_j, "J"), format_si(e.node_overhead_j, "J"), c.pue,
                                      format_si(e.facility_j, "J")));
  line("average power", fmt::format("{} ({} at the facility) · {:.3g} kWh per million tokens",
                                    format_si(e.average_power_w, "W"), format_si(e.facility_power_w, "W"),
                                    e.kwh_per_million_tokens));
  std::string per_million;
  if (k.cloud_usd_per_million_tokens)
    per_million += fmt::format("cloud {} (at {}/GPU-hour) · ", usd(*k.cloud_usd_per_million_tokens),
                               usd(c.cloud_usd_per_gpu_hour->usd));
  if (k.owned_usd_per_million_tokens)
    per_million += fmt::format("owned {} · ", usd(*k.owned_usd_per_million_tokens));
  per_million += fmt::format("electricity {}", usd(k.electricity_usd_per_million_tokens));
  line("$ per million tokens", per_million);
  std::string run = fmt::format("{} · {:.0f} GPU-hours · {:.0f} kWh", duration(k.time_s), k.gpu_hours, k.energy_kwh);
  if (k.cloud_usd) run += " · cloud " + usd(*k.cloud_usd);
  if (k.owned_usd) run += " · owned " + usd(*k.owned_usd);
  line(fmt::format("{} tokens", format_count(k.tokens)), run);
  for (const std::string& why : k.unavailable) out += fmt::format("    cost unavailable — {}\n", why);
  if (f.simulated_ranks < f.gpus)
    out += fmt::format("    (GPU energy of {} simulated GPUs scaled to all {})\n", f.simulated_ranks, f.gpus);
  return out;
}

}  // namespace stepsim
