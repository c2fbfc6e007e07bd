#include "report/comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/units.h"

namespace stepsim {

using nlohmann::json;

const std::vector<BreakdownPart>& breakdown_parts() {
  static const std::vector<BreakdownPart> parts{
      {"/breakdown_s/forward", "forward"},
      {"/breakdown_s/backward", "backward"},
      {"/breakdown_s/recompute", "recompute"},
      {"/breakdown_s/optimizer", "optimizer"},
      {"/breakdown_s/exposed_comm/tp", "exposed tp comm"},
      {"/breakdown_s/exposed_comm/pp", "exposed pp comm"},
      {"/breakdown_s/exposed_comm/dp", "exposed dp comm"},
      {"/breakdown_s/exposed_comm/cp", "exposed cp comm"},
      {"/breakdown_s/exposed_comm/ep", "exposed ep comm"},
      {"/breakdown_s/bubble", "pipeline bubble"},
      {"/breakdown_s/idle", "idle"},
  };
  return parts;
}

std::optional<double> number_at(const json& report, const std::string& pointer) {
  if (!report.is_object()) return std::nullopt;
  const json::json_pointer p(pointer);
  if (!report.contains(p)) return std::nullopt;
  const json& v = report.at(p);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

bool flag_at(const json& report, const std::string& pointer) {
  if (!report.is_object()) return false;
  const json::json_pointer p(pointer);
  return report.contains(p) && report.at(p).is_boolean() && report.at(p).get<bool>();
}

std::optional<double> first_number(const json& report, const std::vector<std::string>& pointers) {
  for (const auto& p : pointers)
    if (auto v = number_at(report, p)) return v;
  return std::nullopt;
}

std::string top_bottleneck(const json& report) {
  if (!report.is_object() || !report.contains("bottlenecks")) return "";
  const json& list = report["bottlenecks"];
  if (!list.is_array() || list.empty()) return "";
  const json& top = list.front();
  if (top.is_string()) return top.get<std::string>();
  if (!top.is_object()) return top.dump();
  for (const char* key : {"summary", "description", "what", "resource", "kind", "name"})
    if (top.contains(key) && top[key].is_string()) {
      std::string text = top[key].get<std::string>();
      for (const char* share : {"critical_path_fraction", "share", "fraction"})
        if (top.contains(share) && top[share].is_number())
          text += fmt::format(" ({:.0f} %)", 100 * top[share].get<double>());
      return text;
    }
  return top.dump();
}

// The report's own verdict (memory.oom compares memory.required_bytes with the capacity; the
// peak shown by nvidia-smi also holds the allocator's spare cache), never recomputed here.
std::string memory_verdict(const json& report) {
  auto shortfall = number_at(report, "/memory/shortfall_bytes");
  auto headroom = number_at(report, "/memory/headroom_bytes");
  const json::json_pointer oom("/memory/oom"), host_oom("/memory/host/oom");
  if (!shortfall || !headroom || !report.contains(oom) || !report.at(oom).is_boolean()) return "";
  if (report.contains(host_oom) && report.at(host_oom).is_boolean() && report.at(host_oom).get<bool>())
    return "OUT OF MEMORY (host)";
  if (report.at(oom).get<bool>()) return "OUT OF MEMORY, short " + format_bytes(*shortfall);
  const bool tight = flag_at(report, "/memory/tight");
  return "fits, " + format_bytes(*headroom) + " free" + (tight ? " (tight: no room for the allocator's spare cache)" : "");
}

namespace {

struct NumericMetric {
  const char* key;
  const char* label;
  MetricFormat format;
  std::vector<std::string> pointers;  // alternatives, first found wins
};

const std::vector<NumericMetric>& after_breakdown() {
  static const std::vector<NumericMetric> m{
      {"tokens_per_s", "tokens/s", MetricFormat::rate, {"/tokens_per_s"}},
      {"mfu", "MFU", MetricFormat::percent, {"/mfu"}},
      {"memory.peak", "memory peak per GPU", MetricFormat::bytes, {"/memory/peak_bytes"}},
      {"memory.capacity", "usable memory per GPU", MetricFormat::bytes, {"/memory/capacity_bytes"}},
  };
  return m;
}

// Cost and energy accept the nested names of the report and flat ones.
const std::vector<NumericMetric>& cost_metrics() {
  static const std::vector<NumericMetric> m{
      {"cost.cloud", "$ per M tokens, cloud", MetricFormat::usd,
       {"/cost/usd_per_million_tokens/cloud", "/cost/usd_per_million_tokens_cloud"}},
      {"cost.owned", "$ per M tokens, owned", MetricFormat::usd,
       {"/cost/usd_per_million_tokens/owned", "/cost/usd_per_million_tokens_owned"}},
      {"energy.kwh", "kWh per M tokens", MetricFormat::kwh, {"/energy/kwh_per_million_tokens"}},
      {"energy.power", "average power", MetricFormat::watts, {"/energy/average_power_w"}},
  };
  return m;
}

MetricRow numeric_row(const std::string& key, const std::string& label, MetricFormat format,
                      const std::vector<std::string>& pointers, const std::vector<ComparedRun>& runs,
                      bool breakdown = false) {
  MetricRow row{key, label, format, breakdown, {}, {}};
  for (const auto& r : runs) row.numbers.push_back(first_number(r.report, pointers));
  return row;
}

template <class F>
MetricRow text_row(const std::string& key, const std::string& label, const std::vector<ComparedRun>& runs, F text_of) {
  MetricRow row{key, label, MetricFormat::text, false, {}, {}};
  for (const auto& r : runs) row.texts.push_back(text_of(r));
  return row;
}

bool shown(const MetricRow& row, double above) {
  for (const auto& v : row.numbers)
    if (v && std::fabs(*v) > above) return true;
  for (const auto& t : row.texts)
    if (!t.empty()) return true;
  return false;
}

std::string hardware_of(const ComparedRun& r) {
  if (!r.report.is_object() || !r.report.contains("gpus") || !r.report.contains("gpu")) return "";
  const json& gpu = r.report["gpu"];
  return fmt::format("{} × {}", r.report["gpus"].dump(), gpu.is_string() ? gpu.get<std::string>() : gpu.dump());
}

}  // namespace

std::vector<MetricRow> comparison_rows(const std::vector<ComparedRun>& runs) {
  std::vector<MetricRow> rows;
  auto keep = [&](MetricRow row, double above = 0) {
    if (shown(row, above)) rows.push_back(std::move(row));
  };
  keep(text_row("hardware", "GPUs", runs, hardware_of));
  keep(numeric_row("step_time_s", "step time", MetricFormat::seconds, {"/step_time_s"}, runs));
  for (const auto& part : breakdown_parts())
    keep(numeric_row(std::string("breakdown.") + (part.pointer + 13), part.label, MetricFormat::seconds, {part.pointer}, runs,
                     true),
         1e-6);  // hides floating-point dust in idle
  for (const auto& m : after_breakdown()) keep(numeric_row(m.key, m.label, m.format, m.pointers, runs));
  keep(text_row("verdict", "memory verdict", runs, [](const ComparedRun& r) { return memory_verdict(r.report); }));
  keep(text_row("bottleneck", "bottleneck", runs, [](const ComparedRun& r) { return top_bottleneck(r.report); }));
  for (const auto& m : cost_metrics()) keep(numeric_row(m.key, m.label, m.format, m.pointers, runs));
  keep(text_row("note", "note", runs, [](const ComparedRun& r) { return r.note; }));
  return rows;
}

std::string format_metric(MetricFormat format, const std::optional<double>& value) {
  if (!value) return "–";
  const double v = *value;
  switch (format) {
    case MetricFormat::seconds: return format_seconds(v);
    case MetricFormat::rate: return fmt::format("{:.0f}", v);
    case MetricFormat::percent: return fmt::format("{:.1f} %", 100 * v);
    case MetricFormat::bytes: return format_bytes(v);
    case MetricFormat::usd: return v >= 100 ? fmt::format("${:.0f}", v) : fmt::format("${:.2f}", v);
    case MetricFormat::kwh: return fmt::format("{:.3g} kWh", v);
    case MetricFormat::watts: return format_si(v, "W");
    case MetricFormat::text: break;
  }
  return "–";
}

std::string relative_difference(const std::optional<double>& value, const std::optional<double>& base) {
  if (!value || !base || *base == 0) return "";
  const double d = (*value - *base) / std::fabs(*base) * 100;
  if (std::fabs(d) < 0.05) return "±0.0 %";
  return fmt::format("{:+.1f} %", d);
}

namespace {

// Display width in terminal columns: UTF-8 continuation bytes take none.
size_t width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

std::string pad(const std::string& s, size_t w, bool right = false) {
  const size_t n = width(s) >= w ? 0 : w - width(s);
  return right ? std::string(n, ' ') + s : s + std::string(n, ' ');
}

}  // namespace

size_t reference_run(const MetricRow& row) {
  for (size_t i = 0; i < row.numbers.size(); ++i)
    if (row.numbers[i]) return i;
  return 0;
}

std::string format_cell(const MetricRow& row, size_t i, bool with_delta) {
  if (row.format == MetricFormat::text) return row.texts[i].empty() ? "–" : row.texts[i];
  std::string text = format_metric(row.format, row.numbers[i]);
  const size_t base = reference_run(row);
  if (with_delta && i > base) {
    std::string d = relative_difference(row.numbers[i], row.numbers[base]);
    if (!d.empty()) text += " (" + d + ")";
  }
  return text;
}

std::string run_label(const ComparedRun& r) {
  if (!r.label.empty() || r.axes.empty()) return r.label;
  std::string s;
  for (const auto& [axis, value] : r.axes) s += (s.empty() ? "" : " · ") + value;
  return s;
}

namespace {

ComparisonTable side_by_side(const std::vector<ComparedRun>& runs, const std::vector<MetricRow>& rows) {
  ComparisonTable t;
  t.header.push_back("");
  t.right.push_back(false);
  for (const auto& r : runs) {
    t.header.push_back(run_label(r));
    t.right.push_back(false);
  }
  for (const auto& row : rows) {
    std::vector<std::string> line{(row.breakdown ? "  " : "") + row.label};
    for (size_t i = 0; i < runs.size(); ++i) line.push_back(format_cell(row, i, true));
    t.rows.push_back(std::move(line));
  }
  return t;
}

// One row per run: the axes (or the label), then the compact figures that some run has.
ComparisonTable run_table(const std::vector<ComparedRun>& runs, const std::vector<MetricRow>& rows) {
  ComparisonTable t;
  const bool by_axes = !runs.empty() && std::all_of(runs.begin(), runs.end(), [](const auto& r) { return !r.axes.empty(); });
  std::vector<std::string> axis_names;
  if (by_axes)
    for (const auto& r : runs)
      for (const auto& [axis, value] : r.axes)
        if (std::find(axis_names.begin(), axis_names.end(), axis) == axis_names.end()) axis_names.push_back(axis);
  t.header = by_axes ? axis_names : std::vector<std::string>{"run"};
  t.right.assign(t.header.size(), false);
  const std::vector<std::string> compact{"step_time_s", "breakdown.exposed_comm/dp", "tokens_per_s", "mfu", "memory.peak",
                                         "verdict", "bottleneck", "cost.cloud", "cost.owned", "energy.kwh", "note"};
  std::vector<const MetricRow*> chosen;
  for (const auto& key : compact)
    for (const auto& row : rows)
      if (row.key == key) chosen.push_back(&row);
  for (const auto* row : chosen) {
    t.header.push_back(row->label);
    t.right.push_back(row->format != MetricFormat::text);
    if (row->key == "step_time_s") {
      t.header.push_back("vs first");
      t.right.push_back(true);
    }
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<std::string> line;
    if (by_axes) {
      for (const auto& axis : axis_names) {
        auto it = std::find_if(runs[i].axes.begin(), runs[i].axes.end(), [&](const auto& a) { return a.first == axis; });
        line.push_back(it == runs[i].axes.end() ? "–" : it->second);
      }
    } else {
      line.push_back(run_label(runs[i]));
    }
    for (const auto* row : chosen) {
      line.push_back(format_cell(*row, i, false));
      if (row->key == "step_time_s") {
        const size_t base = reference_run(*row);
        std::string d = i <= base ? "" : relative_difference(row->numbers[i], row->numbers[base]);
        line.push_back(d.empty() ? "–" : d);
      }
    }
    t.rows.push_back(std::move(line));
  }
  return t;
}

std::string markdown_escape(std::string s) {
  for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
  return s;
}

}  // namespace

ComparisonTable comparison_table(const std::vector<ComparedRun>& runs, size_t max_columns) {
  const auto rows = comparison_rows(runs);
  return runs.size() <= max_columns ? side_by_side(runs, rows) : run_table(runs, rows);
}

std::string comparison_text(const std::vector<ComparedRun>& runs, size_t max_columns) {
  if (runs.empty()) return "(nothing to compare)\n";
  const ComparisonTable t = comparison_table(runs, max_columns);
  std::vector<size_t> w(t.header.size(), 0);
  for (size_t c = 0; c < t.header.size(); ++c) {
    w[c] = width(t.header[c]);
    for (const auto& r : t.rows) w[c] = std::max(w[c], width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) s += (c ? "  " : "") + pad(cells[c], w[c], t.right[c]);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(t.header);
  for (const auto& r : t.rows) out += line(r);
  return out;
}

std::string comparison_markdown(const std::vector<ComparedRun>& runs) {
  const ComparisonTable t = run_table(runs, comparison_rows(runs));
  std::string out = "|";
  for (const auto& h : t.header) out += " " + markdown_escape(h) + " |";
  out += "\n|";
  for (size_t c = 0; c < t.header.size(); ++c) out += t.right[c] ? "---:|" : "---|";
  out += "\n";
  for (const auto& r : t.rows) {
    out += "|";
    for (const auto& c : r) out += " " + markdown_escape(c) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace stepsim
