#include "scenario/sweep_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <map>
#include <unordered_set>

#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"
#include "scenario/scenario.h"

namespace stepsim {

std::string value_label(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::vector<std::string> sweep_spec_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(catalog_dir(CatalogKind::scenarios) + "/sweeps", ec))
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

bool is_sweep_spec(const Json& root) {
  return root.is_object() && root.contains("base") && (root.contains("axes") || root.contains("groups"));
}

std::string point_id(const std::vector<Override>& sorted_overrides) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;  // FNV-1a 64 prime
    }
  };
  for (const auto& o : sorted_overrides) mix(o.path + "=" + o.value + "\n");
  return fmt::format("{:016x}", h);
}

std::vector<std::string> SweepSpec::axis_names() const {
  std::vector<std::string> names;
  for (const auto& g : groups)
    for (const auto& a : g.axes)
      if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
  return names;
}

namespace {

bool valid_scenario_path(const std::string& path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  return path.find("..") == std::string::npos && path.find('=') == std::string::npos;
}

// "set": {"training.tp": 4, ...} -> ordered list; each key a dotted scenario path.
std::vector<std::pair<std::string, Json>> read_set(FieldReader& r, const std::string& key) {
  std::vector<std::pair<std::string, Json>> out;
  const Json* set = r.object_member(key);
  if (!set) return out;
  std::vector<std::pair<int, std::string>> by_line;  // keep the file's order (the map is sorted)
  for (auto it = set->begin(); it != set->end(); ++it)
    by_line.push_back({r.document().line_of(join_path(r.path_of(key), it.key())), it.key()});
  std::stable_sort(by_line.begin(), by_line.end());
  for (const auto& [line, path] : by_line) {
    const Json& v = (*set)[path];
    if (!valid_scenario_path(path)) r.error(key, "\"" + path + "\" is not a scenario path", "e.g. \"training.tp\"");
    else if (v.is_null()) r.error(join_path(key, path), "null is not a value", "give the value to set");
    else out.push_back({path, v});
  }
  if (set->empty()) r.error(key, "an empty \"set\" changes nothing", "add \"path\": value pairs or remove it");
  return out;
}

// {"from": 1, "to": 8, "step": 1}: inclusive; integers when all three are integers.
std::vector<Json> read_range(FieldReader& axis, Diagnostics& diags) {
  std::vector<Json> values;
  const Json* range = axis.object_member("range");
  if (!range) return values;
  FieldReader r(axis.document(), *range, axis.path_of("range"), diags);
  const double max = 1e15;
  auto from = r.optional_number("from", -max, max);
  auto to = r.optional_number("to", -max, max);
  auto step = r.optional_number("step", -max, max);
  r.require("from");
  r.require("to");
  r.require("step");
  r.finish();
  if (!from || !to || !step) return values;
  if (*step == 0 || (*to - *from) / *step < 0) {
    r.error("step", fmt::format("a range from {} to {} never arrives with step {}", *from, *to, *step),
            "use a step of the sign of to − from");
    return values;
  }
  double n = std::floor((*to - *from) / *step + 1e-9) + 1;
  if (n > static_cast<double>(kMaxSweepPoints)) {
    r.error("step", fmt::format("the range has {:.0f} values", n), fmt::format("at most {}", kMaxSweepPoints));
    return values;
  }
  bool integral = (*range)["from"].is_number_integer() && (*range)["to"].is_number_integer() &&
                  (*range)["step"].is_number_integer();
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    double v = *from + static_cast<double>(i) * *step;
    if (integral) values.push_back(Json(static_cast<int64_t>(std::llround(v))));
    else values.push_back(Json(std::stod(fmt::format("{:.12g}", v))));  // 0.1·3 is 0.3, not 0.30000000000000004
  }
  return values;
}

// A path axis: {"path": "training.tp", "values": [1, 2, 4]} or {"path": ..., "range": {...}}.
// A bundle axis: {"name": "box", "values": [{"label": "h100", "set": {...}}, ...]}.
SweepAxis read_axis(const JsonDocument& doc, const Json& node, const std::string& path, Diagnostics& diags) {
  SweepAxis axis;
  FieldReader r(doc, node, path, diags);
  if (!r.valid_object()) return axis;
  auto scenario_path = r.optional_string("path");
  auto name = r.optional_string("name");
  const Json* values = r.array_member("values");
  if (scenario_path) {
    if (!valid_scenario_path(*scenario_path))
      r.error("path", "\"" + *scenario_path + "\" is not a scenario path", "dotted keys, e.g. \"training.tp\"");
    axis.name = name.value_or(*scenario_path);
    std::vector<Json> raw;
    if (values && r.has("range")) r.error("range", "give \"values\" or \"range\", not both", "remove one");
    else if (values) raw.assign(values->begin(), values->end());
    else if (r.has("range")) raw = read_range(r, diags);
    else r.error("values", "missing \"values\" (or \"range\")", "e.g. \"values\": [1, 2, 4]");
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i].is_null()) r.error(index_path("values", i), "null is not a value", "remove it");
      else axis.values.push_back({value_label(raw[i]), {{*scenario_path, raw[i]}}});
    }
  } else {
    if (!name) r.error("name", "an axis needs \"path\" (one scenario field) or \"name\" (values that each \"set\" several)",
                       "e.g. {\"path\": \"training.tp\", \"values\": [1, 2]}");
    axis.name = name.value_or("");
    if (!values && name) r.error("values", "missing \"values\"", "a list of {\"label\": ..., \"set\": {...}}");
    for (size_t i = 0; values && i < values->size(); ++i) {
      FieldReader vr(doc, (*values)[i], join_path(path, index_path("values", i)), diags);
      if (!vr.valid_object()) continue;
      AxisValue v{vr.required_string("label"), read_set(vr, "set")};
      vr.require("set");
      vr.finish();
      axis.values.push_back(std::move(v));
    }
  }
  r.finish();
  if (values && values->empty()) r.error("values", "an axis with no values makes no points", "add values or remove the axis");
  std::vector<std::string> labels;
  for (const auto& v : axis.values) {
    if (std::find(labels.begin(), labels.end(), v.label) != labels.end())
      r.error("values", "the value \"" + v.label + "\" appears twice", "list each value once");
    labels.push_back(v.label);
  }
  return axis;
}

SweepGroup read_group(FieldReader& r, Diagnostics& diags) {
  SweepGroup g;
  g.combine = r.choice("combine", "product", {"product", "zip"}) == "zip" ? Combine::zip : Combine::product;
  r.require("axes");
  const Json* axes = r.array_member("axes");
  if (axes && axes->empty()) r.error("axes", "no axes", "add at least one axis");
  for (size_t i = 0; axes && i < axes->size(); ++i) {
    g.axes.push_back(read_axis(r.document(), (*axes)[i], join_path(r.path(), index_path("axes", i)), diags));
    for (size_t j = 0; j + 1 < g.axes.size(); ++j)
      if (g.axes[j].name == g.axes.back().name && !g.axes.back().name.empty())
        r.error(index_path("axes", i), "axis \"" + g.axes.back().name + "\" is given twice", "merge the two axes");
  }
  if (g.combine == Combine::zip && g.axes.size() > 1) {
    for (const auto& a : g.axes)
      if (a.values.size() != g.axes.front().values.size())
        r.error("combine", fmt::format("zip needs axes of one length: \"{}\" has {} values, \"{}\" has {}",
                                       g.axes.front().name, g.axes.front().values.size(), a.name, a.values.size()),
                "give every axis the same number of values, or use \"combine\": \"product\"");
  }
  return g;
}

void read_skip_rules(FieldReader& r, SweepSpec& spec, Diagnostics& diags) {
  const Json* skip = r.array_member("skip");
  const auto names = spec.axis_names();
  for (size_t i = 0; skip && i < skip->size(); ++i) {
    FieldReader sr(r.document(), (*skip)[i], index_path("skip", i), diags);
    if (!sr.valid_object()) continue;
    SkipRule rule;
    rule.reason = sr.required_string("reason");
    sr.require("when");
    if (const Json* when = sr.object_member("when")) {
      for (auto it = when->begin(); it != when->end(); ++it) {
        std::string at = join_path(sr.path_of("when"), it.key());
        auto axis = std::find(names.begin(), names.end(), it.key());
        if (axis == names.end()) {
          std::string hint = closest_match(it.key(), names);
          diags.add({r.document().file, r.document().line_of(at), at, "\"" + it.key() + "\" is not an axis of this sweep",
                     hint.empty() ? fmt::format("name one of: {}", fmt::join(names, ", ")) : "did you mean \"" + hint + "\"?"});
          continue;
        }
        std::vector<std::string> labels;
        if (it->is_array()) for (const auto& v : *it) labels.push_back(value_label(v));
        else labels.push_back(value_label(*it));
        std::vector<std::string> known;
        for (const auto& g : spec.groups)
          for (const auto& a : g.axes)
            if (a.name == it.key())
              for (const auto& v : a.values) known.push_back(v.label);
        for (const auto& l : labels)
          if (std::find(known.begin(), known.end(), l) == known.end())
            diags.add({r.document().file, r.document().line_of(at), at, "\"" + l + "\" is not a value of axis \"" + it.key() + "\"",
                       fmt::format("its values are: {}", fmt::join(known, ", "))});
        rule.when.push_back({it.key(), labels});
      }
      if (when->empty()) sr.error("when", "an empty \"when\" would skip every point", "name axis values to skip");
    }
    sr.finish();
    spec.skip.push_back(std::move(rule));
  }
}

}  // namespace

Result<SweepSpec> parse_sweep_spec(const JsonDocument& doc) {
  Diagnostics diags;
  SweepSpec spec;
  spec.file = doc.file;
  FieldReader r(doc, doc.root, "", diags);
  spec.name = r.string_or("name", "");
  spec.description = r.string_or("description", "");
  spec.base = r.required_string("base");
  if (!spec.base.empty()) {
    auto resolved = resolve_reference(CatalogKind::scenarios, spec.base, parent_dir(doc.file));
    if (resolved) spec.base_path = *resolved;
    else r.error("base", "no scenario \"" + spec.base + "\" (a path is relative to this file's folder)",
                 "give a scenario id (`stepsim catalog scenarios`) or a path such as \"../my-scenario.json\"");
  }
  spec.set = read_set(r, "set");
  const std::string simulate = r.choice("simulate", "all", {"all", "fits", "none"});
  spec.simulate = simulate == "fits" ? SimulateMode::fits : simulate == "none" ? SimulateMode::none : SimulateMode::all;
  spec.invalid_is_skip = r.choice("invalid", "fail", {"fail", "skip"}) == "skip";
  if (r.has("groups")) {
    if (r.has("axes") || r.has("combine"))
      r.error("groups", "give \"groups\" or top-level \"axes\"/\"combine\", not both", "move the axes into a group");
    const Json* groups = r.array_member("groups");
    if (groups && groups->empty()) r.error("groups", "no groups", "add at least one group");
    for (size_t i = 0; groups && i < groups->size(); ++i) {
      FieldReader gr(doc, (*groups)[i], index_path("groups", i), diags);
      if (!gr.valid_object()) continue;
      spec.groups.push_back(read_group(gr, diags));
      gr.finish();
    }
  } else {
    spec.groups.push_back(read_group(r, diags));
  }
  read_skip_rules(r, spec, diags);
  r.finish();
  if (diags.ok() && raw_point_count(spec) > kMaxSweepPoints)
    diags.add({doc.file, 1, "", fmt::format("the sweep has {} points", raw_point_count(spec)),
               fmt::format("at most {}; split it into several sweeps", kMaxSweepPoints)});
  if (!diags.ok()) return diags;
  return spec;
}

Result<SweepSpec> load_sweep_spec(const std::string& path) {
  auto doc = load_json_file(path);
  if (!doc.ok()) return doc.errors();
  return parse_sweep_spec(doc.value());
}

size_t raw_point_count(const SweepSpec& spec) {
  size_t total = 0;
  for (const auto& g : spec.groups) {
    size_t n = g.axes.empty() ? 0 : 1;
    for (const auto& a : g.axes) {
      if (g.combine == Combine::zip) n = a.values.size();
      else if (a.values.empty() || n > kMaxSweepPoints * 10 / a.values.size()) n = a.values.empty() ? 0 : kMaxSweepPoints * 10;
      else n *= a.values.size();
    }
    total += n;
  }
  return total;
}

namespace {

std::optional<std::string> matching_skip_reason(const SweepSpec& spec, const SweepPoint& p) {
  for (const auto& rule : spec.skip) {
    bool all = true;
    for (const auto& [axis, labels] : rule.when) {
      auto it = std::find_if(p.axes.begin(), p.axes.end(), [&](const auto& a) { return a.first == axis; });
      if (it == p.axes.end() || std::find(labels.begin(), labels.end(), it->second) == labels.end()) all = false;
    }
    if (all) return rule.reason;
  }
  return std::nullopt;
}

// Builds one point from the chosen value of each axis of a group.
SweepPoint make_point(const SweepSpec& spec, const SweepGroup& g, const std::vector<size_t>& choice) {
  SweepPoint p;
  std::map<std::string, Json> effective;  // later settings win: base "set", then axes in order
  for (const auto& [path, value] : spec.set) effective[path] = value;
  for (size_t a = 0; a < g.axes.size(); ++a) {
    const AxisValue& v = g.axes[a].values[choice[a]];
    p.axes.push_back({g.axes[a].name, v.label});
    for (const auto& [path, value] : v.set) effective[path] = value;
  }
  for (const auto& [path, value] : effective) p.overrides.push_back({path, value.dump()});
  p.id = point_id(p.overrides);
  p.skip_reason = matching_skip_reason(spec, p);
  return p;
}

}  // namespace

std::vector<SweepPoint> enumerate_sweep(const SweepSpec& spec) {
  std::vector<SweepPoint> points;
  std::unordered_set<std::string> seen;
  auto add = [&](SweepPoint p) {
    if (!seen.insert(p.id).second) return;
    p.index = points.size();
    points.push_back(std::move(p));
  };
  for (const auto& g : spec.groups) {
    if (g.axes.empty()) continue;
    if (g.combine == Combine::zip) {
      for (size_t i = 0; i < g.axes.front().values.size(); ++i) add(make_point(spec, g, std::vector<size_t>(g.axes.size(), i)));
      continue;
    }
    bool empty = std::any_of(g.axes.begin(), g.axes.end(), [](const auto& a) { return a.values.empty(); });
    std::vector<size_t> choice(g.axes.size(), 0);
    while (!empty) {
      add(make_point(spec, g, choice));
      size_t a = g.axes.size();  // odometer: the last axis varies fastest
      while (a > 0 && ++choice[a - 1] == g.axes[a - 1].values.size()) choice[--a] = 0;
      if (a == 0) break;
    }
  }
  return points;
}

Diagnostics check_sweep(const SweepSpec& spec, std::string* summary) {
  Diagnostics diags;
  const auto points = enumerate_sweep(spec);
  size_t rule_skipped = 0, invalid = 0;
  for (const auto& p : points) {
    if (p.skip_reason) {
      ++rule_skipped;
      continue;
    }
    auto s = load_scenario(spec.base_path, p.overrides);
    if (s.ok()) continue;
    ++invalid;
    if (spec.invalid_is_skip || invalid > 5) continue;  // five examples are enough to fix a typo
    std::string axes;
    for (const auto& [axis, label] : p.axes) axes += (axes.empty() ? "" : ", ") + axis + "=" + label;
    const Diagnostic& first = s.errors().items().front();
    diags.add({spec.file, 1, "", fmt::format("point {} ({}) is invalid: {}{}", p.index, axes,
                                             first.path.empty() ? "" : first.path + ": ", first.message),
               first.fix.empty() ? "fix the axis values, add a skip rule, or set \"invalid\": \"skip\"" : first.fix});
  }
  if (invalid > 5 && !spec.invalid_is_skip)
    diags.add({spec.file, 1, "", fmt::format("{} invalid points in all", invalid), "see the first ones above"});
  std::vector<std::string> names = spec.axis_names();
  if (summary)
    *summary = fmt::format("sweep: {} points ({} skipped by rules, {} invalid) over {}; base {}", points.size(), rule_skipped,
                           invalid, fmt::join(names, ", "), spec.base);
  return diags;
}

}  // namespace stepsim
