// Side-by-side comparison of stepsim reports (schema stepsim.report/1), for `stepsim compare`
// and the summary of `stepsim sweep`: which figures to show, how to format them and their
// relative difference to the first run that has the figure.
//
// REQUIRES reports as written by `stepsim run --json`. Figures a report lacks (no engine,
// no cost or energy, no bottlenecks) are shown as "–", and a row that no report has is left
// out, so reports of different stages and versions compare. Pure functions of the reports:
// same input, same bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stepsim {

struct ComparedRun {
  std::string label;
  std::vector<std::pair<std::string, std::string>> axes;  // sweep points: axis -> value label
  nlohmann::json report;                                   // may be null when the run has no report
  std::string note;                                        // e.g. why it was not simulated
};

enum class MetricFormat { seconds, rate, percent, bytes, usd, kwh, watts, text };

struct MetricRow {
  std::string key;    // stable id, e.g. "step_time_s", "breakdown.forward"
  std::string label;  // e.g. "step time"
  MetricFormat format = MetricFormat::text;
  bool breakdown = false;  // a part of the step-time breakdown (indented in tables)
  std::vector<std::optional<double>> numbers;  // one per run (numeric formats)
  std::vector<std::string> texts;              // one per run (text format)
};

// The rows for these runs, in display order; rows no run has are left out.
std::vector<MetricRow> comparison_rows(const std::vector<ComparedRun>& runs);

// A numeric cell: "27.356 s", "9583", "49.3 %", "16.5 GiB", "$12.40", "3.21 kWh", "5.6 kW"; "–" when absent.
std::string format_metric(MetricFormat format, const std::optional<double>& value);
// "+12.3 %" relative to `base`; empty when either is absent or the base is 0.
std::string relative_difference(const std::optional<double>& value, const std::optional<double>& base);

// The breakdown parts in stacking order, with their report keys (JSON pointers) and labels.
struct BreakdownPart {
  const char* pointer;
  const char* label;
};
const std::vector<BreakdownPart>& breakdown_parts();

// Reads a number at a JSON pointer ("/memory/peak_bytes"); nullopt when absent or not a number.
std::optional<double> number_at(const nlohmann::json& report, const std::string& pointer);
// True when the JSON pointer holds the boolean true; false when absent, false or not a boolean.
bool flag_at(const nlohmann::json& report, const std::string& pointer);
// The first of several pointers that holds a number (to tolerate renamed fields).
std::optional<double> first_number(const nlohmann::json& report, const std::vector<std::string>& pointers);
// The report's most important bottleneck in words, or empty.
std::string top_bottleneck(const nlohmann::json& report);
// "fits, 63.1 GiB free" / "OUT OF MEMORY, short 83.1 GiB" / "host OOM"; empty without memory.
std::string memory_verdict(const nlohmann::json& report);

// The run the relative differences of a row refer to: the first run that has the figure
// (a sweep's first point may have run out of memory and have no step time).
size_t reference_run(const MetricRow& row);

// A cell of `row` for run i: the formatted figure, with " (+12.3 %)" against run 0 when asked.
std::string format_cell(const MetricRow& row, size_t i, bool with_delta);
// The run's column or row label: its label, else its axis values joined by " · ".
std::string run_label(const ComparedRun& r);

// The table that text, Markdown and HTML render: cells already formatted.
struct ComparisonTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right;  // numeric columns align right
};
// Few runs (≤ max_columns): one column per run, figures as rows, with the relative difference
// to the first column that has the figure. More runs: one row per run, compact figures, step time against the first.
ComparisonTable comparison_table(const std::vector<ComparedRun>& runs, size_t max_columns = 5);

// Plain-text rendering of comparison_table. Few runs: one column per run, figures as rows, with the relative difference to
// the first column. Many runs (more than `max_columns`): one row per run, compact figures.
std::string comparison_text(const std::vector<ComparedRun>& runs, size_t max_columns = 5);
// Markdown table, one row per run (for README and reports).
std::string comparison_markdown(const std::vector<ComparedRun>& runs);

}  // namespace stepsim
