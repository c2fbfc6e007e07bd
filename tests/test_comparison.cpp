// Comparison tables and the HTML page of `stepsim compare` (report/comparison.h,
// report/compare_html.h), on hand-made reports whose figures are checked by hand.
#include <catch2/catch.hpp>

#include <algorithm>

#include <regex>

#include "report/compare_html.h"
#include "report/comparison.h"

using namespace stepsim;
using nlohmann::json;

namespace {

// A minimal stepsim.report/1 with a step of forward + backward + exposed dp comm.
json report(double forward, double backward, double dp, double peak_gib, double capacity_gib) {
  const double gib = 1024.0 * 1024 * 1024;
  return {{"schema", "stepsim.report/1"},
          {"gpus", 8},
          {"gpu", "h100-pcie-80gb"},
          {"step_time_s", forward + backward + dp},
          {"tokens_per_s", 1000.0 / (forward + backward + dp)},
          {"mfu", 0.5},
          {"breakdown_s",
           {{"forward", forward}, {"backward", backward}, {"recompute", 0.0}, {"optimizer", 0.0},
            {"exposed_comm", {{"tp", 0.0}, {"pp", 0.0}, {"dp", dp}, {"cp", 0.0}, {"ep", 0.0}}},
            {"bubble", 0.0}, {"idle", 1e-11}}},
          // Reports carry their own verdict: here "required" is the peak less 5 % of spare cache.
          {"memory",
           {{"peak_bytes", peak_gib * gib},
            {"capacity_bytes", capacity_gib * gib},
            {"oom", 0.95 * peak_gib > capacity_gib},
            {"shortfall_bytes", std::max(0.0, 0.95 * peak_gib - capacity_gib) * gib},
            {"headroom_bytes", std::max(0.0, capacity_gib - 0.95 * peak_gib) * gib}}}};
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("relative differences are (value - base) / |base|, against the first run that has the figure", "[compare]") {
  CHECK(relative_difference(110.0, 100.0) == "+10.0 %");
  CHECK(relative_difference(75.0, 100.0) == "-25.0 %");
  CHECK(relative_difference(100.0, 100.0) == "±0.0 %");
  CHECK(relative_difference(1.0, 0.0).empty());
  CHECK(relative_difference(std::nullopt, 1.0).empty());
  MetricRow row{"step_time_s", "step time", MetricFormat::seconds, false, {std::nullopt, 20.0, 30.0}, {}};
  CHECK(reference_run(row) == 1);
  CHECK(format_cell(row, 0, true) == "–");
  CHECK(format_cell(row, 1, true) == "20.000 s");
  CHECK(format_cell(row, 2, true) == "30.000 s (+50.0 %)");
}

TEST_CASE("the memory verdict compares the peak with the usable memory", "[compare]") {
  CHECK(memory_verdict(report(1, 1, 0, 16.5, 79.6)) == "fits, 63.9 GiB free");      // 79.6 − 15.675
  CHECK(memory_verdict(report(1, 1, 0, 178.8, 79.6)) == "OUT OF MEMORY, short 90.3 GiB");  // 169.86 − 79.6
  // The verdict is the report's, not peak vs capacity: 82 GiB shown, 77.9 GiB required, fits.
  CHECK(memory_verdict(report(1, 1, 0, 82.0, 79.6)) == "fits, 1.7 GiB free");
  json tight = report(1, 1, 0, 82.0, 79.6);
  tight["memory"]["tight"] = true;
  CHECK(memory_verdict(tight) == "fits, 1.7 GiB free (tight: no room for the allocator's spare cache)");
  CHECK(memory_verdict(json::object()).empty());
  json b = report(1, 1, 0, 1, 2);
  b["bottlenecks"] = json::array({{{"resource", "rank 0 compute"}, {"critical_path_fraction", 0.97}}});
  CHECK(top_bottleneck(b) == "rank 0 compute (97 %)");
}

TEST_CASE("rows no run has are left out; rows some runs lack show a dash", "[compare]") {
  json no_engine = report(1, 1, 0, 100, 80);
  for (const char* k : {"step_time_s", "tokens_per_s", "mfu", "breakdown_s"}) no_engine.erase(k);
  std::vector<ComparedRun> runs{{"a", {}, report(6, 3, 1, 20, 80), ""}, {"b", {}, no_engine, "not simulated"}};
  auto rows = comparison_rows(runs);
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.key);
  // idle is 1e-11 s (rounding dust) and recompute 0: hidden; no cost or energy in these reports.
  CHECK(keys == std::vector<std::string>{"hardware", "step_time_s", "breakdown.forward", "breakdown.backward",
                                         "breakdown.exposed_comm/dp", "tokens_per_s", "mfu", "memory.peak",
                                         "memory.capacity", "verdict", "note"});
  const std::string text = comparison_text(runs);
  CHECK(text.find("step time") != std::string::npos);
  CHECK(std::regex_search(text, std::regex("memory peak per GPU +20.0 GiB +100.0 GiB \\(\\+400.0 %\\)")));
  CHECK(std::regex_search(text, std::regex("step time +10.000 s +–")));
}

TEST_CASE("the HTML page draws bars proportional to the figures, self-contained", "[compare]") {
  // Step times 10 s and 5 s: the bar area is 550 px wide, so forward 6 s is 330 px, and the
  // second run's forward 2.5 s is 137.5 px; the memory scale is max(peak, capacity) = 100 GiB.
  std::vector<ComparedRun> runs{{"ten", {}, report(6, 3, 1, 20, 80), ""}, {"five", {}, report(2.5, 2.5, 0, 100, 80), ""}};
  const std::string page = comparison_html("t", runs);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(count(page, "<svg id=\"chart-breakdown\"") == 1);
  CHECK(count(page, "<svg id=\"chart-memory\"") == 1);
  CHECK(count(page, "<svg id=\"chart-cost\"") == 0);  // no costs in these reports
  CHECK(count(page, "class=\"bar seg-forward\"") == 2);
  CHECK(count(page, "class=\"bar seg-exposed_comm-dp\"") == 1);
  CHECK(page.find("class=\"bar seg-forward\" x=\"300.0\" y=\"34\" width=\"330.0\"") != std::string::npos);
  CHECK(page.find("class=\"bar seg-backward\" x=\"630.0\" y=\"34\" width=\"165.0\"") != std::string::npos);
  CHECK(page.find("class=\"bar seg-forward\" x=\"300.0\" y=\"60\" width=\"137.5\"") != std::string::npos);
  CHECK(page.find("class=\"bar mem-fits\" x=\"300.0\" y=\"34\" width=\"110.0\"") != std::string::npos);
  CHECK(page.find("class=\"bar mem-oom\" x=\"300.0\" y=\"60\" width=\"550.0\"") != std::string::npos);
  CHECK(count(page, "<line class=\"capacity\" x1=\"740.0\"") == 2);  // 80 of 100 GiB
  // Costs, when present, get their chart.
  runs[0].report["cost"] = {{"usd_per_million_tokens", {{"cloud", 2.0}, {"owned", 1.0}}}};
  const std::string with_cost = comparison_html("t", runs);
  CHECK(count(with_cost, "class=\"bar cost-cloud\" x=\"300.0\" y=\"34\" width=\"550.0\"") == 1);
  CHECK(count(with_cost, "class=\"bar cost-owned\" x=\"300.0\" y=\"43\" width=\"275.0\"") == 1);
}
