#include "engine/collective_trees.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "engine/collective_algorithms.h"
#include "engine/ring_geometry.h"

namespace stepsim {

std::vector<std::vector<int>> members_by_node(const std::vector<int>& members, int gpus_per_node) {
  std::vector<std::vector<int>> groups;
  std::unordered_map<int, size_t> slot;  // node -> index in groups
  for (int m : members) {
    auto it = slot.emplace(m / gpus_per_node, groups.size()).first;
    if (it->second == groups.size()) groups.push_back({});
    groups[it->second].push_back(m);
  }
  return groups;
}

namespace {

// ncclGetBtree's parent: clear the lowest set bit and set the next one up, or just clear it when
// that falls outside the tree.
int btree_parent(int n, int rank) {
  if (rank == 0) return -1;
  int bit = 1;
  while (bit < n && !(bit & rank)) bit <<= 1;
  int up = (rank ^ bit) | (bit << 1);
  if (up >= n) up = rank ^ bit;
  return up;
}

}  // namespace

std::vector<int> binary_tree_parents(int n) {
  std::vector<int> parent(static_cast<size_t>(std::max(n, 0)));
  for (int r = 0; r < n; ++r) parent[static_cast<size_t>(r)] = btree_parent(n, r);
  return parent;
}

std::vector<int> second_tree_parents(int n) {
  std::vector<int> parent(static_cast<size_t>(std::max(n, 0)));
  for (int r = 0; r < n; ++r) {
    if (n % 2 == 1) {  // shift by one
      const int up = btree_parent(n, (r - 1 + n) % n);
      parent[static_cast<size_t>(r)] = up < 0 ? -1 : (up + 1) % n;
    } else {  // mirror
      const int up = btree_parent(n, n - 1 - r);
      parent[static_cast<size_t>(r)] = up < 0 ? -1 : n - 1 - up;
    }
  }
  return parent;
}

TreeSet double_binary_trees(const std::vector<int>& members, int gpus_per_node) {
  const auto by_node = members_by_node(members, gpus_per_node);
  TreeSet t;
  std::vector<size_t> offset;  // position of each node's first member in t.members
  for (const auto& n : by_node) {
    offset.push_back(t.members.size());
    t.members.insert(t.members.end(), n.begin(), n.end());
  }
  const int nodes = static_cast<int>(by_node.size());
  t.channels = hierarchical_eligible(by_node) ? static_cast<int>(by_node.front().size()) : 1;
  const std::vector<std::vector<int>> node_trees = {binary_tree_parents(nodes), second_tree_parents(nodes)};
  for (int c = 0; c < t.channels; ++c)
    for (int which = 0; which < 2; ++which) {
      std::vector<int> parent(t.members.size(), -1);
      auto head = [&](int node) {
        const size_t size = by_node[static_cast<size_t>(node)].size();
        return static_cast<int>(offset[static_cast<size_t>(node)] + static_cast<size_t>(c) % size);
      };
      for (int n = 0; n < nodes; ++n) {
        const int size = static_cast<int>(by_node[static_cast<size_t>(n)].size());
        const int h = c % size;
        int previous = -1;
        for (int j = 0; j < size; ++j) {
          const int local = which == 0 ? (h + j) % size : (h - j + size) % size;
          const int pos = static_cast<int>(offset[static_cast<size_t>(n)]) + local;
          const int up_node = node_trees[static_cast<size_t>(which)][static_cast<size_t>(n)];
          parent[static_cast<size_t>(pos)] = j > 0 ? previous : (up_node < 0 ? -1 : head(up_node));
          previous = pos;
        }
      }
      std::vector<std::vector<int>> children(t.members.size());
      for (size_t p = 0; p < parent.size(); ++p)
        if (parent[p] >= 0) children[static_cast<size_t>(parent[p])].push_back(static_cast<int>(p));
      t.parent.push_back(std::move(parent));
      t.children.push_back(std::move(children));
    }
  return t;
}

std::vector<Transfer> tree_transfers(const TreeSet& t, double bytes) {
  std::vector<Transfer> out;
  const double share = bytes / static_cast<double>(t.parent.size());
  for (const auto& parent : t.parent)
    for (size_t p = 0; p < parent.size(); ++p) {
      if (parent[p] < 0) continue;
      const int child = t.members[p], up = t.members[static_cast<size_t>(parent[p])];
      out.push_back({child, up, share});  // reduce
      out.push_back({up, child, share});  // broadcast
    }
  return out;
}

double tree_path_latency(const ClusterGraph& g, const TreeSet& t) {
  double worst = 0;
  for (const auto& parent : t.parent) {
    const size_t n = parent.size();
    std::vector<double> up(n, -1), down(n, -1);  // latency to / from the root
    std::function<void(size_t)> fill = [&](size_t p) {
      if (up[p] >= 0) return;
      if (parent[p] < 0) {
        up[p] = down[p] = 0;
        return;
      }
      const size_t q = static_cast<size_t>(parent[p]);
      fill(q);
      up[p] = up[q] + g.route_latency(g.route(t.members[p], t.members[q]));
      down[p] = down[q] + g.route_latency(g.route(t.members[q], t.members[p]));
    };
    for (size_t p = 0; p < n; ++p) fill(p);
    worst = std::max(worst, *std::max_element(up.begin(), up.end()) + *std::max_element(down.begin(), down.end()));
  }
  return worst;
}

double tree_edge_latency(const ClusterGraph& g, const TreeSet& t) {
  double worst = 0;
  for (const Transfer& e : tree_transfers(t, 0)) worst = std::max(worst, g.route_latency(g.route(e.from, e.to)));
  return worst;
}

double max_link_seconds(const ClusterGraph& g, const CollectiveCalibration& c, const std::vector<Transfer>& flows) {
  std::unordered_map<int, double> load;
  for (const Transfer& f : flows) {
    const std::vector<int> route = g.route(f.from, f.to);
    const double wire = f.bytes / route_efficiency(g, c, route);
    for (int l : route) load[l] += wire;
  }
  double worst = 0;
  for (const auto& [link, bytes] : load) worst = std::max(worst, bytes / g.links()[static_cast<size_t>(link)].bandwidth);
  return worst;
}

bool hierarchical_eligible(const std::vector<std::vector<int>>& by_node) {
  if (by_node.size() < 2) return false;
  for (const auto& n : by_node)
    if (n.size() != by_node.front().size()) return false;
  return true;
}

std::vector<int> rail_members(const std::vector<std::vector<int>>& by_node, size_t l) {
  std::vector<int> rail;
  for (const auto& n : by_node) rail.push_back(n[l]);
  return rail;
}

void add_ring_transfers(const std::vector<int>& order, double edge_bytes, std::vector<Transfer>& out) {
  if (order.size() < 2) return;
  for (size_t i = 0; i < order.size(); ++i) out.push_back({order[i], order[(i + 1) % order.size()], edge_bytes});
}

HierPhases hier_phases(const std::vector<int>& members, int gpus_per_node, double bytes) {
  const auto by_node = members_by_node(members, gpus_per_node);
  const int local = static_cast<int>(by_node.front().size()), nodes = static_cast<int>(by_node.size());
  HierPhases h;
  h.intra_steps = ring_steps(OpKind::reduce_scatter, local);
  h.rail_steps = ring_steps(OpKind::all_reduce, nodes);
  for (const auto& node : by_node) add_ring_transfers(node, ring_edge_bytes(OpKind::reduce_scatter, local, bytes), h.intra);
  for (size_t l = 0; l < by_node.front().size(); ++l)
    add_ring_transfers(rail_members(by_node, l), ring_edge_bytes(OpKind::all_reduce, nodes, bytes / local), h.rails);
  return h;
}

double hier_latency(const ClusterGraph& g, const HierPhases& h) {
  auto worst_hop = [&](const std::vector<Transfer>& flows) {
    double hop = 0;
    for (const Transfer& f : flows) hop = std::max(hop, g.route_latency(g.route(f.from, f.to)));
    return hop;
  };
  return 2 * h.intra_steps * worst_hop(h.intra) + h.rail_steps * worst_hop(h.rails);
}

double hier_load_seconds(const ClusterGraph& g, const CollectiveCalibration& c, const HierPhases& h) {
  return 2 * max_link_seconds(g, c, h.intra) + max_link_seconds(g, c, h.rails);
}

}  // namespace stepsim
