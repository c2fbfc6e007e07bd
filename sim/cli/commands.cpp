#include "cli/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "report/static_report.h"
#include "report/units.h"
#include "scenario/data_dirs.h"
#include "scenario/efficiency_spec.h"
#include "scenario/file_kind.h"
#include "scenario/scenario.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/op_costs.h"
#include "workload/program_builder.h"

namespace stepsim {

namespace {

void print_errors(const Diagnostics& d) {
  std::cout.flush();  // keep results and diagnostics in order on a shared terminal
  std::cerr << d.to_string();
}

}  // namespace

int run_command(const RunOptions& options) {
  std::vector<Override> overrides;
  Diagnostics usage;
  for (const auto& text : options.overrides) {
    auto o = parse_override(text);
    if (o.ok()) overrides.push_back(o.value());
    else usage.append(o.errors());
  }
  if (!usage.ok()) {
    print_errors(usage);
    return kExitBadInput;
  }
  const std::string path = options.scenario.empty() ? default_scenario_path() : options.scenario;
  auto scenario = load_scenario(path, overrides);
  if (!scenario.ok()) {
    print_errors(scenario.errors());
    return kExitBadInput;
  }
  const Scenario& s = scenario.value();
  auto overheads = load_memory_overheads();
  if (!overheads.ok()) {
    print_errors(overheads.errors());
    return kExitInternal;
  }
  Workload workload = build_workload(s, overheads.value());
  Diagnostics cost_errors = apply_costs(s, workload);
  if (!cost_errors.ok()) {
    print_errors(cost_errors);
    return kExitBadInput;
  }
  auto memory = evaluate_memory(s, workload, /*suggest=*/true);
  if (!memory.ok()) {
    print_errors(memory.errors());
    return kExitBadInput;
  }
  WorkloadFacts facts{memory.value(), summarize_compute(workload), 0};
  facts.peak_global_rank = workload.layout.rank_of({0, 0, 0, facts.memory.worst.pipeline_rank});
  const auto report = report_json(s, facts);
  if (options.json) std::cout << report.dump(2) << "\n";
  else std::cout << report_text(s, facts);
  if (!s.outputs.report_json.empty()) {
    std::ofstream out(s.outputs.report_json);
    if (!out) {
      std::cerr << "error: cannot write the report to " << s.outputs.report_json << " (outputs.report_json)\n";
      return kExitBadInput;
    }
    out << report.dump(2) << "\n";
  }
  if (options.fail_on_oom && (facts.memory.oom || facts.memory.host_oom)) return kExitOom;
  return kExitOk;
}

int check_command(const std::vector<std::string>& files, bool all_shipped) {
  std::vector<std::string> targets = files;
  if (all_shipped) {
    for (CatalogKind k : {CatalogKind::gpus, CatalogKind::models, CatalogKind::topologies, CatalogKind::scenarios})
      for (const auto& f : catalog_files(k)) targets.push_back(f);
    for (const auto& family : efficiency_families()) targets.push_back(efficiency_dir() + "/" + family + ".json");
  }
  if (targets.empty()) {
    std::cerr << "error: nothing to check; give files or --all\n";
    return kExitBadInput;
  }
  int bad = 0;
  for (const auto& f : targets) {
    CheckOutcome outcome = check_file(f);
    if (outcome.errors.ok()) {
      std::cout << fmt::format("ok    {}  ({})\n", f, outcome.summary);
    } else {
      ++bad;
      std::cout << fmt::format("FAIL  {}\n", f);
      print_errors(outcome.errors);
    }
  }
  std::cout << fmt::format("{} file(s) checked, {} invalid\n", targets.size(), bad);
  return bad == 0 ? kExitOk : kExitBadInput;
}

namespace {

nlohmann::ordered_json describe_gpu(const GpuSpec& g) {
  nlohmann::ordered_json j{{"id", g.id},
                           {"name", g.name},
                           {"family", g.family},
                           {"memory_gb", g.memory_bytes / 1e9},
                           {"memory_type", g.memory_type},
                           {"memory_bandwidth_gbps", g.memory_bandwidth / 1e9}};
  for (Precision p : kAllPrecisions) {
    auto f = g.peak_flops(p);
    j["dense_tflops"][to_string(p)] = f ? nlohmann::ordered_json(*f / 1e12) : nlohmann::ordered_json(nullptr);
  }
  j["tdp_w"] = g.tdp_w;
  j["nvlink"] = g.nvlink ? nlohmann::ordered_json(g.nvlink->scope) : nlohmann::ordered_json(nullptr);
  return j;
}

nlohmann::ordered_json describe_model(const ModelSpec& m) {
  return {{"id", m.id},     {"name", m.name},         {"arch", to_string(m.arch)}, {"layers", m.layers},
          {"hidden", m.hidden}, {"parameters", count_parameters(m).total}, {"moe", m.moe.has_value()}};
}

nlohmann::ordered_json describe_topology(const TopologySpec& t) {
  return {{"id", t.id},
          {"gpu", t.gpu},
          {"gpus_per_node", t.gpus_per_node()},
          {"nodes", t.nodes},
          {"fabric", t.fabric ? nlohmann::ordered_json(t.fabric->kind) : nlohmann::ordered_json(nullptr)},
          {"description", t.description}};
}

nlohmann::ordered_json describe_scenario(const std::string& file) {
  auto s = load_scenario(file);
  nlohmann::ordered_json j{{"id", file.substr(file.find_last_of('/') + 1)}};
  if (!s.ok()) {
    j["error"] = s.errors().to_string();
    return j;
  }
  j["name"] = s.value().name;
  j["model"] = s.value().model.id;
  j["gpu"] = s.value().gpu.id;
  j["gpus"] = s.value().total_gpus();
  j["description"] = s.value().description;
  return j;
}

std::string text_line(CatalogKind kind, const nlohmann::ordered_json& j) {
  if (j.contains("error")) return fmt::format("  {:<40} INVALID (run `stepsim check`)", j["id"].get<std::string>());
  switch (kind) {
    case CatalogKind::gpus: {
      auto tf = [&](const char* p) {
        const auto& v = j["dense_tflops"][p];
        return v.is_null() ? std::string("-") : fmt::format("{:.0f}", v.get<double>());
      };
      return fmt::format("  {:<32} {:>5.0f} GB {:<8} {:>6.0f} GB/s  bf16 {:>5}  fp8 {:>5}  fp4 {:>5} TFLOPS  {:>5.0f} W",
                         j["id"].get<std::string>(), j["memory_gb"].get<double>(), j["memory_type"].get<std::string>(),
                         j["memory_bandwidth_gbps"].get<double>(), tf("bf16"), tf("fp8"), tf("fp4"),
                         j["tdp_w"].get<double>());
    }
    case CatalogKind::models:
      return fmt::format("  {:<28} {:<6} {:>4} layers  hidden {:>6}  {} parameters{}", j["id"].get<std::string>(),
                         j["arch"].get<std::string>(), j["layers"].get<int64_t>(), j["hidden"].get<int64_t>(),
                         format_count(j["parameters"].get<double>()), j["moe"].get<bool>() ? " (MoE)" : "");
    case CatalogKind::topologies:
      return fmt::format("  {:<30} {} × {:<30} fabric {}", j["id"].get<std::string>(),
                         j["gpus_per_node"].get<int>(), j["gpu"].get<std::string>(),
                         j["fabric"].is_null() ? "none" : j["fabric"].get<std::string>());
    case CatalogKind::scenarios:
      return fmt::format("  {:<46} {} on {} × {}", j["id"].get<std::string>(), j["model"].get<std::string>(),
                         j["gpus"].get<int>(), j["gpu"].get<std::string>());
  }
  return "";
}

nlohmann::ordered_json describe(CatalogKind kind, const std::string& file) {
  if (kind == CatalogKind::scenarios) return describe_scenario(file);
  auto doc = load_json_file(file);
  nlohmann::ordered_json bad{{"id", file.substr(file.find_last_of('/') + 1)}};
  if (!doc.ok()) {
    bad["error"] = doc.errors().to_string();
    return bad;
  }
  if (kind == CatalogKind::gpus) {
    auto g = parse_gpu(doc.value());
    if (g.ok()) return describe_gpu(g.value());
    bad["error"] = g.errors().to_string();
  } else if (kind == CatalogKind::models) {
    auto m = parse_model(doc.value());
    if (m.ok()) return describe_model(m.value());
    bad["error"] = m.errors().to_string();
  } else {
    auto t = parse_topology(doc.value());
    if (t.ok()) return describe_topology(t.value());
    bad["error"] = t.errors().to_string();
  }
  return bad;
}

}  // namespace

int catalog_command(const std::string& what, bool json) {
  std::vector<CatalogKind> kinds;
  if (what.empty() || what == "all") kinds = {CatalogKind::gpus, CatalogKind::models, CatalogKind::topologies, CatalogKind::scenarios};
  else if (what == "gpus") kinds = {CatalogKind::gpus};
  else if (what == "models") kinds = {CatalogKind::models};
  else if (what == "topologies") kinds = {CatalogKind::topologies};
  else if (what == "scenarios") kinds = {CatalogKind::scenarios};
  nlohmann::ordered_json all;
  for (CatalogKind k : kinds) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& f : catalog_files(k)) list.push_back(describe(k, f));
    if (json) {
      all[catalog_noun(k) == "GPU" ? "gpus" : catalog_noun(k) == "model" ? "models"
                                            : catalog_noun(k) == "topology" ? "topologies" : "scenarios"] = list;
      continue;
    }
    std::cout << fmt::format("{} ({} in {}):\n", catalog_noun(k), list.size(), catalog_dir(k));
    for (const auto& j : list) std::cout << text_line(k, j) << "\n";
  }
  if (json) std::cout << (kinds.size() == 1 ? all.begin().value() : all).dump(2) << "\n";
  return kExitOk;
}

}  // namespace stepsim
