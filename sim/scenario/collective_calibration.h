// CollectiveCalibration: how NCCL-like collectives use links (topologies/framework/
// collectives.json): the fraction of a link's rate a large collective achieves per link kind,
// the launch latency of one collective, NVLS (in-switch reduction) rate and latency, and NCCL's
// tuning-model latencies (docs/reference/hardware.md §3d) that the `auto` algorithm choice uses.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "scenario/json_document.h"

namespace stepsim {

// NCCL tuning model latencies of one algorithm with the Simple protocol, in seconds: the base
// latency and the per-step hardware latency over NVLink, PCIe and the network.
struct AlgorithmLatency {
  double base = 0, nvlink = 0, pcie = 0, net = 0;
};

struct NcclTuning {
  AlgorithmLatency ring, tree;            // Simple protocol
  AlgorithmLatency ring_ll, ring_ll128;   // Ring with the LL and LL128 protocols
  AlgorithmLatency tree_ll, tree_ll128;   // Tree with the LL and LL128 protocols
  double ll_bandwidth_factor = 0.5;       // LL bus bandwidth / Simple's (a flag word per data word)
  double ll_max_busbw = 0;                // bytes/s: NCCL's llMaxBw cap on LL bus bandwidth
  double ll128_bandwidth_factor = 0.92;   // LL128 bus bandwidth / Simple's
  std::vector<std::string> ll128_families;  // GPU families where NCCL enables LL128 on NVLink
  double net_overhead = 0;            // s; a multi-node ring's intra-node step is at least 3x this (Simple)
  double ring_multinode_factor = 1;   // multi-node Ring/Simple latency multiplier ("plateau")
  double tree_bandwidth_factor = 1;   // tree bus bandwidth as a fraction of the link rate (NCCL: 0.92)
  double tree_ll_bandwidth_factor = 1;                // Tree-LL bus bandwidth / Tree-Simple's (NCCL: 1/3.8)
  double tree_ll128_bandwidth_factor_one_node = 1;    // Tree-LL128 / Tree-Simple inside one node (7/9)
  double tree_ll128_bandwidth_factor_multi_node = 1;  // ... across nodes (120/128)
};

struct CollectiveCalibration {
  std::map<std::string, double> link_efficiency;  // link kind -> fraction of its rate
  double launch_latency = 0;                        // seconds per collective
  double nvls_algbw_fraction = 0;  // NVLS all-reduce algbw as a fraction of the per-GPU NVLink rate
  double nvls_latency = 0;         // seconds
  NcclTuning tuning;
  double efficiency(const std::string& link_kind) const;  // 1 for kinds not listed
};

Result<CollectiveCalibration> parse_collective_calibration(const JsonDocument& doc);
Result<CollectiveCalibration> load_collective_calibration();

}  // namespace stepsim
