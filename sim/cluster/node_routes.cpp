#include "cluster/node_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>

namespace stepsim {

std::vector<int> NodeRoutes::reversed(const std::vector<int>& path) {
  std::vector<int> back;
  back.reserve(path.size());
  for (auto it = path.rbegin(); it != path.rend(); ++it) back.push_back(*it ^ 1);
  return back;
}

namespace {

// The two families of links a route may use (rules 1 and 2-3 of the header).
enum class LinkClass { nvlink, pcie };

// Built in place: copying a Boost adjacency_list is slow and trips GCC's -Wmaybe-uninitialized.
struct NodeGraph {
  LinkGraph graph;
  std::vector<int> from, to;        // by template link id
  std::vector<std::string> kind;    // by template link id
  std::vector<DeviceKind> device_kind;
  std::vector<std::string> device_id;

  explicit NodeGraph(const TopologySpec& t) : graph(t.devices.size()) {
    std::map<std::string, int> index;
    for (const auto& d : t.devices) {
      index.emplace(d.id, static_cast<int>(device_kind.size()));
      device_kind.push_back(d.kind);
      device_id.push_back(d.id);
    }
    for (size_t l = 0; l < t.links.size(); ++l) {
      const Link& link = t.links[l];
      int a = index.at(link.a), b = index.at(link.b);
      const std::string& k = t.link_types.at(link.type).kind;
      boost::add_edge(a, b, static_cast<int>(2 * l), graph);
      boost::add_edge(b, a, static_cast<int>(2 * l + 1), graph);
      from.insert(from.end(), {a, b});
      to.insert(to.end(), {b, a});
      kind.insert(kind.end(), {k, k});
    }
  }
};

bool carries(LinkClass c, const std::string& kind) {
  return c == LinkClass::nvlink ? (kind == "nvlink" || kind == "xgmi") : (kind == "pcie" || kind == "socket");
}

// Devices a path may pass through; GPUs and NICs are only ever endpoints.
bool may_cross(LinkClass c, DeviceKind d) {
  return c == LinkClass::nvlink ? d == DeviceKind::nvswitch : (d == DeviceKind::pcie_switch || d == DeviceKind::cpu);
}

struct Search {
  std::vector<int> dist;  // hops from the source; -1 = unreachable
  std::vector<int> via;   // link that first reached the device; -1 for the source
};

// Breadth-first search in link order: the first shortest path found is the one kept.
Search search(const NodeGraph& n, int src, LinkClass c) {
  const size_t count = boost::num_vertices(n.graph);
  Search s{std::vector<int>(count, -1), std::vector<int>(count, -1)};
  auto link_id = boost::get(boost::edge_index, n.graph);
  std::deque<int> queue{src};
  s.dist[src] = 0;
  while (!queue.empty()) {
    int v = queue.front();
    queue.pop_front();
    if (v != src && !may_cross(c, n.device_kind[v])) continue;
    auto [e, end] = boost::out_edges(v, n.graph);
    for (; e != end; ++e) {
      int l = link_id[*e];
      int w = static_cast<int>(boost::target(*e, n.graph));
      if (!carries(c, n.kind[l]) || s.dist[w] >= 0) continue;
      s.dist[w] = s.dist[v] + 1;
      s.via[w] = l;
      queue.push_back(w);
    }
  }
  return s;
}

std::vector<int> path_to(const NodeGraph& n, const Search& s, int dst) {
  std::vector<int> path;
  for (int v = dst; s.via[v] >= 0; v = n.from[s.via[v]]) path.push_back(s.via[v]);
  std::reverse(path.begin(), path.end());
  return path;
}

// Rule 3: the CPU with the fewest total hops, then GPU -> CPU -> GPU. Empty when no CPU serves both.
std::vector<int> via_host_memory(const NodeGraph& n, const Search& from_src, const Search& from_dst) {
  int best = -1;
  for (int c = 0; c < static_cast<int>(n.device_kind.size()); ++c) {
    if (n.device_kind[c] != DeviceKind::cpu || from_src.dist[c] < 0 || from_dst.dist[c] < 0) continue;
    if (best < 0 || from_src.dist[c] + from_dst.dist[c] < from_src.dist[best] + from_dst.dist[best]) best = c;
  }
  if (best < 0) return {};
  std::vector<int> path = path_to(n, from_src, best);
  for (int l : NodeRoutes::reversed(path_to(n, from_dst, best))) path.push_back(l);
  return path;
}

Diagnostic error(const TopologySpec& t, std::string message, std::string fix) {
  return {t.file, 0, "node.links", std::move(message), std::move(fix)};
}

// The NIC rule of the header for local GPU i; -1 (with a diagnostic) when there is none to take.
int choose_nic(const TopologySpec& t, const NodeGraph& n, const NodeRoutes& r, const Search& pcie, int i,
               bool rail_fabric, const std::vector<int>& uses, Diagnostics& diags) {
  const std::string& gpu = n.device_id[r.gpu_devices[i]];
  std::vector<int> closest;  // NIC ordinals
  int best = -1;
  for (int k = 0; k < static_cast<int>(r.nic_devices.size()); ++k) {
    int d = pcie.dist[r.nic_devices[k]];
    if (d < 0 || (best >= 0 && d > best)) continue;
    if (d < best || best < 0) closest.clear();
    best = d;
    closest.push_back(k);
  }
  if (closest.empty()) {
    diags.add(error(t, fmt::format("{} reaches no NIC over PCIe (routes to a NIC cross only PCIe switches and CPUs, "
                                   "never another GPU or an NVSwitch), so it cannot talk to other nodes", gpu),
                    "link " + gpu + " or its PCIe switch to a NIC, or run a single node"));
    return -1;
  }
  if (closest.size() == 1) return closest[0];
  const int rail = i * static_cast<int>(r.nic_devices.size()) / r.gpus();
  if (std::find(closest.begin(), closest.end(), rail) != closest.end()) return rail;
  if (rail_fabric) {
    std::vector<std::string> names;
    for (int k : closest) names.push_back(n.device_id[r.nic_devices[k]]);
    diags.add(error(t, fmt::format("ambiguous NIC for {}: {} NICs at {} hops ({}) and its rail NIC {} "
                                   "(NIC number {}*{}/{}) is not one of them; on a rail_optimized fabric the NIC "
                                   "decides the rail", gpu, closest.size(), best, fmt::join(names, ", "),
                                   n.device_id[r.nic_devices[rail]], i, r.nic_devices.size(), r.gpus()),
                    "order the NIC devices so that NIC number i*NICs/GPUs is among GPU i's closest NICs"));
    return -1;
  }
  int pick = closest[0];
  for (int k : closest)
    if (uses[k] < uses[pick]) pick = k;
  return pick;
}

}  // namespace

Result<NodeRoutes> compute_node_routes(const TopologySpec& t, const GpuSpec& gpu, bool needs_nic, bool rail_fabric) {
  const NodeGraph n(t);
  NodeRoutes r;
  for (int d = 0; d < static_cast<int>(t.devices.size()); ++d) {
    if (t.devices[d].kind == DeviceKind::gpu) r.gpu_devices.push_back(d);
    if (t.devices[d].kind == DeviceKind::nic) r.nic_devices.push_back(d);
  }
  const int G = r.gpus();
  std::vector<Search> nvlink, pcie;
  for (int i = 0; i < G; ++i) {
    nvlink.push_back(search(n, r.gpu_devices[i], LinkClass::nvlink));
    pcie.push_back(search(n, r.gpu_devices[i], LinkClass::pcie));
  }
  Diagnostics diags;
  r.gpu_to_gpu.resize(static_cast<size_t>(G) * G);
  for (int i = 0; i < G; ++i) {
    for (int j = 0; j < G; ++j) {
      if (i == j) continue;
      const int dst = r.gpu_devices[j];
      std::vector<int>& path = r.gpu_to_gpu[i * G + j];
      if (nvlink[i].dist[dst] > 0)
        path = path_to(n, nvlink[i], dst);
      else if (gpu.pcie_p2p && pcie[i].dist[dst] > 0)
        path = path_to(n, pcie[i], dst);
      else
        path = via_host_memory(n, pcie[i], pcie[j]);
      if (path.empty())
        diags.add(error(t, fmt::format("{} has no route to {}: no NVLink path (through NVSwitches only) and no {} "
                                       "(through PCIe switches and CPUs only)", n.device_id[r.gpu_devices[i]],
                                       n.device_id[dst], gpu.pcie_p2p ? "PCIe path" : "path through a CPU"),
                        "the node is disconnected for GPU traffic: add the missing links"));
    }
  }
  if (needs_nic) {
    std::vector<int> uses(r.nic_devices.size(), 0);
    for (int i = 0; i < G; ++i) {
      int k = choose_nic(t, n, r, pcie[i], i, rail_fabric, uses, diags);
      r.nic_of_gpu.push_back(k);
      r.gpu_to_nic.push_back(k < 0 ? std::vector<int>{} : path_to(n, pcie[i], r.nic_devices[k]));
      if (k >= 0) ++uses[k];
    }
  }
  if (!diags.ok()) return diags;
  return r;
}

}  // namespace stepsim
