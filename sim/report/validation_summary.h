// Validation against published runs: the comparison step of `stepsim validate`. SimGrid-free.
//
// The predictor (published_runs.h + `stepsim run`) never sees measured_value. This file is the
// only place that puts a prediction next to the measurement: predicted_metric() reads the row's
// metric out of a stepsim.report/1 object (docs/report-schema.md), compare_run() scores it, and
// summarize() aggregates the scored rows per metric, per source and per kind of metric.
//
// Conventions (docs/formats/published-runs.md, docs/validation.md "Method"):
//   error_pct = (predicted − measured) / measured × 100, signed; fits/oom rows have no error but a
//   verdict check (`correct`), and their `predicted` is the simulated device peak in GB.
//   Statistics are over |error_pct| (MAPE = mean, median, max) plus the signed mean (bias).
// Every function is pure: same inputs, same outputs; rows keep the order they are given in.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scenario/published_runs.h"

namespace stepsim {

// throughput: step_time_s, tflops_per_gpu, hw_tflops_per_gpu, mfu, tokens_per_s[_per_gpu];
// memory: peak_mem_gib, peak_mem_gb; verdict: fits, oom.
enum class MetricKind { throughput, memory, verdict };
std::optional<MetricKind> metric_kind(const std::string& metric);  // nullopt = not supported
std::string to_string(MetricKind kind);
// Throughput metrics need the simulated step; memory and verdict rows run with --no-engine.
bool metric_needs_engine(const std::string& metric);

// The prediction in the unit of `metric` (mfu in percent, peak_mem_gib in GiB of reserved memory,
// peak_mem_gb in GB of device memory, fits/oom: device peak in GB). nullopt when the report lacks
// the figure; `why` then says which field was missing.
// A memory row whose measured_unit says "active" or "allocated" measured
// torch.cuda.max_memory_allocated(): its prediction is the tensor peak, not reserved or device memory.
bool measures_allocated_memory(const std::string& unit);
// `unit` is the row's measured_unit (see measures_allocated_memory).
std::optional<double> predicted_metric(const std::string& metric, const nlohmann::json& report,
                                       std::string* why = nullptr, const std::string& unit = "");
// fits/oom only: the simulated verdict (device or host out of memory) matches the row's metric.
std::optional<bool> verdict_correct(const std::string& metric, const nlohmann::json& report);

struct ValidationRow {
  std::string id, source, metric;
  double measured = 0;
  std::optional<double> predicted;
  std::optional<double> error_pct;    // throughput and memory rows
  std::optional<bool> correct;        // fits/oom rows
  bool tight = false;                 // fits/oom rows predicted to fit without room for the spare cache
  bool skipped = false;
  bool failed = false;                // the simulation itself failed (an internal error), also skipped
  std::string reason;                 // why skipped; empty otherwise
  std::vector<std::string> defaults;  // documented defaults the mapping applied
};

// A row that was not simulated: skipped with `reason` ("skipped: " prefix removed).
ValidationRow skipped_row(const PublishedRun& run, const std::vector<std::string>& defaults, std::string reason,
                          bool failed = false);
// A simulated row scored against its measurement.
ValidationRow compare_run(const PublishedRun& run, const std::vector<std::string>& defaults,
                          const nlohmann::json& report);

struct ErrorStats {
  int count = 0;  // rows with an error (throughput, memory)
  double mape = 0, median = 0, max = 0, bias = 0;  // percent; 0 when count == 0
  int verdicts = 0, correct = 0;                   // fits/oom rows and how many are right
  int skipped = 0;
};
// Statistics of the given rows (skipped ones are only counted).
ErrorStats error_stats(const std::vector<const ValidationRow*>& rows);

struct ValidationSummary {
  int rows = 0, compared = 0, skipped = 0, failed = 0;
  ErrorStats throughput, memory, verdict, all;
  std::map<std::string, ErrorStats> by_metric, by_source;  // sorted keys
};
ValidationSummary summarize(const std::vector<ValidationRow>& rows);

// {"rows":[...], "summary":{...}}: docs/validation.md "JSON output".
nlohmann::ordered_json validation_json(const std::vector<ValidationRow>& rows, const ValidationSummary& summary);
// The terminal table: one line per row, skipped rows with reasons, defaults, summaries.
std::string validation_text(const std::string& file, const std::vector<ValidationRow>& rows,
                            const ValidationSummary& summary);

}  // namespace stepsim
