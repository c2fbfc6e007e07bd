// Pipeline schedules: the order in which one pipeline rank runs the forward and backward passes
// of its micro-batches, as Megatron-LM executes them (megatron/core/pipeline_parallel/
// schedules.py). Only the order; durations, communication and dependencies between ranks are
// the engine's job (a rank waits for its neighbours' tensors before each pass).
//   gpipe        all m forwards, then all m backwards in the same micro-batch order
//                (PyTorch's ScheduleGPipe; Megatron has no GPipe).
//   one_f_one_b  Megatron's forward_backward_pipelining_without_interleaving: warm-up of
//                min(pp - rank - 1, m) forwards, steady 1F1B (F of i + warm-up, then B of i),
//                cool-down of the remaining backwards. pp = 1 gives F0 B0 F1 B1 ...
//                (Megatron's forward_backward_no_pipelining).
//   interleaved  Megatron's forward_backward_pipelining_with_interleaving with its default
//                microbatch_group_size_per_vp_stage = pp: warm-up of 2(pp - rank - 1) +
//                (vp - 1)·pp chunk-forwards (capped at m·vp), steady 1F1B over chunk-passes,
//                cool-down. Requires m % pp == 0, as Megatron does (it rejects a last group
//                smaller than pp). vp = 1 runs one_f_one_b (no virtual pipeline).
// gpipe and one_f_one_b take vp = 1 only. Bad arguments throw std::invalid_argument.
#pragma once

#include <vector>

#include "scenario/training_config.h"

namespace stepsim {

struct PipelineStep {
  enum Kind { forward, backward } kind;
  int micro_batch;  // 0..m-1
  int chunk;        // virtual stage chunk held by this rank, 0..vp-1 (0 when vp == 1);
                    // the model chunk (global virtual stage) is chunk*pp + rank
  bool operator==(const PipelineStep& o) const {
    return kind == o.kind && micro_batch == o.micro_batch && chunk == o.chunk;
  }
};

// The order in which pipeline rank `rank` (0..pp-1) runs its passes for m micro-batches:
// m·vp forwards and m·vp backwards, each (micro_batch, chunk) once in each direction.
std::vector<PipelineStep> pipeline_order(PipelineSchedule schedule, int pp, int vp, int micro_batches,
                                         int rank);

// Most chunk-forwards alive at once in `order` (forward run, backward not yet run), counted
// just after each forward. One chunk-forward holds 1/vp of a full stage's activations, so
// divide by vp for full-stage units: 1F1B stage 0 gives min(pp, m), the last stage 1, GPipe m,
// interleaved stage 0 (m > pp) gives vp·pp + pp - 1, i.e. pp·(1 + (pp-1)/(pp·vp)) stages.
int max_in_flight(const std::vector<PipelineStep>& order);

}  // namespace stepsim
