#include "scenario/training_config.h"

namespace stepsim {

std::string to_string(Sharding s) {
  switch (s) {
    case Sharding::none: return "none";
    case Sharding::zero1: return "zero1";
    case Sharding::zero2: return "zero2";
    case Sharding::zero3: return "zero3";
    case Sharding::fsdp: return "fsdp";
    case Sharding::hsdp: return "hsdp";
  }
  return "?";
}
std::string to_string(Offload o) {
  switch (o) {
    case Offload::none: return "none";
    case Offload::optimizer: return "optimizer";
    case Offload::params_optimizer: return "params_optimizer";
  }
  return "?";
}
std::string to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::selective_op: return "selective-op";
    case Recompute::full: return "full";
  }
  return "?";
}
std::string to_string(Optimizer o) {
  switch (o) {
    case Optimizer::adamw: return "adamw";
    case Optimizer::adamw8bit: return "adamw8bit";
    case Optimizer::sgd: return "sgd";
    case Optimizer::adafactor: return "adafactor";
  }
  return "?";
}
std::string to_string(Finetune f) {
  switch (f) {
    case Finetune::full: return "full";
    case Finetune::lora: return "lora";
    case Finetune::qlora: return "qlora";
  }
  return "?";
}
std::string to_string(PipelineSchedule s) {
  switch (s) {
    case PipelineSchedule::gpipe: return "gpipe";
    case PipelineSchedule::one_f_one_b: return "1f1b";
    case PipelineSchedule::interleaved: return "interleaved";
  }
  return "?";
}
std::string to_string(LoraTargets t) {
  switch (t) {
    case LoraTargets::all_linear: return "all-linear";
    case LoraTargets::attention: return "attention";
    case LoraTargets::qv: return "qv";
  }
  return "?";
}

std::string to_string(LossKernel k) {
  switch (k) {
    case LossKernel::fp32_logits: return "fp32-logits";
    case LossKernel::upcast: return "upcast";
    case LossKernel::chunked: return "chunked";
    case LossKernel::chunked_compiled: return "chunked-compiled";
    case LossKernel::compiled: return "compiled";
    case LossKernel::inplace: return "inplace";
    case LossKernel::fused: return "fused";
  }
  return "?";
}

namespace {

template <class E, size_t N>
E pick(FieldReader& r, const std::string& key, E fallback, const E (&values)[N]) {
  std::vector<std::string> names;
  for (E v : values) names.push_back(to_string(v));
  std::string chosen = r.choice(key, to_string(fallback), names);
  for (E v : values)
    if (to_string(v) == chosen) return v;
  return fallback;
}

}  // namespace

void read_training(FieldReader& r, TrainingConfig& t) {
  constexpr int kMaxDegree = 1 << 20;
  t.seq_len = r.required_integer("seq_len", 1, 1 << 24);
  t.global_batch = r.required_integer("global_batch", 1, 1 << 26);
  t.micro_batch = r.integer_or("micro_batch", 1, 1, 1 << 20);
  std::string precision = r.choice("precision", "bf16", {"bf16", "fp16", "fp8", "fp4", "fp32"});
  t.precision = parse_precision(precision).value_or(Precision::bf16);
  t.tp = static_cast<int>(r.integer_or("tp", 1, 1, kMaxDegree));
  t.pp = static_cast<int>(r.integer_or("pp", 1, 1, kMaxDegree));
  if (auto dp = r.optional_integer("dp", 1, kMaxDegree)) t.dp = static_cast<int>(*dp);
  t.cp = static_cast<int>(r.integer_or("cp", 1, 1, kMaxDegree));
  t.ep = static_cast<int>(r.integer_or("ep", 1, 1, kMaxDegree));
  t.vp = static_cast<int>(r.integer_or("vp", 1, 1, 1024));
  t.sp = r.boolean_or("sp", false);
  const PipelineSchedule schedules[] = {PipelineSchedule::gpipe, PipelineSchedule::one_f_one_b,
                                        PipelineSchedule::interleaved};
  t.schedule = pick(r, "pipeline_schedule",
                    t.vp > 1 ? PipelineSchedule::interleaved : PipelineSchedule::one_f_one_b, schedules);
  if (const Json* split = r.array_member("layers_per_stage")) {
    for (size_t i = 0; i < split->size(); ++i) {
      const Json& v = (*split)[i];
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 100000) {
        r.error(index_path("layers_per_stage", i), "expected a positive layer count, got " + describe_json(v), "");
        continue;
      }
      t.layers_per_stage.push_back(static_cast<int>(v.get<int64_t>()));
    }
  }
  const Sharding shardings[] = {Sharding::none, Sharding::zero1, Sharding::zero2,
                                Sharding::zero3, Sharding::fsdp, Sharding::hsdp};
  t.sharding = pick(r, "sharding", Sharding::none, shardings);
  t.hsdp_shard_size = static_cast<int>(r.integer_or("hsdp_shard_size", 0, 1, kMaxDegree));
  const Offload offloads[] = {Offload::none, Offload::optimizer, Offload::params_optimizer};
  t.offload = pick(r, "offload", Offload::none, offloads);
  const Recompute recomputes[] = {Recompute::none, Recompute::selective, Recompute::selective_op, Recompute::full};
  t.recompute = pick(r, "recompute", Recompute::none, recomputes);
  const Optimizer optimizers[] = {Optimizer::adamw, Optimizer::adamw8bit, Optimizer::sgd, Optimizer::adafactor};
  t.optimizer = pick(r, "optimizer", Optimizer::adamw, optimizers);
  const Finetune finetunes[] = {Finetune::full, Finetune::lora, Finetune::qlora};
  t.finetune = pick(r, "finetune", Finetune::full, finetunes);
  t.lora_rank = static_cast<int>(r.integer_or("lora_rank", 0, 1, 65536));
  const LoraTargets targets[] = {LoraTargets::all_linear, LoraTargets::attention, LoraTargets::qv};
  t.lora_targets = pick(r, "lora_targets", LoraTargets::all_linear, targets);
  t.lora_dropout = r.number_or("lora_dropout", 0, 0, 0.999);
  t.dp_bucket_bytes = r.number_or("dp_bucket_mb", 25, 0.001, 1e6) * 1e6;
  t.data_parallel_outermost = r.choice("rank_order", "tp-cp-dp-pp", {"tp-cp-dp-pp", "tp-cp-pp-dp"}) == "tp-cp-pp-dp";
  t.flash_attention = r.choice("attention", "flash", {"flash", "eager"}) == "flash";
  if (r.has("dropout")) t.dropout = r.boolean_or("dropout", false);
  t.fp32_master_weights = r.choice("master_weights", "fp32", {"fp32", "none"}) == "fp32";
  t.fp32_base_weights = r.choice("base_weights", "compute", {"compute", "fp32"}) == "fp32";
  t.paged_optimizer = r.boolean_or("paged_optimizer", false);
  t.fsdp_embedding_units = r.choice("fsdp_units", "layers", {"layers", "layers+embeddings"}) == "layers+embeddings";
  t.fsdp_frozen_gradients = r.boolean_or("fsdp_frozen_gradients", false);
  t.fsdp_no_sync = r.choice("fsdp_gradient_sync", "every_micro_batch", {"every_micro_batch", "last_micro_batch"}) ==
                   "last_micro_batch";
  const LossKernel losses[] = {LossKernel::fp32_logits, LossKernel::upcast, LossKernel::chunked,
                               LossKernel::chunked_compiled, LossKernel::compiled,
                               LossKernel::inplace,     LossKernel::fused};
  t.loss = pick(r, "loss", LossKernel::fp32_logits, losses);
  t.activation_offload = r.boolean_or("activation_offload", false);
  t.optimizer_in_backward = r.boolean_or("optimizer_in_backward", false);
  t.gradients_set_to_none = r.choice("zero_grad", "zero", {"zero", "set_to_none"}) == "set_to_none";
  t.fused_optimizer_step = r.choice("optimizer_step", "foreach", {"foreach", "fused"}) == "fused";

  if (t.finetune != Finetune::full && t.lora_rank == 0)
    r.error("lora_rank", "finetune \"" + to_string(t.finetune) + "\" needs an adapter rank",
            "add \"lora_rank\": 16 (or the rank you train with)");
  if (t.finetune == Finetune::full && r.has("lora_targets"))
    r.error("lora_targets", "lora_targets is set but finetune is \"full\"",
            "set \"finetune\": \"lora\" or \"qlora\", or remove lora_targets");
  if (t.finetune == Finetune::full && r.has("lora_dropout"))
    r.error("lora_dropout", "lora_dropout is set but finetune is \"full\"",
            "set \"finetune\": \"lora\" or \"qlora\", or remove lora_dropout");
  if (t.finetune == Finetune::full && r.has("lora_rank"))
    r.error("lora_rank", "lora_rank is set but finetune is \"full\"",
            "set \"finetune\": \"lora\" or \"qlora\", or remove lora_rank");
  if (t.offload != Offload::none && t.sharding == Sharding::none)
    r.error("offload", "offload \"" + to_string(t.offload) + "\" needs a sharded optimizer",
            "set \"sharding\" to zero1, zero2, zero3, fsdp or hsdp (DeepSpeed/FSDP offload the sharded states)");
  if (t.schedule == PipelineSchedule::interleaved && t.vp < 2)
    r.error("pipeline_schedule", "the interleaved schedule needs vp >= 2 virtual stages per rank",
            "set \"vp\": 2 or more, or use \"1f1b\"");
  if (t.vp > 1 && t.schedule != PipelineSchedule::interleaved)
    r.error("vp", "vp > 1 only applies to the interleaved schedule",
            "set \"pipeline_schedule\": \"interleaved\" or \"vp\": 1");
  if (t.schedule == PipelineSchedule::interleaved && t.pp < 2)
    r.error("pipeline_schedule", "the interleaved schedule needs pp > 1 pipeline ranks",
            "set \"pp\" > 1, or \"vp\": 1");
  if (t.sp && t.tp == 1)
    r.error("sp", "sequence parallelism splits activations across the TP group, but tp = 1",
            "set \"tp\" > 1 or \"sp\": false");
  if (!t.fp32_master_weights && t.precision == Precision::fp32)
    r.error("master_weights", "fp32 training has no separate master copy to drop",
            "remove \"master_weights\" or train in bf16");
  if (t.activation_offload && t.recompute == Recompute::none)
    r.error("activation_offload", "activation_offload moves the checkpointed layer inputs, but recompute is \"none\"",
            "set \"recompute\": \"full\" (checkpointing) or remove activation_offload");
  if (t.fp32_base_weights && t.finetune != Finetune::lora)
    r.error("base_weights", "base_weights \"fp32\" describes the frozen base model of a LoRA run, but finetune is \"" +
                                to_string(t.finetune) + "\"",
            "remove base_weights (full fine-tuning keeps fp32 weights as master_weights; QLoRA stores NF4)");
  if (t.fp32_base_weights && (t.sharding == Sharding::zero1 || t.sharding == Sharding::zero2 || t.sharding == Sharding::zero3))
    r.error("base_weights", "DeepSpeed casts the whole model to bf16/fp16 when mixed precision is on",
            "remove base_weights, or use \"sharding\": \"fsdp\"/\"none\" (which keep the loaded dtype)");
  if (t.paged_optimizer && t.optimizer != Optimizer::adamw && t.optimizer != Optimizer::adamw8bit)
    r.error("paged_optimizer", "bitsandbytes pages AdamW states (PagedAdamW, PagedAdamW8bit), but optimizer is \"" +
                                   to_string(t.optimizer) + "\"",
            "set \"optimizer\": \"adamw\" or \"adamw8bit\", or remove paged_optimizer");
  if (t.paged_optimizer && t.offload != Offload::none)
    r.error("paged_optimizer", "the states are either paged (bitsandbytes) or offloaded (DeepSpeed/FSDP), not both",
            "remove paged_optimizer or set \"offload\": \"none\"");
  if (t.fsdp_embedding_units && !t.fsdp())
    r.error("fsdp_units", "fsdp_units describes how FSDP wraps the model, but sharding is \"" + to_string(t.sharding) + "\"",
            "set \"sharding\": \"fsdp\" or \"hsdp\", or remove fsdp_units");
  if (t.fsdp_frozen_gradients && !t.fsdp())
    r.error("fsdp_frozen_gradients", "fsdp_frozen_gradients describes FSDP units, but sharding is \"" +
                                         to_string(t.sharding) + "\"",
            "set \"sharding\": \"fsdp\" or \"hsdp\", or remove fsdp_frozen_gradients");
  if (t.fsdp_frozen_gradients && t.finetune != Finetune::lora)
    r.error("fsdp_frozen_gradients",
            "fsdp_frozen_gradients gives frozen LoRA base weights gradients, but finetune is \"" + to_string(t.finetune) +
                "\"" + (t.finetune == Finetune::qlora ? " (NF4 weights cannot take gradients)" : " (nothing is frozen)"),
            "set \"finetune\": \"lora\", or remove fsdp_frozen_gradients");
  if (t.fsdp_no_sync && !t.fsdp())
    r.error("fsdp_gradient_sync", "fsdp_gradient_sync describes FSDP's no_sync(), but sharding is \"" +
                                      to_string(t.sharding) + "\"",
            "set \"sharding\": \"fsdp\" or \"hsdp\", or remove fsdp_gradient_sync (DDP and ZeRO-1 already reduce "
            "once per step; DeepSpeed ZeRO-2/3 reduce every micro-batch)");
  if (t.hsdp_shard_size > 0 && t.sharding != Sharding::hsdp)
    r.error("hsdp_shard_size", "hsdp_shard_size applies only to \"sharding\": \"hsdp\"", "remove it");
}

}  // namespace stepsim
