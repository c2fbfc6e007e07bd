// NodeRoutes: how the GPUs of ONE node reach each other and their NIC, computed once per
// topology (the node template) and reused for every node of the cluster.
//
// Paths are lists of template link ids: node.links[l] gives id 2l (a -> b) and 2l+1 (b -> a), so
// `id ^ 1` is the reverse direction. Rules, after NCCL's path preferences:
//  1. NVLink: the fewest hops over nvlink/xgmi links whose intermediate devices are NVSwitches
//     (a bridge is one hop, an NVSwitch two; never through another GPU).
//  2. else, when the card allows PCIe peer-to-peer (GpuSpec::pcie_p2p): the fewest hops over
//     pcie/socket links whose intermediate devices are PCIe switches or CPUs. In a PCIe tree that is
//     through the lowest common switch or root complex, and across sockets over the socket link.
//  3. else through host memory: GPU -> ... -> CPU c -> ... -> GPU over the same links, c being the
//     CPU with the fewest total hops (the first in device order on a tie).
//  NIC of a GPU (only when `needs_nic`): the NICs at the fewest hops over the links of rule 2.
//     One such NIC: it. Several: the "rail NIC" (NIC number i*N/G for local GPU i of G, with N NICs
//     in device order) when it is one of them. Otherwise the choice is AMBIGUOUS: an error on a
//     rail_optimized fabric (the NIC decides the rail, hence which switch the traffic crosses);
//     elsewhere the least-used of them so far (GPUs in order; first in device order on a tie).
//     A GPU's rail is the index of its NIC among the node's NICs.
// Equal-length paths are resolved by breadth-first search in link order, so results are
// deterministic. Errors (a GPU pair with no path, a GPU with no NIC, an ambiguous NIC) name the
// devices involved.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <string>
#include <vector>

#include "scenario/diagnostics.h"
#include "scenario/gpu_spec.h"
#include "scenario/topology_spec.h"

namespace stepsim {

// Directed graph whose edges carry their link id (edge_index); out-edges keep insertion order,
// which is what makes breadth-first searches deterministic.
using LinkGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                        boost::property<boost::edge_index_t, int>>;

struct NodeRoutes {
  std::vector<int> gpu_devices;              // device index of local GPU i
  std::vector<int> nic_devices;              // device index of NIC ordinal k (device order)
  std::vector<std::vector<int>> gpu_to_gpu;  // [i * G + j]: template link ids, empty for i == j
  std::vector<int> nic_of_gpu;               // NIC ordinal used by local GPU i; empty without needs_nic
  std::vector<std::vector<int>> gpu_to_nic;  // [i]: template link ids from GPU i to its NIC

  int gpus() const { return static_cast<int>(gpu_devices.size()); }
  // A path read backwards: the reverse links in reverse order.
  static std::vector<int> reversed(const std::vector<int>& path);
};

// Expects references already checked (parse_topology does); `rail_fabric` selects the NIC rule.
Result<NodeRoutes> compute_node_routes(const TopologySpec& t, const GpuSpec& gpu, bool needs_nic, bool rail_fabric);

}  // namespace stepsim
