// `stepsim compare`: side-by-side table of several runs, relative to the first, and optionally
// a self-contained HTML page with SVG charts (report/compare_html.h).
//
// Inputs, in any mix: scenario files (simulated here, each in its own `stepsim run --json`
// process, --set applied to each), report files (schema stepsim.report/1, used as they are) and
// sweep results (a folder of `stepsim sweep` or its results.jsonl: one run per point). With
// --variant, the one scenario input is the first column and each variant (its overrides on top)
// another.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/child_runs.h"
#include "cli/commands.h"
#include "cli/sweep_results.h"
#include "report/compare_html.h"
#include "report/comparison.h"
#include "scenario/json_document.h"

namespace stepsim {

namespace {

namespace fs = std::filesystem;

struct Variant {
  std::string label;
  std::vector<std::string> sets;  // "path=value"
};

// Splits on commas outside brackets, braces and quotes, so JSON values may hold commas.
std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\' && i + 1 < text.size()) cur += text[i++];
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  parts.push_back(cur);
  return parts;
}

std::string strip(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// "[label:] a.b=1, c.d=[1,2]": the label is what precedes ": " when that part has no '='.
Result<Variant> parse_variant(const std::string& text) {
  Variant v;
  std::string body = text;
  const auto colon = text.find(':');
  if (colon != std::string::npos && text.substr(0, colon).find('=') == std::string::npos) {
    v.label = strip(text.substr(0, colon));
    body = text.substr(colon + 1);
  }
  for (const auto& part : split_top_level(body)) {
    const std::string p = strip(part);
    if (p.empty()) continue;
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      Diagnostics d;
      d.add({"", 0, "", "--variant \"" + text + "\": \"" + p + "\" is not PATH=VALUE",
             "e.g. --variant \"zero2: training.sharding=zero2, training.micro_batch=2\""});
      return d;
    }
    v.sets.push_back(p);
  }
  if (v.sets.empty()) {
    Diagnostics d;
    d.add({"", 0, "", "--variant \"" + text + "\" changes nothing", "give PATH=VALUE pairs separated by commas"});
    return d;
  }
  if (v.label.empty()) v.label = strip(body);
  return v;
}

enum class InputKind { scenario, report, sweep_results };

struct Input {
  std::string path;  // for sweep results: the results.jsonl
  InputKind kind = InputKind::scenario;
  nlohmann::json report;  // InputKind::report
};

Result<Input> classify_input(const std::string& arg) {
  Input in{arg, InputKind::scenario, {}};
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    in.path = arg + "/results.jsonl";
    in.kind = InputKind::sweep_results;
  } else if (arg.size() > 6 && arg.compare(arg.size() - 6, 6, ".jsonl") == 0) {
    in.kind = InputKind::sweep_results;
  } else {
    auto doc = load_json_file(arg);
    if (!doc.ok()) return doc.errors();
    if (doc.value().root.is_object() && doc.value().root.value("schema", "") == "stepsim.report/1") {
      in.kind = InputKind::report;
      in.report = doc.value().root;
    }
  }
  if (in.kind == InputKind::sweep_results && !fs::is_regular_file(in.path, ec)) {
    Diagnostics d;
    d.add({in.path, 0, "", "no sweep results here", "give a folder written by `stepsim sweep --out` or its results.jsonl"});
    return d;
  }
  return in;
}

std::vector<ComparedRun> sweep_runs(const std::string& jsonl) {
  std::vector<ComparedRun> runs;
  std::ifstream in(jsonl, std::ios::binary);
  std::string line;
  for (const auto& r : scan_records({jsonl})) {
    line.assign(static_cast<size_t>(r.length), '\0');
    in.clear();
    in.seekg(r.offset);
    in.read(line.data(), r.length);
    runs.push_back(compared_run_of_record(nlohmann::ordered_json::parse(line)));
  }
  return runs;
}

std::string stem(const std::string& path) { return fs::path(path).stem().string(); }

// A scenario to simulate: its column label and the child's arguments.
struct Simulation {
  size_t column;
  std::string label;
  std::vector<std::string> args;
};

std::vector<std::string> run_args(const std::string& scenario, const std::vector<std::string>& sets) {
  std::vector<std::string> args{"run", scenario, "--json"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// Simulates every scenario column in parallel; fills runs[column]. Returns the first failure's status.
int simulate(const std::vector<Simulation>& sims, std::vector<ComparedRun>& runs, int jobs) {
  size_t next = 0;
  int status = kExitOk;
  run_children(
      jobs > 0 ? jobs : default_jobs(),
      [&]() -> std::optional<ChildJob> {
        if (next == sims.size()) return std::nullopt;
        ++next;
        return ChildJob{next - 1, sims[next - 1].args};
      },
      [&](ChildResult r) {
        const Simulation& sim = sims[r.key];
        auto report = nlohmann::json::parse(r.out, nullptr, false);
        if (r.exit_code != kExitOk || report.is_discarded()) {
          std::cerr << fmt::format("error: {}: the run failed\n{}\n", sim.label, failure_text(r));
          if (status == kExitOk) status = r.exit_code == kExitBadInput ? kExitBadInput : kExitInternal;
          return;
        }
        runs[sim.column].report = std::move(report);
      });
  return status;
}

}  // namespace

int compare_command(const CompareOptions& o) {
  std::vector<Input> inputs;
  Diagnostics errors;
  for (const auto& arg : o.inputs) {
    auto in = classify_input(arg);
    if (in.ok()) inputs.push_back(in.value());
    else errors.append(in.errors());
  }
  std::vector<Variant> variants;
  for (const auto& text : o.variants) {
    auto v = parse_variant(text);
    if (v.ok()) variants.push_back(v.value());
    else errors.append(v.errors());
  }
  if (!variants.empty() && (inputs.size() != 1 || inputs[0].kind != InputKind::scenario))
    errors.add({"", 0, "", "--variant needs exactly one scenario input",
                "e.g. stepsim compare scenarios/a.json --variant \"tp2: training.tp=2\" --variant \"tp4: training.tp=4\""});
  if (!errors.ok()) {
    std::cerr << errors.to_string();
    return kExitBadInput;
  }

  std::vector<ComparedRun> runs;
  std::vector<Simulation> sims;
  for (const auto& in : inputs) {
    if (in.kind == InputKind::sweep_results) {
      for (auto& r : sweep_runs(in.path)) runs.push_back(std::move(r));
    } else if (in.kind == InputKind::report) {
      runs.push_back({in.report.value("scenario", stem(in.path)), {}, in.report, ""});
    } else {
      sims.push_back({runs.size(), stem(in.path), run_args(in.path, o.overrides)});
      runs.push_back({stem(in.path), {}, nullptr, ""});
      for (const auto& v : variants) {
        std::vector<std::string> sets = o.overrides;
        sets.insert(sets.end(), v.sets.begin(), v.sets.end());
        sims.push_back({runs.size(), v.label, run_args(in.path, sets)});
        runs.push_back({v.label, {}, nullptr, ""});
      }
    }
  }
  if (int status = simulate(sims, runs, o.jobs); status != kExitOk) return status;

  std::cout << (o.markdown ? comparison_markdown(runs) : comparison_text(runs));
  if (!o.html.empty()) {
    std::string title = o.title;
    if (title.empty()) {
      title = fmt::format("stepsim compare: {} runs", runs.size());
      if (runs.size() <= 3) {
        title = "stepsim compare:";
        for (size_t i = 0; i < runs.size(); ++i) title += (i ? " vs " : " ") + run_label(runs[i]);
      }
    }
    std::ofstream out(o.html, std::ios::binary | std::ios::trunc);
    out << comparison_html(title, runs);
    out.flush();
    if (!out) {
      std::cerr << "error: cannot write " << o.html << " (--html)\n";
      return kExitBadInput;
    }
  }
  return kExitOk;
}

}  // namespace stepsim
