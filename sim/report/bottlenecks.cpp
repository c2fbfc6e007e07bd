#include "report/bottlenecks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace stepsim {

namespace {

// The link name inside a communication resource "<kind> <from>-><to>".
std::string link_name(const std::string& resource) {
  const size_t space = resource.find(' ');
  return space == std::string::npos ? resource : resource.substr(space + 1);
}

std::optional<double> utilization(const Bottleneck& b, const StepResult& r, const std::map<int, double>& compute) {
  if (r.step_time <= 0) return std::nullopt;
  if (b.kind == CriticalKind::communication) {
    const std::string name = link_name(b.resource);
    for (const LinkUsage& l : r.links)
      if (l.name == name) return l.busy_fraction;
    return std::nullopt;
  }
  if (b.kind == CriticalKind::compute) {
    int rank = -1;
    if (std::sscanf(b.resource.c_str(), "rank %d compute", &rank) != 1) return std::nullopt;
    auto it = compute.find(rank);
    if (it != compute.end()) return it->second / r.step_time;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Bottleneck> rank_bottlenecks(const CriticalPath& path, const StepResult& result) {
  std::map<std::pair<std::string, CriticalKind>, double> seconds;
  for (const CriticalStep& s : path.steps) seconds[{s.resource, s.kind}] += s.end - s.start;
  std::map<int, double> compute;  // busy seconds per recorded rank (its compute stream is serial)
  for (const ActivityRecord& a : result.records)
    if (a.stream == Stream::compute) compute[a.rank] += a.end - a.start;
  std::vector<Bottleneck> out;
  for (const auto& [key, t] : seconds) {
    if (t <= 0) continue;
    Bottleneck b{key.first, key.second, t, result.step_time > 0 ? t / result.step_time : 0, std::nullopt};
    b.utilization = utilization(b, result, compute);
    out.push_back(std::move(b));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Bottleneck& a, const Bottleneck& b) { return a.critical_seconds > b.critical_seconds; });
  return out;
}

std::string describe(const Bottleneck& b) {
  std::string text = fmt::format("{}: {:.1f} % of the critical path", b.resource, 100 * b.critical_path_fraction);
  if (b.utilization) text += fmt::format(", {:.1f} % busy", 100 * *b.utilization);
  return text;
}

nlohmann::ordered_json bottlenecks_json(const std::vector<Bottleneck>& list, size_t max) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < list.size() && i < max; ++i) {
    const Bottleneck& b = list[i];
    nlohmann::ordered_json j{{"resource", b.resource},
                             {"kind", to_string(b.kind)},
                             {"critical_path_s", b.critical_seconds},
                             {"critical_path_fraction", b.critical_path_fraction}};
    if (b.utilization) j["utilization"] = *b.utilization;
    out.push_back(std::move(j));
  }
  return out;
}

std::string bottleneck_text(const std::vector<Bottleneck>& list, size_t max) {
  if (list.empty()) return "";
  const size_t shown = std::min(max, list.size());
  size_t width = 0;
  for (size_t i = 0; i < shown; ++i) width = std::max(width, list[i].resource.size());
  std::string out = "  bottlenecks (time on the critical path; how busy the resource was over the step):\n";
  for (size_t i = 0; i < shown; ++i) {
    const Bottleneck& b = list[i];
    out += fmt::format("    {:<{}}  {:>5.1f} % of the path{}\n", b.resource, width, 100 * b.critical_path_fraction,
                       b.utilization ? fmt::format(" · {:>5.1f} % busy", 100 * *b.utilization) : std::string());
  }
  // One resource holding two thirds of the path sets the step; below that, name the first two.
  const Bottleneck& top = list.front();
  const char* what = top.kind == CriticalKind::compute         ? "compute-bound"
                     : top.kind == CriticalKind::communication ? "communication-bound"
                                                               : "mostly waiting";
  if (top.critical_path_fraction >= 2.0 / 3 || list.size() < 2)
    out += fmt::format("  the step is {}: {}\n", what, describe(top));
  else
    out += fmt::format("  the step is bound by {} ({:.1f} %) and {} ({:.1f} %)\n", top.resource,
                       100 * top.critical_path_fraction, list[1].resource, 100 * list[1].critical_path_fraction);
  return out;
}

}  // namespace stepsim
