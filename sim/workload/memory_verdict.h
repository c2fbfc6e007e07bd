// The out-of-memory verdict of a scenario: the memory timeline of every pipeline stage (all
// ranks of a stage run the same program), the worst one against the card's usable capacity,
// host memory for offloaded states against the node's RAM, and — when something does not fit
// — the changes that would make it fit, found by re-evaluating modified scenarios (never
// canned advice). Requires a scenario that load_scenario() accepted.
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "scenario/memory_overheads.h"
#include "workload/memory_timeline.h"

namespace stepsim {

struct MemoryFix {
  std::string description;             // "full activation recompute"
  std::vector<std::string> overrides;  // "--set" arguments that apply it: "training.recompute=full"
  double peak_device_bytes = 0;        // the peak with the change
  double required_bytes = 0;           // what must fit with the change (memory_timeline.h)
};

struct MemoryVerdict {
  double capacity_bytes = 0;           // usable device memory per GPU
  std::vector<RankMemory> stages;      // one per pipeline rank
  RankMemory worst;                    // the stage needing the most memory
  bool oom = false;                    // worst.required_bytes > capacity
  double shortfall_bytes = 0;          // required - capacity when oom
  double headroom_bytes = 0;           // capacity - required when it fits
  // Fits, but the caching allocator's usual spare cache (reserved - allocated at the peak) does
  // not fit beside it: whether the job runs then depends on fragmentation, which is not simulated.
  bool tight = false;
  double host_bytes_per_node = 0;      // offloaded states of the node's GPUs
  double host_capacity_bytes = 0;
  bool host_oom = false;
  double paged_bytes = 0;          // paged optimizer states of the worst stage (outside the allocator)
  double paged_evicted_bytes = 0;  // the part that does not fit beside the peak: paged to host memory
  // worst.peak_device_bytes includes the resident part (nvidia-smi shows managed memory on the device).
  std::vector<MemoryFix> fixes;        // at most three, when oom

  // The caching allocator's spare cache at the worst stage's peak: reserved less allocated.
  double spare_cache_bytes() const { return worst.peak_reserved_bytes - worst.peak_tensor_bytes; }
};

struct Workload;

// A paged optimizer's states stay on the GPU as far as they fit beside what the process holds
// through the allocator at its peak (`device_peak`: reserved + context + NCCL; the driver evicts
// managed pages when cudaMalloc needs the room); the rest lives in host memory and is paged in and
// out at every step.
double paged_evicted_bytes(double paged, double device_peak, double capacity);

// `suggest` = false skips the search for fixes (used by the search itself).
Result<MemoryVerdict> evaluate_memory(const Scenario& s, bool suggest = true);
// The same for an already lowered workload of `s`, with the overheads it was lowered with
// (loaded once by the caller; the search for fixes reuses them for every candidate).
MemoryVerdict evaluate_memory(const Scenario& s, const Workload& w, const MemoryOverheads& overheads, bool suggest);

}  // namespace stepsim
