// Energy of simulated GPUs against closed forms (SimGrid host energy plugin). One Engine per
// process, so each case is its own ctest (`test_energy_cases <case>`); exit status 0 = pass.
//   busy_then_idle        the platform alone: GPU 0 computes for t = 2 s, GPU 1 sleeps 5 s, so the
//                         run lasts T = 5 s: E0 = P_load·t + P_idle·(T−t), E1 = P_idle·T, every
//                         other GPU P_idle·T (h100-sxm5-80gb: 700 W / 70 W from the catalog).
//   step_equals_busy_time simulate_step on 4 GPUs with free links (pp = 4, 8 micro-batches) and
//                         the scenario's cost.gpu_load_w = 500, cost.gpu_idle_w = 100: each GPU
//                         is busy exactly for its stage's kernel seconds b_r, so
//                         gpu_energy_j = Σ_r 500·b_r + 100·(T − b_r).
//   folded_scales_to_world the same model with pp = 1, dp = 4 and fold_replicas: one replica is
//                         simulated and its energy × 4 equals Σ over all 4 GPUs of the closed form.
//   offloaded_step_idles_gpu ZeRO-3 with the optimizer offloaded, its host step given 0.5 s: the
//                         step lasts those 0.5 s longer, but the GPUs idle through them, so
//                         busy_r counts only the GPU kernels.
#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "cluster/cluster_graph.h"
#include "cluster/platform.h"
#include "engine/simgrid_config.h"
#include "engine_case_checks.h"
#include "engine/step_simulation.h"
#include "scenario/collective_calibration.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "workload/op_costs.h"
#include "workload/program_builder.h"

namespace sg4 = simgrid::s4u;
using namespace stepsim;
using namespace stepsim::engine_cases;

namespace {


ClusterGraph cluster_of(const Scenario& s) {
  auto g = ClusterGraph::build(s.topology, s.gpu, s.nodes);
  if (!g.ok()) die("ClusterGraph::build", g.errors());
  return g.value();
}

Scenario scenario(const std::string& name, const std::string& training, const std::string& extra) {
  const std::string text = fmt::format(R"({{
    "name": "{0}",
    "cluster": {{"topology": "{1}free4.json"}},
    "model": {{"arch": "llama", "layers": 8, "hidden": 1024, "heads": 8, "ffn_hidden": 4096, "vocab": 8}},
    "training": {{"seq_len": 4096, "micro_batch": 1, "optimizer": "sgd", {2}}},
    "cost": {{"gpu_load_w": 500, "gpu_idle_w": 100}}{3}
  }})",
                                       name, kData, training, extra);
  auto doc = parse_json_text(text, kData + name + ".json");
  if (!doc.ok()) die("parse_json_text", doc.errors());
  auto s = parse_scenario(doc.value(), {});
  if (!s.ok()) die("parse_scenario", s.errors());
  return s.value();
}

void busy_then_idle() {
  SimgridArguments args;
  sg4::Engine engine(args.argc(), args.argv());
  sg_host_energy_plugin_init();
  Scenario s = scenario("busy-then-idle", R"("global_batch": 4)", "");
  s.gpu = load_gpu("h100-sxm5-80gb").value();  // the catalog's figures, not the scenario's override
  ClusterGraph g = cluster_of(s);
  Platform p = build_platform(g);
  const double t = 2, T = 5, load = 700, idle = 70;
  sg4::Actor::create("busy", p.gpus[0], [&] { sg4::this_actor::execute(t * kHostSpeed); });
  sg4::Actor::create("clock", p.gpus[1], [&] { sg4::this_actor::sleep_for(T); });
  engine.run();
  expect_close(sg4::Engine::get_clock(), T, 1e-12, "the run lasts T");
  expect_close(sg_host_get_consumed_energy(p.gpus[0]), load * t + idle * (T - t), 1e-9,
               "busy GPU: P_load·t + P_idle·(T−t)");
  for (int r = 1; r < 4; ++r)
    expect_close(sg_host_get_consumed_energy(p.gpus[static_cast<size_t>(r)]), idle * T, 1e-9,
                 fmt::format("GPU {} without kernels: P_idle·T", r));
}

// Σ over ranks of load·busy + idle·(T − busy), busy = the rank's stage's kernel seconds.
double closed_form_energy(const Workload& w, double T, double load, double idle) {
  double joules = 0;
  for (int r = 0; r < w.layout.world_size(); ++r) {
    double busy = 0;
    for (const Op& op : w.stages[static_cast<size_t>(w.layout.coordinates(r).pp)].ops)
      if (!is_communication(op.kind) && op.host_bytes <= 0) busy += op.seconds;
    joules += load * busy + idle * (T - busy);
  }
  return joules;
}

void step_energy(const std::string& training, bool fold, double host_step_s = 0) {
  const Scenario s = scenario(fold ? "energy-folded" : "energy-pipeline", training,
                              fold ? R"(, "simulation": {"fold_replicas": true})" : "");
  auto overheads = load_memory_overheads();
  if (!overheads.ok()) die("load_memory_overheads", overheads.errors());
  Workload w = build_workload(s, overheads.value());
  Diagnostics cost = apply_costs(s, w);
  if (!cost.ok()) die("apply_costs", cost);
  if (host_step_s > 0) {  // free4.json has no host bandwidth: give the offloaded step its time here
    for (RankProgram& p : w.stages)
      for (Op& op : p.ops)
        if (op.kind == OpKind::optimizer_step) {
          if (!(op.host_bytes > 0)) die("the offloaded optimizer step records no host bytes", Diagnostics{});
          op.seconds = host_step_s;
        }
  }
  auto calibration = load_collective_calibration();
  if (!calibration.ok()) die("load_collective_calibration", calibration.errors());
  StepOptions options;
  options.fold_replicas = fold;
  auto step = simulate_step(s, w, cluster_of(s), calibration.value(), options);
  if (!step.ok()) die("simulate_step", step.errors());
  const StepResult& r = step.value();
  std::printf("  step %.9g s, %d of %d ranks simulated (%s)\n", r.step_time, r.simulated_ranks,
              w.layout.world_size(), r.folding.c_str());
  if (fold && r.simulated_ranks != 1) {
    std::printf("FAIL: expected one simulated replica\n");
    ++failures;
  }
  expect_close(s.gpu.tdp_w, 500, 0, "the scenario's cost.gpu_load_w reaches the platform's card");
  expect_close(r.gpu_energy_j, closed_form_energy(w, r.step_time, 500, 100), 1e-9,
               "gpu_energy_j == Σ_r 500·busy_r + 100·(T − busy_r)");
  if (host_step_s > 0) {  // the host step is on every rank's path after its kernels
    double kernels = 0;
    for (const Op& op : w.stages[0].ops)
      if (!is_communication(op.kind) && op.host_bytes <= 0) kernels += op.seconds;
    if (!(r.step_time >= kernels + host_step_s - 1e-12)) {
      std::printf("FAIL: step %.9g s shorter than kernels %.9g s + host step %.9g s\n", r.step_time, kernels, host_step_s);
      ++failures;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "";
  std::printf("case %s\n", which.c_str());
  if (which == "busy_then_idle") busy_then_idle();
  else if (which == "step_equals_busy_time") step_energy(R"("global_batch": 8, "pp": 4)", false);
  else if (which == "folded_scales_to_world") step_energy(R"("global_batch": 8, "dp": 4)", true);
  else if (which == "offloaded_step_idles_gpu")
    step_energy(R"("global_batch": 8, "dp": 4, "sharding": "zero3", "offload": "optimizer")", false, 0.5);
  else {
    std::printf("FAIL: unknown case \"%s\"\n", which.c_str());
    ++failures;
  }
  return case_status();
}
