// Cost and energy: the formulas of docs/cost-and-energy.md against hand computations, the
// scenario's "cost" section (defaults, catalog prices, overrides, errors) and the catalog's
// dated prices. The energy the engine measures is tested in test_energy_cases.cpp.
#include <catch2/catch.hpp>

#include "report/cost_energy.h"
#include "scenario/cost_spec.h"
#include "scenario/data_dirs.h"
#include "scenario/scenario.h"

using namespace stepsim;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  INFO(haystack);
  return haystack.find(needle) != std::string::npos;
}

// 8 GPUs on 1 node, 100,000 tokens per 10 s step, the GPUs drew 40 kJ.
StepFacts hand_step() { return {8, 1, 1e5, 10.0, 40000.0, 8}; }

CostSpec hand_spec() {
  CostSpec c;
  c.cloud_usd_per_gpu_hour = SourcedPrice{2.0, "test"};
  c.purchase_usd_per_gpu = SourcedPrice{10000.0, "test"};
  c.purchase_usd_per_node = 20000;
  c.amortization_years = 4;
  c.utilization = 0.5;
  c.electricity_usd_per_kwh = 0.1;
  c.pue = 1.5;
  c.node_overhead_w = 1000;
  c.tokens = 1e9;
  return c;
}

Result<Scenario> qlora_h100_pcie(std::vector<Override> overrides = {}) {
  return load_scenario(catalog_dir(CatalogKind::scenarios) + "/llama3-70b-qlora-h100-pcie.json", overrides);
}

std::vector<Override> sets(std::initializer_list<const char*> texts) {
  std::vector<Override> out;
  for (const char* t : texts) out.push_back(parse_override(t).value());
  return out;
}

}  // namespace

TEST_CASE("energy of a step: node overhead, PUE, power and kWh per million tokens by hand", "[cost]") {
  const CostEnergy ce = compute_cost_energy(hand_spec(), hand_step(), "card");
  const EnergyFigures& e = ce.energy;
  CHECK(e.gpu_j == Approx(40000));
  CHECK(e.node_overhead_j == Approx(10000));   // 1000 W × 1 node × 10 s
  CHECK(e.it_j == Approx(50000));
  CHECK(e.facility_j == Approx(75000));        // × PUE 1.5
  CHECK(e.average_power_w == Approx(5000));    // 50 kJ / 10 s
  CHECK(e.facility_power_w == Approx(7500));
  // 75 kJ = 0.0208333 kWh per 100,000 tokens = 0.208333 kWh per million.
  CHECK(e.kwh_per_million_tokens == Approx(0.20833333333333331));
}

TEST_CASE("cloud and owned cost per million tokens and for N tokens by hand", "[cost]") {
  const CostEnergy ce = compute_cost_energy(hand_spec(), hand_step(), "card");
  const CostFigures& k = ce.cost;
  CHECK(k.unavailable.empty());
  CHECK(k.steps == Approx(10000));             // 1e9 / 1e5
  CHECK(k.time_s == Approx(100000));           // 10,000 steps × 10 s
  CHECK(k.gpu_hours == Approx(8 * 100000 / 3600.0));
  CHECK(k.energy_kwh == Approx(208.33333333333331));  // 10,000 × 75 kJ / 3.6 MJ
  // Cloud: 8 GPUs × 10/3600 h × $2 = $0.0444 per step, 10 steps per million tokens.
  REQUIRE(k.cloud_usd_per_million_tokens);
  CHECK(*k.cloud_usd_per_million_tokens == Approx(0.4444444444444445));
  CHECK(*k.cloud_usd == Approx(444.44444444444446));
  // Electricity: 75 kJ / 3.6 MJ × $0.1 = $0.00208333 per step.
  CHECK(k.electricity_usd_per_million_tokens == Approx(0.020833333333333332));
  CHECK(k.electricity_usd == Approx(20.833333333333332));
  // Owned: capex $100,000 (8 × $10,000 + $20,000) over 4 × 8766 h × 0.5 = $5.70386 per hour;
  // per step 10/3600 h of it ($0.015844) plus the electricity ($0.0020833).
  REQUIRE(k.capex_usd_per_hour);
  CHECK(*k.capex_usd_per_hour == Approx(5.703855806525211));
  REQUIRE(k.owned_usd_per_million_tokens);
  CHECK(*k.owned_usd_per_million_tokens == Approx(0.17927377240347808));
  CHECK(*k.owned_usd == Approx(179.2737724034781));
}

TEST_CASE("a price nobody gives leaves its cost absent, with the reason and the fix", "[cost]") {
  CostSpec c = hand_spec();
  c.cloud_usd_per_gpu_hour.reset();
  c.purchase_usd_per_gpu.reset();
  const CostEnergy ce = compute_cost_energy(c, hand_step(), "my-card");
  CHECK_FALSE(ce.cost.cloud_usd_per_million_tokens);
  CHECK_FALSE(ce.cost.owned_usd);
  CHECK_FALSE(ce.cost.capex_usd_per_hour);
  REQUIRE(ce.cost.unavailable.size() == 2);
  CHECK(has(ce.cost.unavailable[0], "my-card"));
  CHECK(has(ce.cost.unavailable[0], "cost.cloud_usd_per_gpu_hour"));
  CHECK(has(ce.cost.unavailable[1], "cost.purchase_usd_per_gpu"));
  const auto j = cost_json(c, ce);
  CHECK_FALSE(j["usd_per_million_tokens"].contains("cloud"));
  CHECK_FALSE(j["run"].contains("owned_usd"));
  CHECK(j["usd_per_million_tokens"]["electricity"].get<double>() == Approx(0.020833333333333332));
}

TEST_CASE("folded replicas: the text report says the GPU energy was scaled", "[cost]") {
  StepFacts f = hand_step();
  f.simulated_ranks = 2;
  const CostSpec c = hand_spec();
  CHECK(has(cost_energy_text(c, f, compute_cost_energy(c, f, "card")), "2 simulated GPUs scaled to all 8"));
}

TEST_CASE("the shipped cost defaults parse and every figure is cited", "[cost]") {
  auto d = load_cost_defaults();
  REQUIRE(d.ok());
  CHECK(d.value().amortization_years == Approx(5));
  CHECK(d.value().pue == Approx(1.58));
  CHECK(d.value().tokens == Approx(1e9));
  auto doc = parse_json_text(R"({"amortization_years": 5, "utilization": 1, "electricity_usd_per_kwh": 0.1,
    "pue": 1.5, "node_overhead_w_per_gpu": 300, "purchase_usd_per_node": 0, "gpu_idle_fraction_of_tdp": 0.1,
    "tokens": 1e9, "sources": {"amortization_years": "x", "utilization": "x", "electricity_usd_per_kwh": "x",
    "node_overhead_w_per_gpu": "x", "purchase_usd_per_node": "x", "gpu_idle_fraction_of_tdp": "x", "tokens": "x",
    "pue_typo": "x"}})",
                             "defaults.json");
  REQUIRE(doc.ok());
  auto bad = parse_cost_defaults(doc.value());
  REQUIRE_FALSE(bad.ok());
  CHECK(has(bad.errors().to_string(), "pue: this figure has no citation"));
  CHECK(has(bad.errors().to_string(), "sources.pue_typo"));
}

TEST_CASE("a scenario without a cost section takes the catalog's prices and the cited defaults", "[cost]") {
  auto s = qlora_h100_pcie();
  REQUIRE(s.ok());
  const CostSpec& c = s.value().cost;
  REQUIRE(c.cloud_usd_per_gpu_hour);
  CHECK(c.cloud_usd_per_gpu_hour->usd == Approx(2.86));  // the first cloud price of h100-pcie-80gb
  CHECK(has(c.cloud_usd_per_gpu_hour->origin, "Lambda"));
  CHECK_FALSE(c.purchase_usd_per_gpu);  // hardware.md §5: no credible H100 PCIe purchase price
  const CostDefaults d = load_cost_defaults().value();
  CHECK(c.amortization_years == Approx(d.amortization_years));
  CHECK(c.pue == Approx(d.pue));
  CHECK(c.node_overhead_w == Approx(d.node_overhead_w_per_gpu * 8));
  CHECK(c.gpu_load_w == Approx(350));  // catalog power.tdp_w
  CHECK(c.gpu_idle_w == Approx(50));   // catalog power.idle_w
  CHECK(c.tokens == Approx(1e9));
}

TEST_CASE("the scenario's cost section overrides prices and power; the card the platform sees changes", "[cost]") {
  auto s = qlora_h100_pcie(sets({"cost.cloud_usd_per_gpu_hour=1.5", "cost.purchase_usd_per_gpu=25000",
                                 "cost.gpu_load_w=300", "cost.gpu_idle_w=40", "cost.node_overhead_w=1200",
                                 "cost.tokens=5e8", "cost.pue=1.1"}));
  REQUIRE(s.ok());
  const CostSpec& c = s.value().cost;
  CHECK(c.cloud_usd_per_gpu_hour->usd == Approx(1.5));
  CHECK(c.cloud_usd_per_gpu_hour->origin == "scenario cost.cloud_usd_per_gpu_hour");
  CHECK(c.purchase_usd_per_gpu->usd == Approx(25000));
  CHECK(c.node_overhead_w == Approx(1200));
  CHECK(c.tokens == Approx(5e8));
  CHECK(c.pue == Approx(1.1));
  CHECK(s.value().gpu.tdp_w == Approx(300));
  CHECK(s.value().gpu.idle_w == Approx(40));
}

TEST_CASE("cost section errors name the path and the fix", "[cost]") {
  auto unknown = qlora_h100_pcie(sets({"cost.electricity_usd_per_kw=0.2"}));
  REQUIRE_FALSE(unknown.ok());
  CHECK(has(unknown.errors().to_string(), "cost.electricity_usd_per_kw"));
  CHECK(has(unknown.errors().to_string(), "electricity_usd_per_kwh"));  // did you mean
  auto idle = qlora_h100_pcie(sets({"cost.gpu_idle_w=400"}));
  REQUIRE_FALSE(idle.ok());
  CHECK(has(idle.errors().to_string(), "cost.gpu_idle_w"));
  CHECK(has(idle.errors().to_string(), "exceeds its power under load 350 W"));
  auto utilization = qlora_h100_pcie(sets({"cost.utilization=0"}));
  REQUIRE_FALSE(utilization.ok());
  CHECK(has(utilization.errors().to_string(), "cost.utilization"));
  auto type = qlora_h100_pcie(sets({"cost.pue=\"high\""}));
  REQUIRE_FALSE(type.ok());
  CHECK(has(type.errors().to_string(), "cost.pue"));
}

TEST_CASE("every catalog price is dated, positive and sourced; the first of each kind is used", "[cost][formats]") {
  int priced = 0;
  for (const auto& id : catalog_ids(CatalogKind::gpus)) {
    auto g = load_gpu(id);
    REQUIRE(g.ok());
    for (const GpuPrice& p : g.value().prices) {
      INFO(id << " " << p.kind << " " << p.date);
      CHECK(p.usd > 0);
      CHECK(is_price_date(p.date));
      CHECK(p.source.size() > 20);
      ++priced;
    }
  }
  CHECK(priced >= 15);
  CHECK(is_price_date("2026-05-07"));
  CHECK(is_price_date("2024-12"));
  CHECK(is_price_date("2026"));
  CHECK_FALSE(is_price_date("2026-13"));
  CHECK_FALSE(is_price_date("May 2026"));
  CHECK_FALSE(is_price_date("2026-05-7"));
}

TEST_CASE("a GPU file without idle power uses the cited default fraction of its load power", "[cost]") {
  auto doc = load_json_file(catalog_dir(CatalogKind::gpus) + "/h100-sxm5-80gb.json");
  REQUIRE(doc.ok());
  JsonDocument d = doc.value();
  d.root["power"].erase("idle_w");
  d.root["sources"].erase("power.idle_w");
  auto g = parse_gpu(d);
  REQUIRE(g.ok());
  CHECK_FALSE(g.value().has_idle_w);
  Diagnostics diags;
  const CostDefaults defaults = load_cost_defaults().value();
  const CostSpec c = resolve_cost({}, defaults, g.value(), 8, d, diags);
  CHECK(diags.ok());
  CHECK(c.gpu_idle_w == Approx(defaults.gpu_idle_fraction_of_tdp * 700));
  CHECK(has(c.gpu_idle_origin, "cost-defaults.json"));

  d.root["prices"][0]["date"] = "last May";
  auto bad = parse_gpu(d);
  REQUIRE_FALSE(bad.ok());
  CHECK(has(bad.errors().to_string(), "prices[0].date"));
}
