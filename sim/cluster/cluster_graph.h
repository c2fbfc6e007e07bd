// ClusterGraph: the whole cluster as a directed Boost graph, and the route between any two GPUs.
//
// Vertices: every device of the node, once per node ("n3.gpu5", "n3.pcie-sw1"), then, when there
// is more than one node, the fabric switches:
//   single_switch:  "fabric.switch", every NIC port on it;
//   fat_tree:       "fabric.leaf<g>" per group of nodes_per_leaf nodes (all their NICs), + "fabric.spine";
//   rail_optimized: "fabric.leaf<g>.rail<r>" for NIC number r of the nodes of group g, + "fabric.spine".
// The spine exists when there is more than one leaf; each leaf<->spine link carries
// (sum of the bandwidths of the NIC ports on that leaf) / oversubscription, with the fabric
// link type's latency. A NIC port has its NIC's link type.
// Links: every undirected link is two directed ones, ids 2k (a -> b) and 2k+1 (b -> a), so
// `id ^ 1` is always the reverse; bandwidth = type bandwidth x count (bytes/s per direction),
// latency per hop (s). Ids are grouped: node n's links, in node.links order, are
// [n*E, (n+1)*E) with E = 2*|node.links|; then the NIC ports (node, NIC order); then leaf<->spine.
// Global GPU rank = node * G + local index (GPU order in the file).
//
// Routes (see node_routes.h for the in-node rules): inside a node, the node template's route
// translated to that node; between nodes, source GPU -> its NIC -> its leaf [-> spine -> other
// leaf] -> the destination GPU's NIC -> destination GPU. Routes never cross another GPU or an
// NVSwitch on their way to a NIC. They are computed on demand in O(route length): the in-node
// part is precomputed once per node template, never for all GPU pairs.
//
// build() rejects (Diagnostics naming the devices): nodes < 1; several nodes without a fabric;
// GPU pairs with no route; GPUs with no NIC when nodes > 1; an ambiguous NIC on a
// rail_optimized fabric (node_routes.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cluster/node_routes.h"
#include "scenario/diagnostics.h"
#include "scenario/gpu_spec.h"
#include "scenario/topology_spec.h"

namespace stepsim {

enum class VertexKind { gpu, nvswitch, pcie_switch, cpu, nic, fabric_switch };

struct ClusterVertex {
  std::string name;
  VertexKind kind = VertexKind::gpu;
  int node = -1;  // -1 for fabric switches
};

struct ClusterLink {
  std::string name;   // "n0.gpu0->n0.nvswitch"
  std::string kind;   // link type kind: nvlink, pcie, socket, ib, roce, ethernet, xgmi
  double bandwidth = 0;  // bytes/s in this direction
  double latency = 0;    // s
  int from = -1, to = -1;
};

struct FabricLeaf {
  int vertex = -1;
  int uplink = -1;  // link id leaf -> spine (uplink ^ 1: spine -> leaf); -1 without a spine
  int group = 0;    // group of nodes_per_leaf nodes (0 for single_switch)
  int rail = -1;    // NIC number for rail_optimized, else -1
};

class ClusterGraph {
 public:
  using Graph = LinkGraph;  // edge_index = link id

  static Result<ClusterGraph> build(const TopologySpec& t, const GpuSpec& gpu, int nodes);

  int nodes() const { return nodes_; }
  int gpus_per_node() const { return routes_.gpus(); }
  int gpu_count() const { return nodes_ * gpus_per_node(); }
  const GpuSpec& gpu() const { return gpu_; }
  const std::string& fabric_kind() const { return fabric_kind_; }  // empty when nodes == 1
  int nvswitch_generation() const { return nvswitch_generation_; }  // 0 without NVSwitch
  const Graph& graph() const { return *graph_; }
  const std::vector<ClusterVertex>& vertices() const { return vertices_; }
  const std::string& vertex_name(int v) const { return vertices_[v].name; }
  const std::vector<ClusterLink>& links() const { return links_; }  // directed; id = index
  const std::vector<FabricLeaf>& leaves() const { return leaves_; }

  // Ranks must lie in [0, gpu_count()).
  int gpu_vertex(int rank) const;
  int nic_vertex(int rank) const;  // the NIC the GPU uses; -1 when nodes == 1
  int leaf_of(int rank) const;     // index into leaves(); -1 when nodes == 1
  // Directed link ids from GPU `src` to GPU `dst`; empty when src == dst.
  std::vector<int> route(int src, int dst) const;
  // GPU -> its leaf (ends with the NIC port) and back; empty when nodes == 1.
  std::vector<int> uplink_route(int rank) const;
  std::vector<int> downlink_route(int rank) const;

  double route_latency(const std::vector<int>& links) const;    // sum of hop latencies
  double route_bandwidth(const std::vector<int>& links) const;  // min of hop bandwidths; +inf if empty

 private:
  ClusterGraph() = default;
  void add_link_pair(int a, int b, const std::string& kind, double bandwidth, double latency);
  void add_fabric(const TopologySpec& t);
  std::vector<int> in_node(const std::vector<int>& template_path, int node) const;
  int port_link(int rank) const;  // NIC -> leaf link id of the GPU's NIC

  int nodes_ = 1;
  int devices_per_node_ = 0;
  int links_per_node_ = 0;  // directed
  int first_port_link_ = 0;
  int nvswitch_generation_ = 0;
  GpuSpec gpu_;
  std::string fabric_kind_;
  NodeRoutes routes_;
  std::shared_ptr<Graph> graph_;  // shared by copies: never modified after build()
  std::vector<ClusterVertex> vertices_;
  std::vector<ClusterLink> links_;
  std::vector<FabricLeaf> leaves_;
  std::vector<int> port_leaf_;  // leaf of NIC port (node * NICs + NIC number)
};

}  // namespace stepsim
