// TopologySpec: one node's devices and links plus the inter-node fabric
// (topologies/<id>.json, docs/formats/topology.md). Bandwidths are physical per-direction rates
// in bytes/s, latencies one-way per hop in seconds; achieved efficiencies are calibrated elsewhere.
//
// parse_topology() checks references (link endpoints, link types), that at least one GPU
// exists, that the node's graph is connected (so every GPU reaches every NIC) and that a node
// with a fabric has a NIC. Routing is the cluster stage's job. host_memory_bandwidth_gbps is
// optional and, when present, needs a non-empty host_memory_bandwidth_source.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/json_document.h"

namespace stepsim {

enum class DeviceKind { gpu, nvswitch, pcie_switch, cpu, nic };
std::string to_string(DeviceKind k);

struct LinkType {
  std::string name;
  std::string kind;        // nvlink, pcie, socket, ib, roce, ethernet, xgmi
  double bandwidth = 0;    // bytes/s per direction
  double latency = 0;      // seconds per hop
  std::string source;
};

struct Device {
  std::string id;
  DeviceKind kind = DeviceKind::gpu;
  int generation = 0;      // NVSwitch generation
  std::string link_type;   // NIC: type of its fabric port
};

struct Link {
  std::string a, b, type;
  int count = 1;           // bonded lanes; bandwidth multiplies
};

struct Fabric {
  std::string kind;        // single_switch, fat_tree, rail_optimized
  std::string link_type;
  int nodes_per_leaf = 0;
  double oversubscription = 1.0;
  std::string source;
};

struct TopologySpec {
  std::string file;
  std::string id, description;
  std::string gpu;         // default GPU catalog id
  int nodes = 1;
  double host_memory_bytes = 0;
  // Peak DRAM bandwidth of the node's CPUs, bytes/s (channels x MT/s x 8 bytes x sockets);
  // 0 when the topology does not give it (the offloaded optimizer step is then not timed).
  double host_memory_bandwidth = 0;
  std::string host_memory_bandwidth_source;
  std::map<std::string, LinkType> link_types;
  std::vector<Device> devices;
  std::vector<Link> links;
  std::optional<Fabric> fabric;

  int gpus_per_node() const;
};

Result<TopologySpec> parse_topology(const JsonDocument& doc);
Result<TopologySpec> load_topology(const std::string& ref, const std::string& base_dir = "");

}  // namespace stepsim
