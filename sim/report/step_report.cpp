#include "report/step_report.h"

#include <fmt/format.h>

#include "report/cost_energy.h"
#include "report/bottlenecks.h"
#include "report/units.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/offload_cost.h"

namespace stepsim {

namespace {

using OJson = nlohmann::ordered_json;

struct StaticFigures {
  ParameterCounts params;
  FlopsPerToken flops;
  int64_t tokens_per_step = 0;
  int heaviest_rank = 0;
  ModelStateBytes states;
  int64_t trainable = 0;
};

StaticFigures compute(const Scenario& s) {
  StaticFigures f;
  f.params = count_parameters(s.model);
  f.flops = flops_per_token(s.model, s.training);
  f.tokens_per_step = s.tokens_per_step();
  f.heaviest_rank = heaviest_pipeline_rank(s);
  f.states = model_state_bytes(s, f.heaviest_rank);
  f.trainable = s.training.finetune == Finetune::full
                    ? f.params.total
                    : s.model.layers * lora_parameters_per_layer(s.model, s.training.lora_rank, s.training.lora_targets);
  return f;
}

std::string parallel_summary(const Scenario& s) {
  const TrainingConfig& t = s.training;
  return fmt::format("tp {} · pp {} · dp {} · cp {}{}{}", t.tp, t.pp, s.dp(), t.cp,
                     t.ep > 1 ? fmt::format(" · ep {}", t.ep) : "", t.vp > 1 ? fmt::format(" · vp {}", t.vp) : "");
}

OJson moment_json(const MemoryMoment& m) {
  return {{"phase", to_string(m.phase)},
          {"micro_batch", m.micro_batch},
          {"layer", m.layer},
          {"op", to_string(m.kind)}};
}

std::string moment_text(const MemoryMoment& m) {
  if (m.phase == Phase::optimizer) return "the optimizer step";
  std::string where = m.layer >= 0 ? fmt::format("layer {}", m.layer) : std::string("outside the layers");
  return fmt::format("{} of micro-batch {}, {}, {}", to_string(m.phase), m.micro_batch, where, to_string(m.kind));
}

OJson memory_json(const Scenario& s, const StaticFigures& f, const WorkloadFacts& w) {
  const MemoryVerdict& v = w.memory;
  OJson by_category = OJson::object();
  for (int c = 0; c < kMemCategoryCount; ++c)
    by_category[to_string(static_cast<MemCategory>(c))] = v.worst.at_peak[static_cast<size_t>(c)];
  OJson fixes = OJson::array();
  for (const MemoryFix& fix : v.fixes)
    fixes.push_back({{"change", fix.description},
                     {"set", fix.overrides},
                     {"peak_bytes", fix.peak_device_bytes},
                     {"required_bytes", fix.required_bytes}});
  OJson j{{"capacity_bytes", v.capacity_bytes},
          {"peak_bytes", v.worst.peak_device_bytes},
          {"peak_reserved_bytes", v.worst.peak_reserved_bytes},
          {"peak_allocated_bytes", v.worst.peak_tensor_bytes},
          {"required_bytes", v.worst.required_bytes},
          {"first_step_peak_bytes", v.worst.first_step_peak_device_bytes},
          {"peak_rank", w.peak_global_rank},
          {"peak_stage", v.worst.pipeline_rank},
          {"peak_at", moment_json(v.worst.peak_at)},
          {"oom", v.oom},
          {"shortfall_bytes", v.shortfall_bytes},
          {"headroom_bytes", v.headroom_bytes},
          {"tight", v.tight},
          {"by_category_bytes", by_category},
          {"fixes", fixes},
          {"model_states_rank", f.heaviest_rank},
          {"model_states_bytes",
           {{"weights", f.states.weights},
            {"gradients", f.states.gradients},
            {"optimizer", f.states.optimizer},
            {"total", f.states.total()}}},
          {"host", {{"offload_bytes_per_node", v.host_bytes_per_node},
                    {"capacity_bytes", v.host_capacity_bytes},
                    {"oom", v.host_oom}}},
          {"paged_optimizer", {{"bytes", v.paged_bytes}, {"evicted_bytes", v.paged_evicted_bytes}}}};
  (void)s;
  return j;
}

StepFacts step_facts(const Scenario& s, const StepResult& r) {
  return {s.total_gpus(), s.nodes, static_cast<double>(s.tokens_per_step()), r.step_time, r.gpu_energy_j,
          r.simulated_ranks};
}

}  // namespace

OJson report_json(const Scenario& s, const WorkloadFacts& w) {
  const StaticFigures f = compute(s);
  const TrainingConfig& t = s.training;
  OJson j;
  j["schema"] = kReportSchema;
  j["scenario"] = s.name.empty() ? s.file : s.name;
  j["model"] = {{"name", s.model.name}, {"parameters", f.params.total}, {"trainable_parameters", f.trainable}};
  j["gpus"] = s.total_gpus();
  j["gpu"] = s.gpu.id;
  j["parallelism"] = {{"tp", t.tp}, {"pp", t.pp}, {"dp", s.dp()}, {"cp", t.cp}, {"ep", t.ep}, {"vp", t.vp}};
  j["tokens_per_step"] = f.tokens_per_step;
  j["flops_per_step"] = f.flops.model() * static_cast<double>(f.tokens_per_step);
  j["hardware_flops_per_step"] = f.flops.hardware() * static_cast<double>(f.tokens_per_step);
  if (w.step) {
    const StepResult& r = *w.step;
    const double flops = f.flops.model() * static_cast<double>(f.tokens_per_step);
    const double hw_flops = f.flops.hardware() * static_cast<double>(f.tokens_per_step);
    const double peak = s.gpu.peak_flops(t.precision).value_or(0);
    j["step_time_s"] = r.step_time;
    j["tokens_per_s"] = static_cast<double>(f.tokens_per_step) / r.step_time;
    j["tokens_per_s_per_gpu"] = static_cast<double>(f.tokens_per_step) / r.step_time / s.total_gpus();
    j["model_tflops_per_gpu"] = flops / r.step_time / s.total_gpus() / 1e12;
    j["mfu"] = peak > 0 ? flops / r.step_time / s.total_gpus() / peak : 0.0;
    j["hfu"] = peak > 0 ? hw_flops / r.step_time / s.total_gpus() / peak : 0.0;
    const Breakdown& b = r.breakdown;
    OJson exposed = OJson::object();
    for (const char* k : {"tp", "pp", "dp", "cp", "ep"}) exposed[k] = b.exposed_comm.at(k);
    j["breakdown_s"] = {{"forward", b.forward},     {"backward", b.backward}, {"recompute", b.recompute},
                        {"optimizer", b.optimizer}, {"exposed_comm", exposed}, {"bubble", b.bubble},
                        {"idle", b.idle}};
    j["critical_rank"] = r.critical_rank;
    j["simulation"] = {{"comms", r.comms},
                       {"execs", r.execs},
                       {"simulated_ranks", r.simulated_ranks},
                       {"recorded_ranks", r.recorded_ranks.size()},
                       {"folding", r.folding},
                       {"note", r.algorithm_note}};
    if (w.critical_path) {
      j["critical_path"] = critical_path_json(*w.critical_path);
      j["bottlenecks"] = bottlenecks_json(rank_bottlenecks(*w.critical_path, r));
    }
    const StepFacts sf = step_facts(s, r);
    const CostEnergy ce = compute_cost_energy(s.cost, sf, s.gpu.id);
    j["energy"] = energy_json(s.cost, sf, ce);
    j["cost"] = cost_json(s.cost, ce);
  }
  j["memory"] = memory_json(s, f, w);
  j["compute_s"] = {{"stage", w.compute.stage},
                    {"total", w.compute.total_seconds},
                    {"by_phase", w.compute.seconds_by_phase},
                    {"by_kind", w.compute.seconds_by_kind}};
  return j;
}

std::string report_text(const Scenario& s, const WorkloadFacts& w) {
  const StaticFigures f = compute(s);
  const TrainingConfig& t = s.training;
  const MemoryVerdict& v = w.memory;
  std::string out;
  auto line = [&](const std::string& label, const std::string& value) {
    out += fmt::format("  {:<28}{}\n", label, value);
  };
  out += fmt::format("stepsim · {}\n", s.name.empty() ? s.file : s.name);
  line("model", fmt::format("{} ({} parameters, {} trainable)", s.model.name,
                            format_count(static_cast<double>(f.params.total)),
                            format_count(static_cast<double>(f.trainable))));
  line("cluster", fmt::format("{} node(s) × {} {} = {} GPUs ({})", s.nodes, s.gpus_per_node(), s.gpu.id,
                              s.total_gpus(), s.topology.id));
  line("parallelism", parallel_summary(s));
  line("training", fmt::format("{} · seq {} · global batch {} · micro-batch {} · {} · {} · recompute {}",
                               to_string(t.finetune), t.seq_len, t.global_batch, t.micro_batch,
                               to_string(t.precision), to_string(t.sharding), to_string(t.recompute)));
  line("tokens per step", fmt::format("{}", f.tokens_per_step));
  line("model FLOPs per step", format_si(f.flops.model() * static_cast<double>(f.tokens_per_step), "FLOP"));
  if (w.step) {
    const StepResult& r = *w.step;
    const double flops = f.flops.model() * static_cast<double>(f.tokens_per_step);
    const double peak = s.gpu.peak_flops(t.precision).value_or(0);
    const double per_gpu = flops / r.step_time / s.total_gpus();
    line("step time", format_seconds(r.step_time) +
                          (v.oom || v.host_oom ? " (as if it fit: this configuration runs out of memory)" : ""));
    line("throughput", fmt::format("{:.0f} tokens/s ({:.1f} per GPU)", f.tokens_per_step / r.step_time,
                                   f.tokens_per_step / r.step_time / s.total_gpus()));
    const double hw_per_gpu = f.flops.hardware() * static_cast<double>(f.tokens_per_step) / r.step_time / s.total_gpus();
    line("model FLOP/s per GPU", fmt::format("{} · MFU {:.1f} % · HFU {:.1f} % of the {} dense peak",
                                             format_si(per_gpu, "FLOP/s"), peak > 0 ? 100 * per_gpu / peak : 0.0,
                                             peak > 0 ? 100 * hw_per_gpu / peak : 0.0, to_string(t.precision)));
    const Breakdown& b = r.breakdown;
    auto share = [&](double x) { return fmt::format("{} ({:.1f} %)", format_seconds(x), 100 * x / r.step_time); };
    if (!r.folding.empty()) out += fmt::format("  ({})\n", r.folding);
    out += fmt::format("  where the time goes (rank {}):\n", r.critical_rank);
    line("  forward", share(b.forward));
    line("  backward", share(b.backward));
    if (b.recompute > 0) line("  recompute", share(b.recompute));
    line("  optimizer", share(b.optimizer));
    for (const auto& [kind, x] : b.exposed_comm)
      if (x > 1e-6 * r.step_time) line("  exposed " + kind + " comm", share(x));
    const double visible = 1e-6 * r.step_time;  // hide float dust
    if (b.bubble > visible) line("  pipeline bubble", share(b.bubble));
    if (b.idle > visible) line("  idle", share(b.idle));
    if (w.critical_path) out += bottleneck_text(rank_bottlenecks(*w.critical_path, r));
    if (w.critical_path && r.folding.rfind("folded", 0) == 0)
      out += "  (folded data-parallel collectives run without flows: link utilization leaves them out)\n";
    if (s.training.offload != Offload::none && !offloaded_step_timed(s))
      out += "  (the offloaded optimizer step is not timed: PCIe transfers and the CPU update are left out, so the step "
             "time is a lower bound)\n";
    const StepFacts sf = step_facts(s, r);
    out += cost_energy_text(s.cost, sf, compute_cost_energy(s.cost, sf, s.gpu.id));
  } else {
    line("compute per GPU", fmt::format("{} (stage {}, kernels back to back; not simulated)",
                                        format_seconds(w.compute.total_seconds), w.compute.stage));
  }
  out += "  memory per GPU\n";
  const std::string elsewhere = f.states.paged > 0  ? fmt::format(" + {} paged", format_bytes(f.states.paged))
                                : f.states.host > 0 ? fmt::format(" + {} on the host", format_bytes(f.states.host))
                                                    : "";
  line("  model states", fmt::format("{} (weights {}, gradients {}, optimizer {}{})", format_bytes(f.states.total()),
                                     format_bytes(f.states.weights), format_bytes(f.states.gradients),
                                     format_bytes(f.states.optimizer), elsewhere));
  line("  peak", fmt::format("{} (needs {} without the allocator's spare cache) of {} usable, on rank {} during {}",
                             format_bytes(v.worst.peak_device_bytes), format_bytes(v.worst.required_bytes),
                             format_bytes(v.capacity_bytes), w.peak_global_rank, moment_text(v.worst.peak_at)));
  std::string parts;
  for (int c = 0; c < kMemCategoryCount; ++c) {
    double b = v.worst.at_peak[static_cast<size_t>(c)];
    if (b >= 0.05 * 1024 * 1024 * 1024)
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", to_string(static_cast<MemCategory>(c)), format_bytes(b));
  }
  line("  at the peak", parts);
  line("  first step", fmt::format("{} (before the optimizer states exist)",
                                   format_bytes(v.worst.first_step_peak_device_bytes)));
  if (v.paged_bytes > 0)
    line("  paged optimizer", fmt::format("{} of states in CUDA managed memory, outside PyTorch's allocator: {} stay on "
                                          "the GPU, {} page to host memory every step",
                                          format_bytes(v.paged_bytes), format_bytes(v.paged_bytes - v.paged_evicted_bytes),
                                          format_bytes(v.paged_evicted_bytes)));
  if (v.host_bytes_per_node > 0)
    line("  host (offload)", fmt::format("{} per node of {}{}", format_bytes(v.host_bytes_per_node),
                                         format_bytes(v.host_capacity_bytes), v.host_oom ? " — DOES NOT FIT" : ""));
  if (v.oom || v.host_oom) {
    out += fmt::format("  verdict: OUT OF MEMORY{} — short by {}\n", v.oom ? "" : " (host)",
                       format_bytes(v.oom ? v.shortfall_bytes : v.host_bytes_per_node - v.host_capacity_bytes));
    if (v.fixes.empty()) out += "  no single change or pair of changes tried makes it fit\n";
    for (const MemoryFix& fix : v.fixes) {
      std::string sets;
      for (const auto& o : fix.overrides) sets += " --set " + o;
      out += fmt::format("    would fit: {} (needs {}):{}\n", fix.description, format_bytes(fix.required_bytes), sets);
    }
  } else {
    out += fmt::format("  verdict: fits, {} headroom\n", format_bytes(v.headroom_bytes));
    if (v.tight)
      out += fmt::format("  tight: the allocator's usual spare cache ({}) does not fit beside it; fragmentation can "
                         "still run out of memory (PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True reduces it)\n",
                         format_bytes(v.spare_cache_bytes()));
  }
  return out;
}

}  // namespace stepsim
