#include "engine/ring_geometry.h"

namespace stepsim {

std::vector<std::vector<int>> channel_rings(const std::vector<int>& members, int gpus_per_node) {
  std::vector<std::vector<int>> by_node;
  for (int m : members) {
    if (by_node.empty() || by_node.back().front() / gpus_per_node != m / gpus_per_node) by_node.push_back({});
    by_node.back().push_back(m);
  }
  const size_t local = by_node.front().size();
  bool uniform = by_node.size() > 1 && local > 1;
  for (const auto& n : by_node) uniform = uniform && n.size() == local;
  if (!uniform) return {members};
  std::vector<std::vector<int>> orders(local);
  for (size_t c = 0; c < local; ++c)
    for (const auto& n : by_node)
      for (size_t i = 0; i < local; ++i) orders[c].push_back(n[(i + c) % local]);
  return orders;
}

double route_efficiency(const ClusterGraph& g, const CollectiveCalibration& c, const std::vector<int>& route) {
  const ClusterLink* slowest = nullptr;
  for (int l : route) {
    const ClusterLink& link = g.links()[static_cast<size_t>(l)];
    if (!slowest || link.bandwidth < slowest->bandwidth) slowest = &link;
  }
  return slowest ? c.efficiency(slowest->kind) : 1.0;
}

}  // namespace stepsim
