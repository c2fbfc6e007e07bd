// Model-state memory of one rank: weights, gradients and optimizer states, after ZeRO/FSDP
// sharding and host offload. Bytes per parameter (docs/reference/memory.md §1):
//   weights   2 (bf16/fp16 compute copy; fp32 training: 4); fp8 adds a 1-byte cached copy,
//             fp4 a 0.5625-byte NVFP4 copy (4 bits + one 8-bit scale per 16 values);
//             QLoRA base matrices 0.5 + 0.127/8 (NF4 with double-quantized constants); a LoRA
//             base stored in fp32 (base_weights "fp32") 4
//   gradients 2 per trainable parameter (fp32 training: 4); with fsdp_frozen_gradients the
//             frozen weights of the blocks, which share FSDP units with the adapters, take them too
//   optimizer AdamW 12 (fp32 master + m + v), 8-bit AdamW 6, SGD+momentum 8, Adafactor 4
//             (fp32 training: no separate master copy, 4 less; "pure" bf16 training,
//             master_weights "none": no master, states in bf16: AdamW 4, 8-bit AdamW 2, SGD 2)
// With the optimizer step in backward (torchtune optimizer_in_bwd) a gradient lives only until
// its parameter is updated, so the resident gradients are those of the largest update group.
// FSDP/HSDP full fine-tuning in mixed precision holds the fp32 master as its sharded parameters:
// weights 4 (+ an fp8 copy), gradients 4, optimizer states without a master (AdamW 8).
// A paged optimizer's states (bitsandbytes) move from `optimizer` to `paged`.
// ZeRO-1 shards the optimizer, ZeRO-2 also gradients, ZeRO-3/FSDP also weights, over dp·cp
// ranks (HSDP: over its shard group). So 16Ψ, 4Ψ+12Ψ/N, 2Ψ+14Ψ/N, 16Ψ/N for mixed-precision
// AdamW. Transient gathered parameters and buffers belong to the memory timeline, not here.
#pragma once

#include "scenario/scenario.h"

namespace stepsim {

// NF4 storage of a QLoRA base matrix: 4 bits per weight plus 0.127 bit of double-quantized
// constants (QLoRA paper, arXiv 2305.14314, pp. 5-6).
constexpr double kNf4BytesPerParameter = 0.5 + 0.127 / 8;

struct ModelStateBytes {
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double host = 0;   // offloaded to CPU memory (per rank)
  double paged = 0;  // paged optimizer states in CUDA managed memory, outside the allocator (per rank)
  double total() const { return weights + gradients + optimizer; }
};

struct BytesPerParameter {
  double weights, gradients, optimizer;
};

// Bytes per trainable parameter for this precision and optimizer.
BytesPerParameter trainable_bytes_per_parameter(Precision p, Optimizer o, bool fp32_master = true);
BytesPerParameter trainable_bytes_per_parameter(const TrainingConfig& t);

// Trainable parameters updated together when the optimizer runs in backward: one transformer
// block's, or the embedding or output matrix when that is larger (per rank, before sharding).
double largest_update_group(const Scenario& s, int pipeline_rank);

// Parameters of one block (on a rank) that receive a gradient: all of them in full fine-tuning;
// with LoRA the adapters, and also the frozen weights when they share the adapters' FSDP unit
// (fsdp_frozen_gradients).
double gradient_parameters_per_layer(const Scenario& s);

// Number of ranks that share one copy of the sharded states.
int sharding_group_size(const Scenario& s);

ModelStateBytes model_state_bytes(const Scenario& s, int pipeline_rank);

// The pipeline rank with the most model-state bytes (first on ties).
int heaviest_pipeline_rank(const Scenario& s);

}  // namespace stepsim
