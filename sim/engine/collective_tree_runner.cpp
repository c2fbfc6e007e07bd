// CollectiveRunner's tree and hierarchical all-reduce (collective_runner.h, collective_trees.h).
#include <fmt/format.h>

#include <algorithm>

#include "engine/collective_runner.h"
#include "engine/ring_geometry.h"

namespace sg4 = simgrid::s4u;

namespace stepsim {

void wait_every(std::vector<sg4::CommPtr>& comms);  // collective_runner.cpp

namespace {
int g_tree_payload = 0;
long long group_key(const std::vector<int>& members) {
  return (members.front() * 1000003LL + members.back()) * 131071LL + static_cast<long long>(members.size());
}
}  // namespace

const CollectiveRunner::TreeGeometry& CollectiveRunner::tree_of(const std::vector<int>& members, int tag) {
  auto key = std::make_pair(tag, group_key(members));
  auto it = trees_.find(key);
  if (it != trees_.end()) return it->second;
  TreeGeometry geo;
  geo.trees = double_binary_trees(members, g_.gpus_per_node());
  for (size_t p = 0; p < geo.trees.members.size(); ++p) geo.position[geo.trees.members[p]] = static_cast<int>(p);
  geo.path_latency = tree_path_latency(g_, geo.trees);
  geo.edge_latency = tree_edge_latency(g_, geo.trees);
  geo.seconds_per_byte = max_link_seconds(g_, cal_, tree_transfers(geo.trees, 1.0));
  return trees_.emplace(key, std::move(geo)).first->second;
}

double CollectiveRunner::tree_analytic_time(const std::vector<int>& members, double bytes, int tag, double launch) {
  const TreeGeometry& geo = tree_of(members, tag);
  return launch + geo.path_latency + geo.seconds_per_byte * bytes;
}

size_t CollectiveRunner::run_tree(const std::vector<int>& members, int rank, double bytes, int tag, double launch) {
  // Macro: every tree edge is one flow each way carrying the tree's share (reduce up, broadcast
  // down, pipelined); then the critical path's latency beyond the one hop the flows paid.
  const TreeGeometry& geo = tree_of(members, tag);
  const TreeSet& t = geo.trees;
  const size_t pos = static_cast<size_t>(geo.position.at(rank));
  const double share = bytes / static_cast<double>(t.parent.size());
  auto wire = [&](int from, int to) {
    return static_cast<uint64_t>(share / route_efficiency(g_, cal_, g_.route(from, to)));
  };
  auto box = [&](size_t tree, char dir, int from) { return fmt::format("t{}.{}{}{}", tag, tree, dir, from); };
  std::vector<sg4::CommPtr> comms;
  size_t receives = 0;
  for (size_t i = 0; i < t.parent.size(); ++i)
    receives += t.children[i][pos].size() + (t.parent[i][pos] >= 0 ? 1 : 0);
  std::vector<int*> received(receives);
  size_t slot = 0, sends = 0;
  for (size_t i = 0; i < t.parent.size(); ++i) {
    const int up = t.parent[i][pos];
    if (up >= 0) {
      const int parent = t.members[static_cast<size_t>(up)];
      comms.push_back(mailbox(box(i, 'u', rank), parent)->put_async(&g_tree_payload, wire(rank, parent)));
      comms.push_back(mailbox(box(i, 'd', parent), rank)->get_async<int>(&received[slot++]));
      ++sends;
    }
    for (int c : t.children[i][pos]) {
      const int child = t.members[static_cast<size_t>(c)];
      comms.push_back(mailbox(box(i, 'd', rank), child)->put_async(&g_tree_payload, wire(rank, child)));
      comms.push_back(mailbox(box(i, 'u', child), rank)->get_async<int>(&received[slot++]));
      ++sends;
    }
  }
  wait_every(comms);
  sg4::this_actor::sleep_for(launch + std::max(0.0, geo.path_latency - geo.edge_latency));
  return sends;
}

double CollectiveRunner::hier_analytic_time(const std::vector<int>& members, double bytes) {
  const long long key = group_key(members);
  auto it = hier_.find(key);
  if (it == hier_.end()) {
    // Affine in the bytes: the latency part (no bytes) and the time per byte.
    const HierPhases phases = hier_phases(members, g_.gpus_per_node(), 1.0);
    it = hier_.emplace(key, std::make_pair(hier_latency(g_, phases), hier_load_seconds(g_, cal_, phases))).first;
  }
  return cal_.launch_latency + it->second.first + it->second.second * bytes;
}

size_t CollectiveRunner::run_hier(const std::vector<int>& members, int rank, double bytes, int tag, bool stepwise) {
  const auto by_node = members_by_node(members, g_.gpus_per_node());
  const int local = static_cast<int>(by_node.front().size()), nodes = static_cast<int>(by_node.size());
  size_t node = 0, l = 0;
  for (size_t n = 0; n < by_node.size(); ++n) {
    auto at = std::find(by_node[n].begin(), by_node[n].end(), rank);
    if (at != by_node[n].end()) node = n, l = static_cast<size_t>(at - by_node[n].begin());
  }
  const std::string box = "h" + std::to_string(tag);
  size_t transfers = 0;
  const std::vector<std::vector<int>> intra = {by_node[node]}, rail = {rail_members(by_node, l)};
  // Reduce-scatter inside the node: L-1 steps of M/L; every GPU then owns M/L reduced bytes.
  if (local > 1) transfers += ring_pass(intra, rank, local - 1, bytes / local, stepwise, box + "a", tag, 0);
  // All-reduce of M/L across the nodes along this GPU's rail.
  transfers += ring_pass(rail, rank, 2 * (nodes - 1), bytes / local / nodes, stepwise, box + "b", tag, 0);
  // All-gather inside the node, then the launch latency.
  if (local > 1) transfers += ring_pass(intra, rank, local - 1, bytes / local, stepwise, box + "c", tag, cal_.launch_latency);
  else sg4::this_actor::sleep_for(cal_.launch_latency);
  return transfers;
}

}  // namespace stepsim
