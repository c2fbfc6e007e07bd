// Framework memory overheads (topologies/framework/memory-overheads.json): CUDA context, NCCL
// buffers per communicator, the caching allocator's reserve over what tensors use, and what
// the driver keeps of the card; and the share of host DRAM bandwidth an offloaded optimizer
// step reaches. Every figure carries a source; unknown keys are errors.
#pragma once

#include "scenario/json_document.h"

namespace stepsim {

struct MemoryOverheads {
  double cuda_context_bytes = 0;
  double nccl_bytes_per_communicator = 0;
  double allocator_reserve_fraction = 0;
  double driver_reserved_bytes = 0;
  double optimizer_step_bytes_per_parameter = 0;  // temporaries of the optimizer step
  // Fraction of a host's peak DRAM bandwidth that an offloaded (CPU) optimizer step sustains.
  double host_memory_bandwidth_efficiency = 0;
};

Result<MemoryOverheads> parse_memory_overheads(const JsonDocument& doc);
Result<MemoryOverheads> load_memory_overheads();  // the shipped file

}  // namespace stepsim
