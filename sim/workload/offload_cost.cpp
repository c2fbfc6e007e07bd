#include "workload/offload_cost.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <vector>

namespace stepsim {

namespace {

bool is_pcie(const TopologySpec& t, const Link& l) {
  auto it = t.link_types.find(l.type);
  return it != t.link_types.end() && it->second.kind == "pcie";
}

// Indices of the links on the shortest PCIe path from device `from` to any CPU, passing only
// through PCIe switches; empty when there is none. Breadth-first in link order: deterministic.
std::vector<size_t> path_to_cpu(const TopologySpec& t, const std::map<std::string, size_t>& index, size_t from) {
  const size_t none = std::numeric_limits<size_t>::max();
  std::vector<size_t> via(t.devices.size(), none);  // link that reached each device
  std::vector<bool> seen(t.devices.size(), false);
  std::deque<size_t> queue = {from};
  seen[from] = true;
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop_front();
    if (t.devices[v].kind == DeviceKind::cpu) {
      std::vector<size_t> path;
      for (size_t d = v; d != from;) {
        const Link& l = t.links[via[d]];
        path.push_back(via[d]);
        d = index.at(l.a) == d ? index.at(l.b) : index.at(l.a);
      }
      return path;
    }
    if (v != from && t.devices[v].kind != DeviceKind::pcie_switch) continue;
    for (size_t i = 0; i < t.links.size(); ++i) {
      const Link& l = t.links[i];
      if (!is_pcie(t, l) || (index.at(l.a) != v && index.at(l.b) != v)) continue;
      const size_t w = index.at(l.a) == v ? index.at(l.b) : index.at(l.a);
      if (seen[w]) continue;
      seen[w] = true;
      via[w] = i;
      queue.push_back(w);
    }
  }
  return {};
}

}  // namespace

bool offloaded_step_timed(const Scenario& s) {
  return s.training.offload != Offload::none && s.topology.host_memory_bandwidth > 0;
}

double concurrent_host_link_bandwidth(const TopologySpec& t, double card_host_bandwidth) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < t.devices.size(); ++i) index[t.devices[i].id] = i;
  std::vector<std::vector<size_t>> paths;
  std::vector<int> users(t.links.size(), 0);
  for (size_t i = 0; i < t.devices.size(); ++i) {
    if (t.devices[i].kind != DeviceKind::gpu) continue;
    paths.push_back(path_to_cpu(t, index, i));
    for (size_t link : paths.back()) ++users[link];
  }
  double slowest = card_host_bandwidth;
  for (const auto& path : paths) {
    for (size_t link : path) {
      const Link& l = t.links[link];
      slowest = std::min(slowest, t.link_types.at(l.type).bandwidth * l.count / users[link]);
    }
  }
  return slowest;
}

double offloaded_step_seconds(const Scenario& s, double host_bytes, double host_link_bytes,
                              double host_memory_efficiency) {
  if (!offloaded_step_timed(s)) return 0;
  const double link = concurrent_host_link_bandwidth(s.topology, s.gpu.host_bandwidth);
  const double host = s.topology.host_memory_bandwidth * host_memory_efficiency / s.gpus_per_node();
  return host_link_bytes / link + host_bytes / host;
}

}  // namespace stepsim
