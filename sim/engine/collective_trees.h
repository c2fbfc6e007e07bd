// Tree and hierarchical all-reduce geometry (SimGrid-free, testable alone): which rank sends how
// many bytes to which, and the static link-load time of a set of concurrent transfers.
//
// Double binary tree (NCCL's ncclGetDtree, src/graph/trees.cc): over the nodes of a group, tree 0
// is NCCL's binary tree rooted at node 0, tree 1 its mirror (even node count) or its shift by one
// node (odd), so that a node interior in one tree is (mostly) a leaf in the other. Inside a node
// the GPUs form a chain whose head talks to the other nodes; tree 1's chain runs the other way.
// With k members on each node of a multi-node group there are k channels, channel c's chains
// headed by local member c (so each channel leaves the node through a different NIC), as NCCL
// does for rings. Each of the 2k trees carries M/(2k): reduce up, broadcast down, pipelined.
//
// Hierarchical all-reduce: intra-node reduce-scatter (ring over each node's members), inter-node
// all-reduce of M/L per rail (ring over the GPUs with the same local index), intra-node all-gather.
// It needs the same number L of members on every node (hierarchical_eligible).
#pragma once

#include <vector>

#include "cluster/cluster_graph.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

// Members grouped by node, in order of first appearance; the order inside a node is kept.
std::vector<std::vector<int>> members_by_node(const std::vector<int>& members, int gpus_per_node);

// NCCL's binary tree over n positions (root 0): parent of each position, -1 for the root.
std::vector<int> binary_tree_parents(int n);
// The second tree: mirror (n even) or shift by one (n odd) of binary_tree_parents.
std::vector<int> second_tree_parents(int n);

struct TreeSet {
  std::vector<int> members;                           // positions index this list
  std::vector<std::vector<int>> parent;               // [tree][position] -> position, -1 at the root
  std::vector<std::vector<std::vector<int>>> children;  // [tree][position] -> positions
  int channels = 1;                                   // trees = 2 · channels, each carrying M / trees
};

TreeSet double_binary_trees(const std::vector<int>& members, int gpus_per_node);

// One point-to-point transfer of a collective: `bytes` on the wire from GPU `from` to GPU `to`.
struct Transfer {
  int from = 0, to = 0;
  double bytes = 0;
};

// Every edge of every tree, up and down, each carrying `bytes` / trees (all-reduce of `bytes`).
std::vector<Transfer> tree_transfers(const TreeSet& t, double bytes);

// Latency of the pipeline's critical path: the deepest up path plus the deepest down path (sum
// of route latencies), the worst of the trees.
double tree_path_latency(const ClusterGraph& g, const TreeSet& t);
// The largest route latency of any tree edge.
double tree_edge_latency(const ClusterGraph& g, const TreeSet& t);

// Static max load: max over links of sum(bytes / route efficiency) / link bandwidth — the time of
// the transfers running together when the busiest link is every one of its flows' bottleneck
// (exact for the macro model then, a lower bound otherwise).
double max_link_seconds(const ClusterGraph& g, const CollectiveCalibration& c, const std::vector<Transfer>& flows);

// Hierarchical: the same number (>= 1) of members on every node, and more than one node.
bool hierarchical_eligible(const std::vector<std::vector<int>>& by_node);
// Rail l: the l-th member of every node.
std::vector<int> rail_members(const std::vector<std::vector<int>>& by_node, size_t l);

// Transfers of one ring pass over `order` in which every edge carries `edge_bytes`.
void add_ring_transfers(const std::vector<int>& order, double edge_bytes, std::vector<Transfer>& out);

// The phases of a hierarchical all-reduce of `bytes` (members hierarchical_eligible): the intra-
// node reduce-scatter's transfers (the all-gather repeats them) and the rails' all-reduce.
struct HierPhases {
  std::vector<Transfer> intra, rails;
  int intra_steps = 0, rail_steps = 0;
};
HierPhases hier_phases(const std::vector<int>& members, int gpus_per_node, double bytes);
// Static time of concurrent hierarchical all-reduces whose phases are `phases` merged (their
// transfers appended): 2 intra phases + the rail phase, each its steps' worst hop latency
// (hier_latency) plus its max link load (hier_load_seconds); no launch latency.
double hier_latency(const ClusterGraph& g, const HierPhases& phases);
double hier_load_seconds(const ClusterGraph& g, const CollectiveCalibration& c, const HierPhases& phases);

}  // namespace stepsim
