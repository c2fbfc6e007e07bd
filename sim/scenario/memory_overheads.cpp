#include "scenario/memory_overheads.h"

#include "scenario/citations.h"
#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
}

Result<MemoryOverheads> parse_memory_overheads(const JsonDocument& doc) {
  Diagnostics diags;
  FieldReader r(doc, doc.root, "", diags);
  MemoryOverheads o;
  o.cuda_context_bytes = r.required_number("cuda_context_mib", 0, 1e6) * kMiB;
  o.nccl_bytes_per_communicator = r.required_number("nccl_mib_per_communicator", 0, 1e6) * kMiB;
  o.allocator_reserve_fraction = r.required_number("allocator_reserve_fraction", 0, 1);
  o.driver_reserved_bytes = r.required_number("driver_reserved_mib", 0, 1e6) * kMiB;
  o.optimizer_step_bytes_per_parameter = r.required_number("optimizer_step_bytes_per_parameter", 0, 64);
  o.host_memory_bandwidth_efficiency = r.required_number("host_memory_bandwidth_efficiency", 0.01, 1);
  const auto sources = read_sources(r);
  r.finish();
  if (diags.ok()) check_citations(doc, doc.root, "", sources, {"sources"}, diags);
  if (!diags.ok()) return diags;
  return o;
}

Result<MemoryOverheads> load_memory_overheads() {
  auto doc = load_json_file(data_root() + "/topologies/framework/memory-overheads.json");
  if (!doc.ok()) return doc.errors();
  return parse_memory_overheads(doc.value());
}

}  // namespace stepsim
