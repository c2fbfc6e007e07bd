// The offloaded optimizer step (ZeRO-Offload, FSDP CPU offload): its host and host-link bytes,
// its time against a hand computation, the topology field that enables it and its errors, and
// today's behaviour (not timed) on a topology without host memory bandwidth.
#include <catch2/catch.hpp>

#include <algorithm>

#include "scenario/data_dirs.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "scenario/topology_spec.h"
#include "workload/memory_verdict.h"
#include "workload/model_state_memory.h"
#include "workload/offload_cost.h"
#include "workload/op_costs.h"
#include "workload/program_builder.h"
#include "scenario_inputs.h"

using namespace stepsim;

namespace {

Scenario llama8b_zero3(const std::string& topology, const std::string& offload) {
  std::string text = "{\"cluster\": {\"topology\": \"" + topology + "\"}, \"model\": \"llama3-8b\", \"training\": "
                     "{\"seq_len\": 2048, \"global_batch\": 8, \"micro_batch\": 1, \"sharding\": \"zero3\", "
                     "\"offload\": \"" + offload + "\"}}";
  return test_inputs::scenario_from_text(text);
}

// The one optimizer step of the single pipeline stage, after the cost model ran.
Op costed_optimizer_step(const Scenario& s) {
  Workload w = build_workload(s, test_inputs::shipped_overheads());
  REQUIRE(apply_costs(s, w).ok());
  REQUIRE(w.stages.size() == 1);
  const Op* step = nullptr;
  for (const Op& op : w.stages[0].ops)
    if (op.kind == OpKind::optimizer_step) {
      REQUIRE(step == nullptr);
      step = &op;
    }
  REQUIRE(step != nullptr);
  return *step;
}

JsonDocument topology_doc(const std::string& extra) {
  std::string text =
      "{\"id\": \"t\", \"gpu\": \"h100-sxm5-80gb\", \"host_memory_gb\": 512," + extra +
      " \"link_types\": {\"pcie5\": {\"kind\": \"pcie\", \"bandwidth_gbps\": 63, \"latency_us\": 0.4, \"source\": \"s\"}},"
      " \"node\": {\"devices\": [{\"id\": \"gpu0\", \"kind\": \"gpu\"}, {\"id\": \"cpu0\", \"kind\": \"cpu\"}],"
      " \"links\": [{\"a\": \"gpu0\", \"b\": \"cpu0\", \"type\": \"pcie5\"}]}, \"fabric\": null}";
  auto d = parse_json_text(text, "topo.json");
  REQUIRE(d.ok());
  return d.value();
}

}  // namespace

// Llama 3 8B: 8,030,261,248 parameters (embedding and head 128256 x 4096 each, 32 layers of
// 218,112,000, final norm 4096). ZeRO-3 over dp = 8: a shard of 1,003,782,656 parameters.
//   host bytes  = 30 B x 1,003,782,656 = 30,113,479,680 (CPU-Adam: read fp32 master, grad, m, v;
//                 write master, m, v; write the bf16 copy)
//   link bytes  = (2 B bf16 gradient down + 2 B bf16 parameter up) x 1,003,782,656 = 4,015,130,624
TEST_CASE("offloaded optimizer step: host and host-link bytes of the shard", "[offload]") {
  const Op step = costed_optimizer_step(llama8b_zero3("dgx-h100", "optimizer"));
  CHECK(step.host_bytes == Approx(30113479680.0));
  CHECK(step.host_link_bytes == Approx(4015130624.0));
  CHECK(step.bytes == 0);  // nothing moves in device memory
  // params_optimizer: the weights live on the host; only the gradients cross at the step.
  const Op params = costed_optimizer_step(llama8b_zero3("dgx-h100", "params_optimizer"));
  CHECK(params.host_link_bytes == Approx(2 * 1003782656.0));
}

// DGX H100: host 2 x 8 channels x 4400 MT/s x 8 B = 563.2 GB/s, x 0.78 (memory-overheads.json)
// / 8 GPUs = 54.912 GB/s per GPU; host link: each GPU has its own PCIe Gen5 x16 switch uplink,
// 63 GB/s. seconds = 4,015,130,624 / 63e9 + 30,113,479,680 / 54.912e9
//                  = 0.0637322 + 0.5483952 = 0.6121275 s.
// DGX A100: 409.6 GB/s x 0.78 / 8 = 39.936 GB/s; two GPUs share each PCIe Gen4 x16 switch uplink
// (31.5 GB/s), 15.75 GB/s each: 0.2549289 + 0.7540435 = 1.0089724 s.
TEST_CASE("offloaded optimizer step: time by hand on DGX H100 and DGX A100", "[offload]") {
  auto overheads = load_memory_overheads();
  REQUIRE(overheads.ok());
  REQUIRE(overheads.value().host_memory_bandwidth_efficiency == Approx(0.78));  // the figure used below
  const Scenario h100 = llama8b_zero3("dgx-h100", "optimizer");
  REQUIRE(h100.topology.host_memory_bandwidth == Approx(563.2e9));
  CHECK(offloaded_step_timed(h100));
  CHECK(costed_optimizer_step(h100).seconds == Approx(0.6121275).epsilon(1e-6));
  const Scenario a100 = llama8b_zero3("dgx-a100", "optimizer");
  CHECK(concurrent_host_link_bandwidth(a100.topology, a100.gpu.host_bandwidth) == Approx(15.75e9));
  CHECK(costed_optimizer_step(a100).seconds == Approx(1.0089724).epsilon(1e-6));
}

TEST_CASE("offloaded optimizer step: a topology without host bandwidth keeps it untimed", "[offload]") {
  const Scenario s = llama8b_zero3("l40s-8gpu", "optimizer");
  CHECK(s.topology.host_memory_bandwidth == 0);
  CHECK_FALSE(offloaded_step_timed(s));
  const Op step = costed_optimizer_step(s);
  CHECK(step.host_bytes > 0);  // the bytes are recorded, but nothing times them
  CHECK(step.seconds == 0);
  // Without offload the step is a GPU kernel over device memory, whatever the topology says.
  const Op gpu_step = costed_optimizer_step(llama8b_zero3("dgx-h100", "none"));
  CHECK(gpu_step.host_bytes == 0);
  CHECK(gpu_step.seconds > 0);
}

TEST_CASE("topology host_memory_bandwidth_gbps: read, and its errors", "[offload][formats]") {
  auto ok = parse_topology(topology_doc(" \"host_memory_bandwidth_gbps\": 409.6,"
                                        " \"host_memory_bandwidth_source\": \"2 x 8 x 3200 x 8\","));
  REQUIRE(ok.ok());
  CHECK(ok.value().host_memory_bandwidth == Approx(409.6e9));
  CHECK(ok.value().host_memory_bandwidth_source == "2 x 8 x 3200 x 8");
  auto absent = parse_topology(topology_doc(""));
  REQUIRE(absent.ok());
  CHECK(absent.value().host_memory_bandwidth == 0);

  auto no_source = parse_topology(topology_doc(" \"host_memory_bandwidth_gbps\": 409.6,"));
  REQUIRE_FALSE(no_source.ok());
  CHECK(no_source.errors().items().size() == 1);
  const Diagnostic& d = no_source.errors().items().at(0);
  CHECK(d.file == "topo.json");
  CHECK(d.path == "host_memory_bandwidth_source");
  CHECK(d.message == "host_memory_bandwidth_gbps has no source");
  CHECK(d.fix.find("add \"host_memory_bandwidth_source\"") != std::string::npos);

  auto empty_source = parse_topology(topology_doc(" \"host_memory_bandwidth_gbps\": 409.6,"
                                                  " \"host_memory_bandwidth_source\": \"\","));
  REQUIRE_FALSE(empty_source.ok());
  CHECK(empty_source.errors().items().at(0).path == "host_memory_bandwidth_source");

  auto source_only = parse_topology(topology_doc(" \"host_memory_bandwidth_source\": \"s\","));
  REQUIRE_FALSE(source_only.ok());
  CHECK(source_only.errors().items().at(0).message == "a source without host_memory_bandwidth_gbps");

  auto negative = parse_topology(topology_doc(" \"host_memory_bandwidth_gbps\": -5,"
                                              " \"host_memory_bandwidth_source\": \"s\","));
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.errors().items().at(0).path == "host_memory_bandwidth_gbps");
  auto text = parse_topology(topology_doc(" \"host_memory_bandwidth_gbps\": \"fast\","
                                          " \"host_memory_bandwidth_source\": \"s\","));
  REQUIRE_FALSE(text.ok());
  CHECK(text.errors().items().at(0).path == "host_memory_bandwidth_gbps");
}

// bitsandbytes' paged optimizer: Llama 3 8B full fine-tuning on one RTX 4090 (pure bf16, 8-bit
// AdamW: 2 B of states per parameter, 8,030,261,248 x 2 = 16,060,522,496 B). The states leave the
// model states for managed memory; what does not fit beside the device peak is paged over the card's
// PCIe Gen4 x16 host link (31.5 GB/s) twice per step.
TEST_CASE("paged optimizer: states in managed memory, the evicted part paged every step", "[offload][memory]") {
  const std::string base =
      "{\"cluster\": {\"topology\": \"pcie4-1gpu\", \"gpu\": \"rtx-4090\"}, \"model\": \"llama3-8b\", \"training\": "
      "{\"seq_len\": 2048, \"global_batch\": 1, \"micro_batch\": 1, \"recompute\": \"full\", \"optimizer\": "
      "\"adamw8bit\", \"master_weights\": \"none\", \"optimizer_in_backward\": true";
  const Scenario paged = test_inputs::scenario_from_text(base + ", \"paged_optimizer\": true}}");
  const Scenario resident = test_inputs::scenario_from_text(base + "}}");
  const ModelStateBytes states = model_state_bytes(paged, 0);
  CHECK(states.paged == Approx(16060522496.0));
  CHECK(states.optimizer == 0);
  CHECK(model_state_bytes(resident, 0).optimizer == Approx(16060522496.0));

  const Workload w = build_workload(paged, test_inputs::shipped_overheads());
  const MemoryVerdict v = evaluate_memory(paged, w, test_inputs::shipped_overheads(), false);
  CHECK_FALSE(v.oom);                        // the 8-bit states (15 GiB) would not fit beside the weights
  const MemoryVerdict held = evaluate_memory(resident).value();
  CHECK(held.oom);  // ... held by the allocator they do not fit, and paging them is offered as a fix
  CHECK(std::any_of(held.fixes.begin(), held.fixes.end(), [](const MemoryFix& f) {
    return f.overrides == std::vector<std::string>{"training.paged_optimizer=true"};
  }));
  CHECK(v.paged_bytes == Approx(16060522496.0));
  // The device peak now holds the resident part: together they fill the card.
  CHECK(v.worst.peak_device_bytes == Approx(v.capacity_bytes));
  CHECK(v.paged_evicted_bytes > 0);
  CHECK(v.paged_evicted_bytes < v.paged_bytes);
  CHECK(v.host_bytes_per_node == Approx(v.paged_evicted_bytes));  // one GPU per node: its evicted pages
  const double paging = costed_optimizer_step(paged).seconds - costed_optimizer_step(resident).seconds;
  CHECK(paging == Approx(2 * v.paged_evicted_bytes / 31.5e9).epsilon(1e-9));
}

TEST_CASE("paged optimizer: the evicted part is what does not fit beside the peak", "[offload][memory]") {
  CHECK(paged_evicted_bytes(10, 20, 25) == 5);   // 5 of 10 stay on the GPU
  CHECK(paged_evicted_bytes(10, 10, 25) == 0);   // all stay
  CHECK(paged_evicted_bytes(10, 30, 25) == 10);  // the peak alone exceeds the card: all paged out
}
