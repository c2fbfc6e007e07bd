// Framework memory overheads (topologies/framework/memory-overheads.json): CUDA context, NCCL
// buffers per communicator, the caching allocator's reserve over what tensors use, and what
// the driver keeps of the card. Every figure carries a source; unknown keys are errors.
#pragma once

#include "scenario/json_document.h"

namespace stepsim {

struct MemoryOverheads {
  double cuda_context_bytes = 0;
  double nccl_bytes_per_communicator = 0;
  double allocator_reserve_fraction = 0;
  double driver_reserved_bytes = 0;
  double optimizer_step_bytes_per_parameter = 0;  // temporaries of the optimizer step
};

Result<MemoryOverheads> parse_memory_overheads(const JsonDocument& doc);
Result<MemoryOverheads> load_memory_overheads();  // the shipped file

}  // namespace stepsim
