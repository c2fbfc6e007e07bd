#include "cli/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <fstream>
#include <iostream>

#include "cli/trace_outputs.h"
#include "report/report_csv.h"
#include "report/step_report.h"
#include "report/units.h"
#include "scenario/data_dirs.h"
#include "scenario/efficiency_spec.h"
#include "scenario/file_kind.h"
#include "scenario/scenario.h"
#include "scenario/sweep_spec.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/op_costs.h"
#include "cluster/cluster_graph.h"
#include "engine/collective_benchmark.h"
#include "engine/step_simulation.h"
#include "scenario/collective_calibration.h"
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
  if (options.json && options.csv) usage.add({"", 0, "", "--json and --csv both choose the output format", "give one of them"});
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
  auto trace_request = parse_trace_request(options, s);
  if (!trace_request.ok()) {
    print_errors(trace_request.errors());
    return kExitBadInput;
  }
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
  WorkloadFacts facts{evaluate_memory(s, workload, overheads.value(), /*suggest=*/true), summarize_compute(workload), 0,
                      std::nullopt, std::nullopt};
  facts.peak_global_rank = workload.layout.rank_of({0, 0, 0, facts.memory.worst.pipeline_rank});
  const bool skip_engine = options.no_engine || (options.skip_engine_on_oom && (facts.memory.oom || facts.memory.host_oom));
  if (!skip_engine) {
    auto cluster = ClusterGraph::build(s.topology, s.gpu, s.nodes);
    auto calibration = load_collective_calibration();
    if (!cluster.ok() || !calibration.ok()) {
      print_errors(cluster.ok() ? calibration.errors() : cluster.errors());
      return kExitBadInput;
    }
    StepOptions step_options;
    step_options.fidelity = parse_fidelity(s.simulation.fidelity);
    step_options.record_all_ranks = s.total_gpus() <= 1024;
    step_options.fold_replicas = s.simulation.fold_replicas;
    step_options.algorithm = s.simulation.collective_algorithm;
    step_options.protocol = s.simulation.collective_protocol;
    step_options.extra_recorded_ranks = trace_request.value().ranks;
    auto step = simulate_step(s, workload, cluster.value(), calibration.value(), step_options);
    if (!step.ok()) {
      print_errors(step.errors());
      return kExitInternal;
    }
    facts.step = std::move(step.value());
    facts.critical_path = find_critical_path(workload, *facts.step, &cluster.value());
  }
  const auto report = report_json(s, facts);
  if (options.json) std::cout << report.dump(2) << "\n";
  else if (options.csv) std::cout << csv_header() << "\n" << csv_row(nlohmann::json(report)) << "\n";
  else std::cout << report_text(s, facts);
  if (!s.outputs.report_json.empty()) {
    std::ofstream out(s.outputs.report_json);
    if (!out) {
      std::cerr << "error: cannot write the report to " << s.outputs.report_json << " (outputs.report_json)\n";
      return kExitBadInput;
    }
    out << report.dump(2) << "\n";
  }
  if (!facts.step && trace_request.value().wanted)
    std::cerr << "note: no trace or timeline written: the simulation was skipped (out of memory with --skip-engine-on-oom)\n";
  if (facts.step) {
    const int traced = write_trace_outputs(options, trace_request.value(), s, workload, overheads.value(), *facts.step,
                                           facts.critical_path.value_or(CriticalPath{}));
    if (traced != kExitOk) return traced;
  }
  if (options.fail_on_oom && (facts.memory.oom || facts.memory.host_oom)) return kExitOom;
  return kExitOk;
}

int check_command(const std::vector<std::string>& files, bool all_shipped) {
  std::vector<std::string> targets = files;
  if (all_shipped) {
    for (CatalogKind k : {CatalogKind::gpus, CatalogKind::models, CatalogKind::topologies, CatalogKind::scenarios})
      for (const auto& f : catalog_files(k)) targets.push_back(f);
    for (const auto& f : sweep_spec_files()) targets.push_back(f);  // scenarios/sweeps/
    for (const auto& family : efficiency_families()) targets.push_back(efficiency_dir() + "/" + family + ".json");
    for (const char* f : {"collectives.json", "memory-overheads.json", "cost-defaults.json"})
      targets.push_back(data_root() + "/topologies/framework/" + f);
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
  if (g.has_idle_w) j["idle_w"] = g.idle_w;
  j["prices"] = nlohmann::ordered_json::array();  // the first of each kind is the one the cost model uses
  for (const GpuPrice& p : g.prices)
    j["prices"].push_back({{"kind", p.kind}, {"usd", p.usd}, {"date", p.date}, {"provider", p.provider}});
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
      auto price = [&](const char* kind, const char* format) {  // the catalog's first price of that kind
        for (const auto& p : j["prices"])
          if (p["kind"] == kind) return fmt::format(fmt::runtime(format), p["usd"].get<double>());
        return std::string("-");
      };
      return fmt::format("  {:<32} {:>5.0f} GB {:<8} {:>6.0f} GB/s  bf16 {:>5}  fp8 {:>5}  fp4 {:>5} TFLOPS  {:>5.0f} W"
                         "  {:>10}  {:>13}",
                         j["id"].get<std::string>(), j["memory_gb"].get<double>(), j["memory_type"].get<std::string>(),
                         j["memory_bandwidth_gbps"].get<double>(), tf("bf16"), tf("fp8"), tf("fp4"),
                         j["tdp_w"].get<double>(), price("purchase", "buy ${:.0f}"),
                         price("cloud_gpu_hour", "cloud ${:.2f}/h"));
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

namespace {

// "32M", "1G", "4096", "1.5K": binary multiples, as nccl-tests reads -b/-e.
std::optional<double> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty()) return std::nullopt;
  if (!(v > 0) || v * scale > 1e15) return std::nullopt;
  return v * scale;
}

OpKind collective_kind(const std::string& op) {
  if (op == "reducescatter") return OpKind::reduce_scatter;
  if (op == "allgather") return OpKind::all_gather;
  if (op == "alltoall") return OpKind::all_to_all;
  if (op == "broadcast") return OpKind::broadcast;
  if (op == "sendrecv") return OpKind::send;
  return OpKind::all_reduce;
}

}  // namespace

int collective_command(const CollectiveOptions& o) {
  auto topology = load_topology(o.topology);
  if (!topology.ok()) {
    print_errors(topology.errors());
    return kExitBadInput;
  }
  const TopologySpec& t = topology.value();
  auto gpu = load_gpu(o.gpu.empty() ? t.gpu : o.gpu);
  auto calibration = load_collective_calibration();
  if (!gpu.ok() || !calibration.ok()) {
    print_errors(gpu.ok() ? calibration.errors() : gpu.errors());
    return kExitBadInput;
  }
  auto min_bytes = parse_size(o.min_bytes);
  auto max_bytes = parse_size(o.max_bytes);
  if (!min_bytes || !max_bytes || *min_bytes > *max_bytes || !(o.factor > 1)) {
    std::cerr << "error: sizes: -b " << o.min_bytes << " -e " << o.max_bytes << " -f " << o.factor
              << ": need 0 < MIN <= MAX (e.g. 32M, 1G) and FACTOR > 1\n";
    return kExitBadInput;
  }
  auto cluster = ClusterGraph::build(t, gpu.value(), o.nodes > 0 ? o.nodes : t.nodes);
  if (!cluster.ok()) {
    print_errors(cluster.errors());
    return kExitBadInput;
  }
  CollectiveBenchmark bench;
  bench.op = collective_kind(o.op);
  bench.algorithm_choice = o.algo;
  bench.protocol_choice = o.proto;
  bench.fidelity = parse_fidelity(o.fidelity);
  for (double b = *min_bytes; b <= *max_bytes * (1 + 1e-9); b *= o.factor) bench.sizes.push_back(b);
  const auto points = run_collective_benchmark(cluster.value(), calibration.value(), bench);
  if (o.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& p : points)
      list.push_back({{"bytes", p.bytes}, {"time_s", p.time_s}, {"algbw_gbps", p.algbw / 1e9},
                      {"busbw_gbps", p.busbw / 1e9}, {"algo", p.algorithm},
                      {"protocol", p.protocol}, {"flows", p.flows}});
    std::cout << list.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("# stepsim collective: {} on {} × {} {} ({} GPUs), {} fidelity\n", o.op,
                           cluster.value().nodes(), cluster.value().gpus_per_node(), gpu.value().id,
                           cluster.value().gpu_count(), o.fidelity);
  std::cout << fmt::format("# {:>14} {:>12} {:>12} {:>10} {:>10}  {:<6} {}\n", "size (B)", "count", "time (us)",
                           "algbw", "busbw", "algo", "proto");
  std::cout << fmt::format("# {:>14} {:>12} {:>12} {:>10} {:>10}\n", "", "(float)", "", "(GB/s)", "(GB/s)");
  for (const auto& p : points)
    std::cout << fmt::format("  {:>14.0f} {:>12.0f} {:>12.2f} {:>10.2f} {:>10.2f}  {:<6} {}\n", p.bytes, p.bytes / 4,
                             p.time_s * 1e6, p.algbw / 1e9, p.busbw / 1e9, p.algorithm, p.protocol);
  return kExitOk;
}

}  // namespace stepsim
