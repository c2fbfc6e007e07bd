// The per-rank program: what one GPU computes and communicates during a training step, as an
// ordered list of operations on streams (like CUDA streams) with cross-stream dependencies
// (like CUDA events).
//
// Every rank of a pipeline stage (all its TP, CP and DP peers) runs the same program, so a
// Workload holds one RankProgram per pipeline rank; collectives name their group by kind and
// the ParallelLayout maps kinds to concrete ranks. `ops` is in a valid sequential order: every
// op comes after its dependencies and after the earlier ops of its stream. The memory timeline
// walks that order; the engine replays each stream in it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/gpu_spec.h"
#include "workload/compute_cost.h"

namespace stepsim {

enum class Stream : uint8_t { compute, tp, dp, pp, cp, ep };
constexpr int kStreamCount = 6;

enum class Phase : uint8_t { forward, backward, recompute, optimizer };

enum class OpKind : uint8_t {
  // compute
  embedding, norm, qkv_proj, rope, attention, out_proj, residual, mlp_gate, mlp_up, activation, mlp_down,
  router, expert_mlp, lm_head, loss, optimizer_step, dequantize,
  // communication
  all_reduce, reduce_scatter, all_gather, all_to_all, broadcast, send, recv
};

enum class Group : uint8_t { none, tp, dp, dp_shard, dp_replicate, cp, ep, pp_next, pp_prev };

enum class MemCategory : uint8_t {
  weights, gradients, optimizer, activations, gathered_parameters, gradient_buffers, logits, transient,
  comm_buffers, framework
};
constexpr int kMemCategoryCount = 10;

struct MemoryEffect {
  MemCategory category;
  double bytes;  // positive: allocate; negative: free
};

struct Op {
  OpKind kind = OpKind::norm;
  Stream stream = Stream::compute;
  Phase phase = Phase::forward;
  int32_t layer = -1;        // transformer block, -1 for embedding/head/optimizer/step-level ops
  int32_t micro_batch = -1;  // -1 for step-level ops
  int32_t chunk = 0;         // virtual pipeline chunk (interleaved schedules)
  // Compute: executed FLOPs (causal attention counts its half), model FLOPs by the convention of
  // model_math.h, bytes moved in device memory, GEMM shape. Communication: payload bytes per rank.
  double flops = 0;
  double model_flops = 0;
  double bytes = 0;
  double gemm_m = 0, gemm_n = 0, gemm_k = 0;
  WorkClass work = WorkClass::memory_bound;
  Precision precision = Precision::bf16;
  Group group = Group::none;
  // Offloaded optimizer step only (ZeRO-Offload, FSDP CPU offload): bytes the CPU update moves in
  // host memory, and bytes crossing the GPU's host link (gradients down, parameters up).
  double host_bytes = 0;
  double host_link_bytes = 0;
  // Optimizer step with a paged optimizer: its states in CUDA managed memory (apply_costs adds the
  // paging of the part that does not stay on the GPU).
  double paged_state_bytes = 0;
  double seconds = 0;            // compute time from the cost model; communication is timed by the engine
  std::vector<uint32_t> deps;    // ops (usually on other streams) that must finish first
  std::vector<MemoryEffect> at_start;  // allocations when the op starts
  std::vector<MemoryEffect> at_end;    // frees (and allocations) when it ends
};

struct RankProgram {
  int pipeline_rank = 0;
  std::vector<Op> ops;
  uint32_t add(Op op) {
    ops.push_back(std::move(op));
    return static_cast<uint32_t>(ops.size() - 1);
  }
};

bool is_communication(OpKind k);
Stream stream_of_group(Group g);
std::string to_string(Stream s);
std::string to_string(Phase p);
std::string to_string(OpKind k);
std::string to_string(Group g);
std::string to_string(MemCategory c);

}  // namespace stepsim
