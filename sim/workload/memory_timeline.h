// The memory timeline of one rank: walk its program in order, apply each op's allocations when
// it starts and its frees when it ends, and keep the peak, the op at which it happens and the
// bytes per category then. Tensor bytes become "reserved" through the allocator's reserve, and
// device bytes by adding the CUDA context and one NCCL buffer set per communicator — the figure
// an out-of-memory error is about.
#pragma once

#include <array>

#include "scenario/scenario.h"
#include "scenario/memory_overheads.h"
#include "workload/program.h"

namespace stepsim {

struct MemoryMoment {
  Phase phase = Phase::forward;
  OpKind kind = OpKind::norm;
  int micro_batch = -1;
  int layer = -1;
  size_t op = 0;
};

struct RankMemory {
  int pipeline_rank = 0;
  double peak_tensor_bytes = 0;
  double peak_reserved_bytes = 0;  // what torch.cuda.max_memory_reserved would show
  double peak_device_bytes = 0;    // reserved + context + NCCL: what nvidia-smi shows
  double framework_bytes = 0;      // context + NCCL
  // What must fit for the step to run: tensors + context + NCCL. The caching allocator's spare
  // reserve is not counted, because before raising out-of-memory PyTorch frees its cached blocks
  // and retries the allocation (PyTorch "CUDA semantics", memory management).
  double required_bytes = 0;
  // The first step, before the optimizer states exist (they are allocated lazily at the first
  // optimizer step, memory.md §4): its device peak. Steady-state steps peak at peak_device_bytes.
  double first_step_peak_device_bytes = 0;
  MemoryMoment peak_at;
  std::array<double, kMemCategoryCount> at_peak{};
  std::array<double, kMemCategoryCount> max_by_category{};  // each category's own maximum over the step
};

// Communicators a rank of this scenario opens (one per parallel group of size > 1).
int communicator_count(const Scenario& s);

RankMemory memory_timeline(const RankProgram& program, const MemoryOverheads& overheads, int communicators);

// Device memory a job may use on this card: the CUDA-visible total where the catalog measured it
// (torch's "total capacity", which the CUDA context and NCCL also come out of), else the
// capacity less the default driver reserve of memory-overheads.json.
double usable_capacity(const GpuSpec& gpu, const MemoryOverheads& overheads);

}  // namespace stepsim
