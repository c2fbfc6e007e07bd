#include "report/compare_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/units.h"

namespace stepsim {

namespace {

// Geometry of the horizontal bar charts, in CSS pixels.
constexpr int kChartWidth = 960;
constexpr int kLabelWidth = 300;
constexpr int kValueWidth = 110;  // room for the figure after the longest bar
constexpr int kBarArea = kChartWidth - kLabelWidth - kValueWidth;
constexpr int kRowHeight = 26;
constexpr int kBarHeight = 18;
constexpr int kTop = 34;  // legend above the bars

constexpr const char* kFitsColor = "#59a14f";
constexpr const char* kOomColor = "#e15759";
constexpr const char* kCloudColor = "#4e79a7";
constexpr const char* kOwnedColor = "#f28e2b";

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string shorten(const std::string& s, size_t max_chars) {
  if (s.size() <= max_chars) return s;
  return s.substr(0, max_chars - 1) + "…";
}

std::string px(double v) { return fmt::format("{:.1f}", v); }

std::string svg_open(const char* id, const std::string& title, int rows) {
  const int height = kTop + rows * kRowHeight + 28;
  return fmt::format(
      "<figure>\n<figcaption>{}</figcaption>\n<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">\n",
      escape(title), id, kChartWidth, height, kChartWidth, height);
}

std::string svg_close() { return "</svg>\n</figure>\n"; }

std::string legend_item(int& x, const char* color, const std::string& label) {
  std::string s = fmt::format("<rect class=\"legend\" x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{}\"/>"
                              "<text x=\"{}\" y=\"18\">{}</text>\n",
                              x, color, x + 16, escape(label));
  x += 24 + static_cast<int>(label.size()) * 7;
  return s;
}

std::string row_label(int row, const std::string& label) {
  return fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", kLabelWidth - 8,
                     kTop + row * kRowHeight + kBarHeight - 4, escape(shorten(label, 44)));
}

std::string bar(const std::string& cls, double x, int row, double w, const char* color, const std::string& title,
                int y_offset = 0, int height = kBarHeight) {
  return fmt::format("<rect class=\"bar {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n",
                     cls, px(x), kTop + row * kRowHeight + y_offset, px(std::max(w, 0.5)), height, color, escape(title));
}

std::string value_text(double x, int row, const std::string& text, int y_offset = 0) {
  return fmt::format("<text class=\"value\" x=\"{}\" y=\"{}\">{}</text>\n", px(x + 6),
                     kTop + row * kRowHeight + kBarHeight - 4 + y_offset, escape(text));
}

// "/breakdown_s/exposed_comm/dp" -> "seg-exposed_comm-dp"
std::string segment_class(const std::string& pointer) {
  std::string key = pointer.substr(std::string("/breakdown_s/").size());
  std::replace(key.begin(), key.end(), '/', '-');
  return "seg-" + key;
}

std::string breakdown_chart(const std::vector<ComparedRun>& runs) {
  const auto& parts = breakdown_parts();
  double max_step = 0;
  std::vector<bool> used(parts.size(), false);
  for (const auto& r : runs) {
    max_step = std::max(max_step, number_at(r.report, "/step_time_s").value_or(0));
    for (size_t p = 0; p < parts.size(); ++p)
      if (number_at(r.report, parts[p].pointer).value_or(0) > 1e-6) used[p] = true;
  }
  std::string s = svg_open("chart-breakdown", "Step time and where it goes (critical rank)", static_cast<int>(runs.size()));
  int x = kLabelWidth;
  for (size_t p = 0; p < parts.size(); ++p)
    if (used[p]) s += legend_item(x, breakdown_color(p), parts[p].label);
  const double scale = max_step > 0 ? kBarArea / max_step : 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const int row = static_cast<int>(i);
    s += row_label(row, run_label(runs[i]));
    auto step = number_at(runs[i].report, "/step_time_s");
    if (!step) {
      s += value_text(kLabelWidth - 6, row, runs[i].note.empty() ? "not simulated" : shorten(runs[i].note, 90));
      continue;
    }
    double at = kLabelWidth;
    for (size_t p = 0; p < parts.size(); ++p) {
      const double v = number_at(runs[i].report, parts[p].pointer).value_or(0);
      if (v <= 1e-6) continue;
      s += bar(segment_class(parts[p].pointer), at, row, v * scale, breakdown_color(p),
               fmt::format("{}: {}", parts[p].label, format_seconds(v)));
      at += v * scale;
    }
    s += value_text(at, row, format_seconds(*step));
  }
  return s + svg_close();
}

std::string memory_chart(const std::vector<ComparedRun>& runs) {
  double max_bytes = 0;
  for (const auto& r : runs)
    max_bytes = std::max({max_bytes, number_at(r.report, "/memory/peak_bytes").value_or(0),
                          number_at(r.report, "/memory/capacity_bytes").value_or(0)});
  std::string s = svg_open("chart-memory", "Memory peak per GPU against the card's usable memory (black mark)",
                           static_cast<int>(runs.size()));
  int x = kLabelWidth;
  s += legend_item(x, kFitsColor, "fits");
  s += legend_item(x, kOomColor, "out of memory");
  s += legend_item(x, "#000000", "usable memory");
  const double scale = max_bytes > 0 ? kBarArea / max_bytes : 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const int row = static_cast<int>(i);
    s += row_label(row, run_label(runs[i]));
    auto peak = number_at(runs[i].report, "/memory/peak_bytes");
    auto capacity = number_at(runs[i].report, "/memory/capacity_bytes");
    if (!peak || !capacity) {
      s += value_text(kLabelWidth - 6, row, "no memory figures");
      continue;
    }
    const bool oom = *peak > *capacity;
    s += bar(oom ? "mem-oom" : "mem-fits", kLabelWidth, row, *peak * scale, oom ? kOomColor : kFitsColor,
             fmt::format("peak {} of {} usable", format_bytes(*peak), format_bytes(*capacity)));
    const double cx = kLabelWidth + *capacity * scale;
    s += fmt::format("<line class=\"capacity\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#000000\" "
                     "stroke-width=\"3\"><title>usable {3}</title></line>\n",
                     px(cx), kTop + row * kRowHeight - 3, kTop + row * kRowHeight + kBarHeight + 3,
                     escape(format_bytes(*capacity)));
    s += value_text(kLabelWidth + std::max(*peak, *capacity) * scale, row,
                    format_bytes(*peak) + (oom ? " (OOM)" : ""));
  }
  return s + svg_close();
}

std::string cost_chart(const std::vector<ComparedRun>& runs) {
  const std::vector<std::string> cloud_at{"/cost/usd_per_million_tokens/cloud", "/cost/usd_per_million_tokens_cloud"};
  const std::vector<std::string> owned_at{"/cost/usd_per_million_tokens/owned", "/cost/usd_per_million_tokens_owned"};
  double max_usd = 0;
  for (const auto& r : runs)
    max_usd = std::max({max_usd, first_number(r.report, cloud_at).value_or(0), first_number(r.report, owned_at).value_or(0)});
  if (max_usd <= 0) return "";
  std::string s = svg_open("chart-cost", "Cost per million tokens (US dollars)", static_cast<int>(runs.size()));
  int x = kLabelWidth;
  s += legend_item(x, kCloudColor, "cloud (GPU-hours)");
  s += legend_item(x, kOwnedColor, "owned (capex + electricity)");
  const double scale = kBarArea / max_usd;
  const int half = kBarHeight / 2;
  for (size_t i = 0; i < runs.size(); ++i) {
    const int row = static_cast<int>(i);
    s += row_label(row, run_label(runs[i]));
    auto cloud = first_number(runs[i].report, cloud_at);
    auto owned = first_number(runs[i].report, owned_at);
    if (!cloud && !owned) {
      s += value_text(kLabelWidth - 6, row, "no cost figures");
      continue;
    }
    if (cloud) {
      s += bar("cost-cloud", kLabelWidth, row, *cloud * scale, kCloudColor, "cloud " + format_metric(MetricFormat::usd, cloud), 0, half);
      s += value_text(kLabelWidth + *cloud * scale, row, format_metric(MetricFormat::usd, cloud), -half + 2);
    }
    if (owned) {
      s += bar("cost-owned", kLabelWidth, row, *owned * scale, kOwnedColor, "owned " + format_metric(MetricFormat::usd, owned), half, half);
      s += value_text(kLabelWidth + *owned * scale, row, format_metric(MetricFormat::usd, owned), 2);
    }
  }
  return s + svg_close();
}

std::string html_table(const std::vector<ComparedRun>& runs) {
  const ComparisonTable t = comparison_table(runs);
  std::string s = "<table>\n<thead><tr>";
  for (const auto& h : t.header) s += "<th>" + escape(h) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  for (const auto& r : t.rows) {
    s += "<tr>";
    for (size_t c = 0; c < r.size(); ++c) s += (t.right[c] ? "<td class=\"num\">" : "<td>") + escape(r[c]) + "</td>";
    s += "</tr>\n";
  }
  return s + "</tbody>\n</table>\n";
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:20px}figure{margin:24px 0}figcaption{font-weight:bold;margin-bottom:4px}"
    "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;white-space:pre;text-align:left}"
    "td.num{text-align:right}th{background:#f2f2f2}"
    "svg text{font-family:sans-serif;font-size:12px;fill:#222}";

}  // namespace

const char* breakdown_color(size_t part) {
  static const char* colors[] = {"#4e79a7", "#f28e2b", "#76b7b2", "#59a14f", "#e15759", "#ff9da7",
                                 "#b07aa1", "#9c755f", "#edc948", "#bab0ac", "#d4d4d4"};
  return colors[part % (sizeof colors / sizeof colors[0])];
}

std::string comparison_html(const std::string& title, const std::vector<ComparedRun>& runs) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title) +
                  "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + escape(title) + "</h1>\n";
  s += fmt::format("<p>{} run(s) compared by <code>stepsim compare</code>; relative differences are against the first run that has the figure.</p>\n",
                   runs.size());
  s += html_table(runs);
  s += breakdown_chart(runs);
  s += memory_chart(runs);
  s += cost_chart(runs);
  return s + "</body>\n</html>\n";
}

}  // namespace stepsim
