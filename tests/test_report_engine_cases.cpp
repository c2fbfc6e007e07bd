// Report-stage facts that need a simulation, checked against hand-computed numbers. SimGrid allows
// one Engine per process, so each case is its own ctest (`test_report_engine_cases <case>`); exit
// status 0 = pass. Every case prints what it measured and what it expected.
//   link_usage_ring      data-parallel ring all-reduces (zero sharding) of a small llama on 8 GPUs
//                        of one NVSwitch (ring8.json, 450 GB/s per GPU port): every GPU's port to
//                        the switch carries 2(P-1)/P of the gradient bytes of one rank (the sum of
//                        the program's dp all-reduce payloads); the utilization samples integrate
//                        back to those bytes; busy_fraction = bytes / (bandwidth x step time).
//   link_sampler_thinning
//                        one 1 GiB transfer gpu0 -> gpu1 on ring8.json, sampled with an expected
//                        step 1000x too short: the sample count stays bounded (thinned by pairs),
//                        the samples still integrate to the bytes, and the link is busy at 450 GB/s
//                        for M/B seconds after the 0.6 us route latency.
//   critical_path_pipeline
//                        pp = 4 1F1B on practically free links (free4.json): the critical path is a
//                        chain without overlaps from 0 to the step time whose compute time is at
//                        least the busiest stage's; the bottleneck list sums to the path.
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <fmt/format.h>

#include "cluster/platform.h"
#include "engine/link_usage.h"
#include "engine/simgrid_config.h"
#include "engine_case_checks.h"
#include "engine/step_simulation.h"
#include "report/bottlenecks.h"
#include "report/critical_path.h"
#include "scenario/collective_calibration.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "workload/op_costs.h"
#include "workload/program_builder.h"

using namespace stepsim;
using namespace stepsim::engine_cases;

namespace {

struct Simulated {
  Scenario scenario;
  Workload workload;
  StepResult result;
};

Simulated simulate(const std::string& topology, const std::string& training, const std::string& name) {
  const std::string text = fmt::format(R"({{
    "name": "{0}",
    "cluster": {{"topology": "{1}"}},
    "model": {{"arch": "llama", "layers": 4, "hidden": 1024, "heads": 8, "ffn_hidden": 4096, "vocab": 32000}},
    "training": {{{2}}},
    "simulation": {{"fidelity": "macro", "collective_algorithm": "ring"}}
  }})",
                                       name, topology, training);
  auto doc = parse_json_text(text, kData + name + ".json");
  if (!doc.ok()) die("parse_json_text", doc.errors());
  auto scenario = parse_scenario(doc.value(), {});
  if (!scenario.ok()) die("parse_scenario", scenario.errors());
  auto overheads = load_memory_overheads();
  if (!overheads.ok()) die("load_memory_overheads", overheads.errors());
  Simulated out{scenario.value(), build_workload(scenario.value(), overheads.value()), {}};
  Diagnostics cost = apply_costs(out.scenario, out.workload);
  if (!cost.ok()) die("apply_costs", cost);
  StepOptions options;
  options.fidelity = Fidelity::macro;
  options.algorithm = "ring";
  auto step = simulate_step(out.scenario, out.workload, cluster(topology), ideal_calibration(), options);
  if (!step.ok()) die("simulate_step", step.errors());
  out.result = step.value();
  return out;
}

void link_usage_ring() {
  const Simulated s = simulate(kData + "ring8.json",
                               R"("seq_len": 1024, "global_batch": 8, "micro_batch": 1, "optimizer": "sgd")", "links");
  const int p = 8;
  double payload = 0;
  int collectives = 0;
  for (const Op& op : s.workload.stages[0].ops) {
    if (!is_communication(op.kind)) continue;
    expect(op.kind == OpKind::all_reduce && op.group == Group::dp_shard,
           "only data-parallel all-reduces: " + to_string(op.kind) + " " + to_string(op.group));
    payload += op.bytes;
    ++collectives;
  }
  const double want = 2.0 * (p - 1) / p * payload;
  std::printf("  %d all-reduces, %.9g bytes of gradients per rank; step %.9g s; %zu links with traffic\n", collectives,
              payload, s.result.step_time, s.result.links.size());
  expect(s.result.links.size() == 2 * p, "16 links carried traffic (8 GPU->switch, 8 switch->GPU)");
  for (size_t i = 1; i < s.result.links.size(); ++i)
    expect(s.result.links[i - 1].name < s.result.links[i].name, "links sorted by name");
  for (const LinkUsage& l : s.result.links) {
    // SimGrid's link-load plugin integrates the rate from one flow event to the next; the end of
    // a flow's latency phase is no event, so each macro flow (one per all-reduce on this link)
    // also counts its route latency (0.6 us) at its rate (<= 450 GB/s): at most 270 kB more.
    const double slack = collectives * 0.6e-6 * 450e9;
    std::printf("  %s: %.9g bytes, exact %.9g, plugin excess %.9g (bound %.9g)\n", l.name.c_str(), l.bytes, want,
                l.bytes - want, slack);
    expect(l.bytes >= want * (1 - 1e-12) && l.bytes <= (want + slack) * (1 + 1e-12),
           l.name + " carries 2(P-1)/P of the gradient bytes, plus at most one route latency per flow");
    expect(l.bandwidth == 450e9, l.name + ": 450 GB/s");
    expect_close(l.busy_fraction, l.bytes / (l.bandwidth * s.result.step_time), 1e-12, l.name + ": busy fraction");
    double integral = 0, previous = 0, peak = 0;
    for (const auto& [t, u] : l.utilization) {
      integral += u * l.bandwidth * (t - previous);
      previous = t;
      peak = std::max(peak, u);
    }
    expect_close(integral, l.bytes, 1e-6, l.name + ": utilization samples integrate to the bytes");
    expect(peak <= 1 + 1e-9, l.name + fmt::format(": utilization never above 1 (peak {:.6f})", peak));
    expect_close(previous, s.result.step_time, 1e-12, l.name + ": the last sample ends the step");
  }
  const bool named = std::any_of(s.result.links.begin(), s.result.links.end(),
                                 [](const LinkUsage& l) { return l.name == "n0.gpu0->n0.nvswitch"; }) &&
                     std::any_of(s.result.links.begin(), s.result.links.end(),
                                 [](const LinkUsage& l) { return l.name == "n0.nvswitch->n0.gpu0"; });
  expect(named, "links named like ClusterGraph links (n0.gpu0->n0.nvswitch and back)");
}

void link_sampler_thinning() {
  const ClusterGraph g = cluster(kData + "ring8.json");
  SimgridArguments args;
  simgrid::s4u::Engine engine(args.argc(), args.argv());
  LinkSampler::enable_plugin();
  Platform platform = build_platform(g);
  LinkSampler sampler;
  const double bytes = 1024.0 * 1024 * 1024, bw = 450e9, alpha = 0.6e-6;
  const double expected = (alpha + bytes / bw) / 1000;
  sampler.start(platform.gpus[0], expected);
  simgrid::s4u::Actor::create("send", platform.gpus[0], [&] {
    static int payload = 0;
    simgrid::s4u::Mailbox::by_name("m")->put(&payload, static_cast<uint64_t>(bytes));
  });
  simgrid::s4u::Actor::create("recv", platform.gpus[1], [&] { simgrid::s4u::Mailbox::by_name("m")->get<int>(); });
  engine.run();
  const double t = simgrid::s4u::Engine::get_clock();
  const std::vector<LinkUsage> links = sampler.finish(t);
  expect_close(t, alpha + bytes / bw, 1e-9, "transfer time = α + M/B");
  expect(links.size() == 2, fmt::format("two links carried the transfer ({})", links.size()));
  for (const LinkUsage& l : links) {
    const size_t limit = 2 * LinkSampler::kSamplesPerStep + 1;
    expect(l.utilization.size() <= limit,
           fmt::format("{}: {} samples <= {} despite a step 1000x longer than expected", l.name, l.utilization.size(), limit));
    expect(l.utilization.size() >= LinkSampler::kSamplesPerStep / 2, l.name + ": still finely sampled");
    expect(l.bytes >= bytes && l.bytes <= bytes + alpha * bw * 1.000001,
           fmt::format("{}: {} bytes = M plus at most α·B", l.name, l.bytes));
    double integral = 0, previous = 0, peak = 0;
    for (const auto& [time, u] : l.utilization) {
      integral += u * l.bandwidth * (time - previous);
      previous = time;
      peak = std::max(peak, u);
    }
    expect_close(integral, l.bytes, 1e-9, l.name + ": samples integrate to the bytes");
    expect_close(peak, 1.0, 1e-6, l.name + ": full rate while the transfer runs");
  }
}

void critical_path_pipeline() {
  const Simulated s = simulate(kData + "free4.json",
                               R"("seq_len": 2048, "global_batch": 8, "micro_batch": 1, "pp": 4, "optimizer": "sgd")",
                               "critical-pp");
  const CriticalPath path = find_critical_path(s.workload, s.result, nullptr);
  const double t = s.result.step_time;
  std::printf("  step %.9g s, %zu critical steps, covered %.9g s\n", t, path.steps.size(), path.covered());
  expect_close(path.covered(), t, 1e-9, "the path covers the step");
  expect(!path.steps.empty() && std::fabs(path.steps.front().start) <= 1e-12 * t, "the path starts at 0");
  expect(!path.steps.empty() && std::fabs(path.steps.back().end - t) <= 1e-9 * t, "the path ends at the step time");
  bool chained = true;
  for (size_t i = 1; i < path.steps.size(); ++i)
    chained = chained && std::fabs(path.steps[i].start - path.steps[i - 1].end) <= 1e-9 * t;
  expect(chained, "each step starts where the previous one ended");
  // The path must contain at least the busiest stage's compute (it is a longest chain).
  double busiest = 0, on_path = 0;
  for (const RankProgram& p : s.workload.stages) {
    double sum = 0;
    for (const Op& op : p.ops)
      if (!is_communication(op.kind)) sum += op.seconds;
    busiest = std::max(busiest, sum);
  }
  std::map<int, bool> ranks;
  for (const CriticalStep& c : path.steps) {
    if (c.kind == CriticalKind::compute) on_path += c.end - c.start;
    ranks[c.rank] = true;
  }
  std::printf("  compute on the path %.9g s, busiest stage %.9g s, %zu ranks visited\n", on_path, busiest, ranks.size());
  expect(on_path >= busiest * (1 - 1e-9), "compute on the path >= the busiest stage's compute");
  expect(ranks.size() == 4, "the path visits all 4 stages (fill and drain of the pipeline)");
  double sum = 0;
  for (const Bottleneck& b : rank_bottlenecks(path, s.result)) sum += b.critical_path_fraction;
  expect_close(sum, 1.0, 1e-9, "bottleneck shares of the path add up to 1");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "";
  std::printf("case %s\n", which.c_str());
  if (which == "link_usage_ring") link_usage_ring();
  else if (which == "link_sampler_thinning") link_sampler_thinning();
  else if (which == "critical_path_pipeline") critical_path_pipeline();
  else expect(false, "unknown case \"" + which + "\"");
  return case_status();
}
