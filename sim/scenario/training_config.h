// TrainingConfig: the "training" object of a scenario (docs/formats/scenario.md): batch,
// precision, parallel degrees, sharding, recompute, optimizer and fine-tuning method.
// Parsing checks each field alone; check_training() in scenario.h checks them against the
// model and the cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenario/field_reader.h"
#include "scenario/gpu_spec.h"

namespace stepsim {

enum class Sharding { none, zero1, zero2, zero3, fsdp, hsdp };
enum class Offload { none, optimizer, params_optimizer };
// selective: Megatron's (attention core recomputed); selective_op: torchtitan's per-op policy
// (matmul and attention outputs saved, every second matmul recomputed); full: layer inputs only.
enum class Recompute { none, selective, selective_op, full };
enum class Optimizer { adamw, adamw8bit, sgd, adafactor };
enum class Finetune { full, lora, qlora };
enum class PipelineSchedule { gpipe, one_f_one_b, interleaved };
// all-linear: every block matrix; attention: q, k, v, o; qv: q and v only (PEFT's default
// target_modules for Llama, LitGPT's default).
enum class LoraTargets { all_linear, attention, qv };
// How the loss handles the logits (docs/reference/memory.md §2.3): Megatron's vocab-parallel
// cross-entropy keeps one fp32 copy; Hugging Face upcasts (bf16 logits + fp32 copy + fp32
// log-softmax); torchtune's chunked cross-entropy keeps the bf16 logits and upcasts per chunk;
// compiled together with its upcast (torch.compile), each chunk's cross-entropy saves only its
// bf16 input; the whole upcast cross-entropy compiled (torchtitan with compile) saves the bf16 logits
// and writes their bf16 gradient; Unsloth's 2024 cross-entropy kernel keeps the bf16 logits and writes their gradient
// over them (in place); fused linear-cross-entropy kernels (Liger FLCE, Apple CCE in Unsloth since
// late 2024) never hold the logits.
enum class LossKernel { fp32_logits, upcast, chunked, chunked_compiled, compiled, inplace, fused };

std::string to_string(Sharding s);
std::string to_string(Offload o);
std::string to_string(Recompute r);
std::string to_string(Optimizer o);
std::string to_string(Finetune f);
std::string to_string(PipelineSchedule s);
std::string to_string(LoraTargets t);
std::string to_string(LossKernel k);

struct TrainingConfig {
  int64_t seq_len = 0;
  int64_t global_batch = 0;   // sequences per optimizer step
  int64_t micro_batch = 1;    // sequences per micro-batch per pipeline
  Precision precision = Precision::bf16;
  int tp = 1, pp = 1, cp = 1, ep = 1, vp = 1;
  std::optional<int> dp;      // derived from the GPU count when absent
  bool sp = false;
  PipelineSchedule schedule = PipelineSchedule::one_f_one_b;
  std::vector<int> layers_per_stage;  // empty = balanced split
  Sharding sharding = Sharding::none;
  int hsdp_shard_size = 0;    // DP ranks per shard group; default min(dp, GPUs per node / (tp·cp))
  Offload offload = Offload::none;
  Recompute recompute = Recompute::none;
  Optimizer optimizer = Optimizer::adamw;
  Finetune finetune = Finetune::full;
  int lora_rank = 0;
  LoraTargets lora_targets = LoraTargets::all_linear;
  // Dropout on the adapters' input (PEFT/LitGPT lora_dropout): when > 0 every distinct input of
  // the adapted matrices is saved once more (dropped out) with a one-byte mask.
  double lora_dropout = 0;
  // How global ranks map to parallel coordinates, innermost first: Megatron-LM's default
  // "tp-cp-dp-pp" (pipeline outermost) or "tp-cp-pp-dp" (data-parallel outermost, as the
  // Llama 3 paper orders [TP, CP, PP, DP]).
  bool data_parallel_outermost = false;
  double dp_bucket_bytes = 25e6;  // PyTorch DDP's default bucket_cap_mb = 25
  bool flash_attention = true;    // "attention": "flash" (no s² activations) or "eager"
  std::optional<bool> dropout;    // saved dropout masks; default: true for gpt, false for llama
  // Framework recipes that change what stays in device memory (docs/formats/scenario.md):
  bool fp32_master_weights = true;  // false: "pure" bf16 training, optimizer states in bf16, no master copy
  // LoRA: the frozen base model is stored in fp32 (loaded without a half-precision dtype; autocast
  // or FSDP's mixed precision computes in bf16 from it). false: stored in the compute precision.
  bool fp32_base_weights = false;
  // bitsandbytes' paged optimizers (PagedAdamW, PagedAdamW8bit): the states live in CUDA managed
  // memory, outside PyTorch's allocator; they stay on the GPU while there is room and the driver
  // pages them to host memory under pressure instead of failing.
  bool paged_optimizer = false;
  LossKernel loss = LossKernel::fp32_logits;
  bool activation_offload = false;     // checkpointed layer inputs wait in host memory (Unsloth, torchtune)
  bool optimizer_in_backward = false;  // each parameter is updated, and its gradient freed, during backward
  // zero_grad(set_to_none=True) (PyTorch's default): a layer's gradients are allocated when its
  // backward runs and freed after the optimizer step. false: persistent gradient buffers
  // (Megatron-LM's contiguous buffer, DeepSpeed, DDP bucket views).
  bool gradients_set_to_none = false;
  // "optimizer_step": "foreach" (PyTorch's default multi-tensor AdamW: full-size temporaries)
  // or "fused" (fused=True, or foreach=False: one parameter at a time, no full-size temporaries).
  bool fused_optimizer_step = false;

  bool shards_optimizer() const { return sharding != Sharding::none; }
  bool shards_gradients() const { return sharding != Sharding::none && sharding != Sharding::zero1; }
  bool shards_parameters() const {
    return sharding == Sharding::zero3 || sharding == Sharding::fsdp || sharding == Sharding::hsdp;
  }
  // FSDP/HSDP: the token embedding and the output layer are FSDP units of their own (torchtune's
  // custom_sharded_layers: ['tok_embeddings', 'output']) instead of parts of the root unit.
  bool fsdp_embedding_units = false;
  // FSDP/HSDP LoRA: the frozen base weights share a unit's flat parameter with the trainable
  // adapters (use_orig_params=True, Lightning Fabric's default), so autograd computes, keeps and
  // reduce-scatters their gradients too, as if they were not frozen (PyTorch FSDP documentation).
  bool fsdp_frozen_gradients = false;
  // FSDP/HSDP gradient accumulation under no_sync() (FSDP2: set_requires_gradient_sync(False)):
  // each unit's gradient stays unsharded and accumulates until the last micro-batch of the step,
  // which reduce-scatters it. false: every micro-batch reduce-scatters.
  bool fsdp_no_sync = false;

  // FSDP keeps its root unit (embedding, output layer, final norm) gathered for the whole step;
  // DeepSpeed ZeRO-3, and FSDP with the embedding and output as units of their own, fetch those
  // around each use.
  bool fsdp() const { return sharding == Sharding::fsdp || sharding == Sharding::hsdp; }
  bool keeps_root_unit_gathered() const { return fsdp() && !fsdp_embedding_units; }
  bool fetches_root_on_use() const { return sharding == Sharding::zero3 || (fsdp() && fsdp_embedding_units); }
  bool frozen_weights_get_gradients() const { return fsdp() && fsdp_frozen_gradients && finetune == Finetune::lora; }
  bool accumulates_unsharded_gradients() const { return fsdp() && fsdp_no_sync; }
};

void read_training(FieldReader& r, TrainingConfig& t);

}  // namespace stepsim
