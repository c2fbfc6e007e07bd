#include "report/validation_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace stepsim {

std::optional<MetricKind> metric_kind(const std::string& metric) {
  static const std::map<std::string, MetricKind> kinds = {
      {"step_time_s", MetricKind::throughput},  {"tflops_per_gpu", MetricKind::throughput},
      {"hw_tflops_per_gpu", MetricKind::throughput}, {"mfu", MetricKind::throughput},
      {"tokens_per_s", MetricKind::throughput}, {"tokens_per_s_per_gpu", MetricKind::throughput},
      {"peak_mem_gib", MetricKind::memory},     {"peak_mem_gb", MetricKind::memory},
      {"fits", MetricKind::verdict},            {"oom", MetricKind::verdict}};
  auto it = kinds.find(metric);
  if (it == kinds.end()) return std::nullopt;
  return it->second;
}

std::string to_string(MetricKind kind) {
  switch (kind) {
    case MetricKind::throughput: return "throughput";
    case MetricKind::memory: return "memory";
    case MetricKind::verdict: return "verdict";
  }
  return "";
}

bool metric_needs_engine(const std::string& metric) { return metric_kind(metric) == MetricKind::throughput; }

namespace {

// A number at a dotted path of the report, or nullopt (the schema leaves absent facts out).
std::optional<double> number_at(const nlohmann::json& report, const std::string& dotted) {
  const nlohmann::json* node = &report;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return std::nullopt;
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!node->is_number()) return std::nullopt;
  return node->get<double>();
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace

bool measures_allocated_memory(const std::string& unit) {
  return unit.find("active") != std::string::npos || unit.find("allocated") != std::string::npos;
}

std::optional<double> predicted_metric(const std::string& metric, const nlohmann::json& report, std::string* why,
                                       const std::string& unit) {
  auto need = [&](const std::string& path) {
    auto v = number_at(report, path);
    if (!v && why) *why = "the report has no " + path;
    return v;
  };
  if (metric == "step_time_s") return need("step_time_s");
  if (metric == "tflops_per_gpu") return need("model_tflops_per_gpu");
  if (metric == "tokens_per_s") return need("tokens_per_s");
  if (metric == "tokens_per_s_per_gpu") return need("tokens_per_s_per_gpu");
  if (metric == "mfu") {
    auto v = need("mfu");
    return v ? std::optional<double>(*v * 100) : std::nullopt;
  }
  if (metric == "hw_tflops_per_gpu") {
    // Megatron's eq. 3 counts the recomputed forward: hardware FLOPs per second per GPU.
    auto flops = need("hardware_flops_per_step");
    auto step = flops ? need("step_time_s") : std::nullopt;
    auto gpus = step ? need("gpus") : std::nullopt;
    if (!gpus || !(*step > 0) || !(*gpus > 0)) return std::nullopt;
    return *flops / *step / *gpus / 1e12;
  }
  const bool allocated = measures_allocated_memory(unit);
  if (metric == "peak_mem_gib") {  // PyTorch's max_memory_reserved(), or max_memory_allocated()
    auto v = need(allocated ? "memory.peak_allocated_bytes" : "memory.peak_reserved_bytes");
    return v ? std::optional<double>(*v / kGiB) : std::nullopt;
  }
  if (metric == "peak_mem_gb" && allocated) {  // max_memory_allocated() / 1e9 (LitGPT's "Memory used")
    auto v = need("memory.peak_allocated_bytes");
    return v ? std::optional<double>(*v / 1e9) : std::nullopt;
  }
  if (metric == "peak_mem_gb" || metric == "fits" || metric == "oom") {  // nvidia-smi, decimal GB
    auto v = need("memory.peak_bytes");
    return v ? std::optional<double>(*v / 1e9) : std::nullopt;
  }
  if (why) *why = "metric " + metric + " is not supported";
  return std::nullopt;
}

namespace {

// The boolean object[key] of a report; nullopt when absent or not a boolean.
std::optional<bool> boolean_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_boolean()) return std::nullopt;
  return object[key].get<bool>();
}

const nlohmann::json& memory_of(const nlohmann::json& report) {
  static const nlohmann::json none;
  return report.is_object() && report.contains("memory") ? report["memory"] : none;
}

}  // namespace

std::optional<bool> verdict_correct(const std::string& metric, const nlohmann::json& report) {
  if (metric != "fits" && metric != "oom") return std::nullopt;
  const nlohmann::json& memory = memory_of(report);
  const std::optional<bool> oom = boolean_at(memory, "oom");
  if (!oom) return std::nullopt;
  const bool host_oom = memory.is_object() && memory.contains("host") && boolean_at(memory["host"], "oom").value_or(false);
  return (*oom || host_oom) == (metric == "oom");
}

ValidationRow skipped_row(const PublishedRun& run, const std::vector<std::string>& defaults, std::string reason,
                          bool failed) {
  ValidationRow r;
  r.id = run.id;
  r.source = run.cell("source");
  r.metric = run.metric;
  r.measured = run.measured_value;
  r.defaults = defaults;
  r.skipped = true;
  r.failed = failed;
  const std::string prefix = "skipped: ";
  if (reason.compare(0, prefix.size(), prefix) == 0) reason = reason.substr(prefix.size());
  r.reason = reason;
  return r;
}

ValidationRow compare_run(const PublishedRun& run, const std::vector<std::string>& defaults,
                          const nlohmann::json& report) {
  std::string why;
  auto predicted = predicted_metric(run.metric, report, &why, run.cell("measured_unit"));
  if (!predicted) return skipped_row(run, defaults, why, /*failed=*/true);
  ValidationRow r = skipped_row(run, defaults, "");
  r.skipped = false;
  r.predicted = predicted;
  if (metric_kind(run.metric) == MetricKind::verdict) {
    r.correct = verdict_correct(run.metric, report);
    if (!r.correct) return skipped_row(run, defaults, "the report has no memory.oom", /*failed=*/true);
    r.tight = boolean_at(memory_of(report), "tight").value_or(false);
  } else if (run.measured_value != 0) {
    r.error_pct = (*predicted - run.measured_value) / run.measured_value * 100;
  } else {
    return skipped_row(run, defaults, "measured_value is 0: no relative error");
  }
  return r;
}

ErrorStats error_stats(const std::vector<const ValidationRow*>& rows) {
  ErrorStats s;
  std::vector<double> magnitudes;
  double signed_sum = 0;
  for (const ValidationRow* r : rows) {
    if (r->skipped) {
      ++s.skipped;
      continue;
    }
    if (r->correct) {
      ++s.verdicts;
      s.correct += *r->correct ? 1 : 0;
    }
    if (!r->error_pct) continue;
    magnitudes.push_back(std::fabs(*r->error_pct));
    signed_sum += *r->error_pct;
  }
  s.count = static_cast<int>(magnitudes.size());
  if (magnitudes.empty()) return s;
  std::sort(magnitudes.begin(), magnitudes.end());
  double sum = 0;
  for (double m : magnitudes) sum += m;
  const size_t n = magnitudes.size();
  s.mape = sum / n;
  s.median = n % 2 ? magnitudes[n / 2] : (magnitudes[n / 2 - 1] + magnitudes[n / 2]) / 2;
  s.max = magnitudes.back();
  s.bias = signed_sum / n;
  return s;
}

ValidationSummary summarize(const std::vector<ValidationRow>& rows) {
  ValidationSummary s;
  std::map<std::string, std::vector<const ValidationRow*>> by_metric, by_source, by_kind;
  std::vector<const ValidationRow*> all;
  for (const ValidationRow& r : rows) {
    ++s.rows;
    s.skipped += r.skipped ? 1 : 0;
    s.failed += r.failed ? 1 : 0;
    all.push_back(&r);
    by_metric[r.metric].push_back(&r);
    by_source[r.source].push_back(&r);
    if (auto kind = metric_kind(r.metric)) by_kind[to_string(*kind)].push_back(&r);
  }
  s.compared = s.rows - s.skipped;
  s.all = error_stats(all);
  s.throughput = error_stats(by_kind["throughput"]);
  s.memory = error_stats(by_kind["memory"]);
  s.verdict = error_stats(by_kind["verdict"]);
  for (const auto& [metric, list] : by_metric) s.by_metric[metric] = error_stats(list);
  for (const auto& [source, list] : by_source) s.by_source[source] = error_stats(list);
  return s;
}

namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json stats_json(const ErrorStats& s) {
  return {{"count", s.count}, {"mape", s.mape},         {"median", s.median},   {"max", s.max},
          {"bias", s.bias},   {"verdicts", s.verdicts}, {"correct", s.correct}, {"skipped", s.skipped}};
}

}  // namespace

nlohmann::ordered_json validation_json(const std::vector<ValidationRow>& rows, const ValidationSummary& summary) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ValidationRow& r : rows) {
    list.push_back({{"id", r.id},
                    {"metric", r.metric},
                    {"measured", r.measured},
                    {"predicted", optional_number(r.predicted)},
                    {"error_pct", optional_number(r.error_pct)},
                    {"correct", r.correct ? nlohmann::ordered_json(*r.correct) : nlohmann::ordered_json(nullptr)},
                    {"tight", r.tight},
                    {"status", r.skipped ? "skipped" : "ok"},
                    {"reason", r.reason},
                    {"defaults", r.defaults}});
  }
  nlohmann::ordered_json sum{{"rows", summary.rows},       {"compared", summary.compared},
                             {"skipped", summary.skipped}, {"failed", summary.failed},
                             {"throughput", stats_json(summary.throughput)},
                             {"memory", stats_json(summary.memory)},
                             {"verdicts", stats_json(summary.verdict)},
                             {"all", stats_json(summary.all)}};
  sum["by_metric"] = nlohmann::ordered_json::object();
  for (const auto& [metric, s] : summary.by_metric) sum["by_metric"][metric] = stats_json(s);
  sum["by_source"] = nlohmann::ordered_json::object();
  for (const auto& [source, s] : summary.by_source) sum["by_source"][source] = stats_json(s);
  return {{"rows", list}, {"summary", sum}};
}

namespace {

// Fixed, readable widths for values from 0.01 s to 10^6 tokens/s.
std::string value_text(double v) {
  const double a = std::fabs(v);
  if (a >= 1000) return fmt::format("{:.0f}", v);
  if (a >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.3f}", v);
}

std::string clip(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 1) + "~";
}

std::string row_line(const ValidationRow& r) {
  std::string head = fmt::format("  {:<34} {:<21}{:>11}", clip(r.id, 34), r.metric, value_text(r.measured));
  if (r.skipped) return head + fmt::format("{:>12}   {}", "-", r.failed ? "FAILED" : "skipped");
  if (r.correct) {
    const bool predicted_oom = (r.metric == "oom") == *r.correct;
    return head + fmt::format("{:>12}   {} (predicted {}{}, peak {} GB)", value_text(*r.predicted),
                              *r.correct ? "right" : "WRONG", predicted_oom ? "oom" : "fits",
                              r.tight ? ", tight" : "", value_text(*r.predicted));
  }
  return head + fmt::format("{:>12}  {:>+7.1f} %", value_text(*r.predicted), *r.error_pct);
}

std::string stats_line(const std::string& name, const ErrorStats& s, size_t width) {
  std::string line = fmt::format("  {:<{}} {:>6}", clip(name, width), width, s.count);
  if (s.count > 0)
    line += fmt::format(" {:>7.1f} {:>7.1f} {:>7.1f} {:>+7.1f}", s.mape, s.median, s.max, s.bias);
  else
    line += fmt::format(" {:>7} {:>7} {:>7} {:>7}", "-", "-", "-", "-");
  line += s.verdicts > 0 ? fmt::format("  {:>3}/{:<3}", s.correct, s.verdicts) : fmt::format("  {:>7}", "-");
  line += fmt::format(" {:>7}\n", s.skipped);
  return line;
}

std::string stats_header(const std::string& title, size_t width) {
  return fmt::format("{}\n  {:<{}} {:>6} {:>7} {:>7} {:>7} {:>7}  {:>7} {:>7}\n", title, "", width, "scored",
                     "MAPE %", "median", "max", "bias", "verdict", "skipped");
}

}  // namespace

std::string validation_text(const std::string& file, const std::vector<ValidationRow>& rows,
                            const ValidationSummary& s) {
  std::string out = fmt::format("stepsim validate {}: {} rows, {} compared, {} skipped{}\n", file, s.rows,
                                s.compared, s.skipped, s.failed ? fmt::format(" ({} failed)", s.failed) : "");
  out += fmt::format("  {:<34} {:<21}{:>11}{:>12}  {:>9}\n", "id", "metric", "measured", "predicted", "error");
  for (const ValidationRow& r : rows) out += row_line(r) + "\n";
  if (s.skipped > 0) {
    out += fmt::format("\nskipped rows ({}):\n", s.skipped);
    for (const ValidationRow& r : rows)
      if (r.skipped) out += fmt::format("  {}: {}{}\n", r.id, r.failed ? "FAILED: " : "", r.reason);
  }
  out += "\ndefaults applied (empty CSV fields, docs/formats/published-runs.md):\n";
  for (const ValidationRow& r : rows) {
    if (r.defaults.empty()) continue;
    std::string joined;
    for (const auto& d : r.defaults) joined += (joined.empty() ? "" : "; ") + d;
    out += fmt::format("  {}: {}\n", r.id, joined);
  }
  constexpr size_t kKindWidth = 22, kSourceWidth = 60;
  out += "\n" + stats_header("summary (error = (predicted − measured) / measured, in %)", kKindWidth);
  out += stats_line("throughput", s.throughput, kKindWidth);
  out += stats_line("memory", s.memory, kKindWidth);
  out += stats_line("fits/oom", s.verdict, kKindWidth);
  out += "\n" + stats_header("by metric", kKindWidth);
  for (const auto& [metric, stats] : s.by_metric) out += stats_line(metric, stats, kKindWidth);
  out += "\n" + stats_header("by source", kSourceWidth);
  for (const auto& [source, stats] : s.by_source) out += stats_line(source, stats, kSourceWidth);
  return out;
}

}  // namespace stepsim
