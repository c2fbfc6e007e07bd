// One self-contained HTML page comparing stepsim reports: the comparison table and inline SVG
// charts (stacked step-time breakdown per run, memory peak per run against its card's usable
// memory, cost per million tokens when the reports have it). No scripts, no fonts, no network:
// the page renders the same offline and in a headless browser.
//
// Chart elements carry stable ids and classes for tests: <svg id="chart-breakdown|chart-memory|
// chart-cost">, bars are <rect class="bar …">, capacity markers <line class="capacity">. Each
// bar has a <title> with its figure. Same runs, same bytes.
#pragma once

#include <string>
#include <vector>

#include "report/comparison.h"

namespace stepsim {

std::string comparison_html(const std::string& title, const std::vector<ComparedRun>& runs);

// The fill colour of a breakdown part in the charts ("#4e79a7"), by its index in breakdown_parts().
const char* breakdown_color(size_t part);

}  // namespace stepsim
