#include "report/static_report.h"

#include <fmt/format.h>

#include "report/units.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/stage_partition.h"

namespace stepsim {

namespace {

struct StaticFigures {
  ParameterCounts params;
  FlopsPerToken flops;
  double tokens_per_step = 0;
  int heaviest_rank = 0;
  ModelStateBytes states;
  int64_t trainable = 0;
};

StaticFigures compute(const Scenario& s) {
  StaticFigures f;
  f.params = count_parameters(s.model);
  f.flops = flops_per_token(s.model, s.training);
  f.tokens_per_step = static_cast<double>(s.tokens_per_step());
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

}  // namespace

nlohmann::ordered_json static_report_json(const Scenario& s) {
  const StaticFigures f = compute(s);
  const TrainingConfig& t = s.training;
  nlohmann::ordered_json j;
  j["schema"] = kReportSchema;
  j["scenario"] = s.name.empty() ? s.file : s.name;
  j["model"] = {{"name", s.model.name},
                {"parameters", f.params.total},
                {"trainable_parameters", f.trainable}};
  j["gpus"] = s.total_gpus();
  j["gpu"] = s.gpu.id;
  j["parallelism"] = {{"tp", t.tp}, {"pp", t.pp}, {"dp", s.dp()}, {"cp", t.cp}, {"ep", t.ep}, {"vp", t.vp}};
  j["tokens_per_step"] = s.tokens_per_step();
  j["flops_per_step"] = f.flops.model() * f.tokens_per_step;
  j["hardware_flops_per_step"] = f.flops.hardware() * f.tokens_per_step;
  j["memory"] = {{"capacity_bytes", s.gpu.memory_bytes},
                 {"model_states_rank", f.heaviest_rank},
                 {"model_states_bytes",
                  {{"weights", f.states.weights},
                   {"gradients", f.states.gradients},
                   {"optimizer", f.states.optimizer},
                   {"total", f.states.total()}}},
                 {"host_offload_bytes", f.states.host}};
  return j;
}

std::string static_report_text(const Scenario& s) {
  const StaticFigures f = compute(s);
  const TrainingConfig& t = s.training;
  std::string out;
  auto line = [&](const std::string& label, const std::string& value) {
    out += fmt::format("  {:<28}{}\n", label, value);
  };
  out += fmt::format("stepsim · {}\n", s.name.empty() ? s.file : s.name);
  line("model", fmt::format("{} ({} parameters, {} trainable)", s.model.name, format_count(static_cast<double>(f.params.total)),
                            format_count(static_cast<double>(f.trainable))));
  line("cluster", fmt::format("{} node(s) × {} {} = {} GPUs ({})", s.nodes, s.gpus_per_node(), s.gpu.id,
                              s.total_gpus(), s.topology.id));
  line("parallelism", parallel_summary(s));
  line("training", fmt::format("{} · seq {} · global batch {} · micro-batch {} · {} · {} · recompute {}",
                               to_string(t.finetune), t.seq_len, t.global_batch, t.micro_batch,
                               to_string(t.precision), to_string(t.sharding), to_string(t.recompute)));
  line("tokens per step", fmt::format("{:.0f}", f.tokens_per_step));
  line("model FLOPs per step", format_si(f.flops.model() * f.tokens_per_step, "FLOP"));
  line("hardware FLOPs per step", format_si(f.flops.hardware() * f.tokens_per_step, "FLOP") + " (with recompute)");
  out += fmt::format("  model states per GPU (pipeline rank {}, the heaviest):\n", f.heaviest_rank);
  line("  weights", format_bytes(f.states.weights));
  line("  gradients", format_bytes(f.states.gradients));
  line("  optimizer states", format_bytes(f.states.optimizer));
  line("  total", fmt::format("{} of {} ({:.0f} GB card, {:.0f} %)", format_bytes(f.states.total()),
                              format_bytes(s.gpu.memory_bytes), s.gpu.memory_bytes / 1e9,
                              100.0 * f.states.total() / s.gpu.memory_bytes));
  if (f.states.total() > s.gpu.memory_bytes)
    out += "  verdict: OUT OF MEMORY for certain: model states alone exceed the card\n";
  if (f.states.host > 0) line("  offloaded to host", format_bytes(f.states.host));
  out += "  (activations, buffers and the step time need the workload and engine stages)\n";
  return out;
}

}  // namespace stepsim
