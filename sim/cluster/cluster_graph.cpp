#include "cluster/cluster_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace stepsim {

namespace {

VertexKind vertex_kind(DeviceKind k) {
  switch (k) {
    case DeviceKind::gpu: return VertexKind::gpu;
    case DeviceKind::nvswitch: return VertexKind::nvswitch;
    case DeviceKind::pcie_switch: return VertexKind::pcie_switch;
    case DeviceKind::cpu: return VertexKind::cpu;
    case DeviceKind::nic: return VertexKind::nic;
  }
  return VertexKind::gpu;
}

// parse_topology() already checks these; a spec assembled in code may not have been through it.
void check_references(const TopologySpec& t, int nodes, Diagnostics& diags) {
  auto add = [&](std::string path, std::string message, std::string fix) {
    diags.add({t.file, 0, std::move(path), std::move(message), std::move(fix)});
  };
  if (nodes < 1) add("cluster.nodes", fmt::format("{} nodes: a cluster needs at least one", nodes), "use nodes >= 1");
  if (nodes > 1 && !t.fabric)
    add("fabric", fmt::format("topology \"{}\" has no fabric (null), so it cannot form a {}-node cluster", t.id, nodes),
        "run one node, or use a topology with a fabric");
  if (t.gpus_per_node() == 0) add("node.devices", "the node has no GPU", "add a device with \"kind\": \"gpu\"");
  std::set<std::string> ids;
  for (const auto& d : t.devices) {
    ids.insert(d.id);
    if (d.kind == DeviceKind::nic && nodes > 1 && !t.link_types.count(d.link_type))
      add("node.devices", fmt::format("NIC {} has unknown link type \"{}\"", d.id, d.link_type),
          "define it under \"link_types\"");
  }
  for (const auto& l : t.links) {
    for (const std::string* end : {&l.a, &l.b})
      if (!ids.count(*end))
        add("node.links", fmt::format("link endpoint \"{}\" is not a device of the node", *end), "declare it");
    if (!t.link_types.count(l.type))
      add("node.links", fmt::format("link {}-{} has unknown link type \"{}\"", l.a, l.b, l.type),
          "define it under \"link_types\"");
  }
  if (nodes > 1 && t.fabric && !t.link_types.count(t.fabric->link_type))
    add("fabric.link_type", fmt::format("unknown link type \"{}\"", t.fabric->link_type),
        "define it under \"link_types\"");
}

}  // namespace

Result<ClusterGraph> ClusterGraph::build(const TopologySpec& t, const GpuSpec& gpu, int nodes) {
  Diagnostics diags;
  check_references(t, nodes, diags);
  if (!diags.ok()) return diags;
  const bool multi = nodes > 1;
  auto routes = compute_node_routes(t, gpu, multi, multi && t.fabric->kind == "rail_optimized");
  if (!routes.ok()) return routes.errors();

  ClusterGraph g;
  g.nodes_ = nodes;
  g.gpu_ = gpu;
  g.routes_ = std::move(routes.value());
  g.devices_per_node_ = static_cast<int>(t.devices.size());
  for (const Device& d : t.devices)
    if (d.kind == DeviceKind::nvswitch) g.nvswitch_generation_ = std::max(g.nvswitch_generation_, d.generation);
  g.links_per_node_ = static_cast<int>(2 * t.links.size());
  std::map<std::string, int> index;
  for (int d = 0; d < g.devices_per_node_; ++d) index.emplace(t.devices[d].id, d);

  g.vertices_.reserve(static_cast<size_t>(nodes) * g.devices_per_node_);
  g.links_.reserve(static_cast<size_t>(nodes) * (g.links_per_node_ + 2 * g.routes_.nic_devices.size()));
  for (int n = 0; n < nodes; ++n)
    for (const auto& d : t.devices) g.vertices_.push_back({fmt::format("n{}.{}", n, d.id), vertex_kind(d.kind), n});
  g.graph_ = std::make_shared<Graph>(g.vertices_.size());
  for (int n = 0; n < nodes; ++n) {
    const int base = n * g.devices_per_node_;
    for (const auto& l : t.links) {
      const LinkType& type = t.link_types.at(l.type);
      g.add_link_pair(base + index.at(l.a), base + index.at(l.b), type.kind, type.bandwidth * l.count, type.latency);
    }
  }
  if (multi) g.add_fabric(t);
  return g;
}

void ClusterGraph::add_link_pair(int a, int b, const std::string& kind, double bandwidth, double latency) {
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    const int id = static_cast<int>(links_.size());
    links_.push_back({vertices_[from].name + "->" + vertices_[to].name, kind, bandwidth, latency, from, to});
    boost::add_edge(from, to, id, *graph_);
  }
}

void ClusterGraph::add_fabric(const TopologySpec& t) {
  const Fabric& f = *t.fabric;
  fabric_kind_ = f.kind;
  const bool single = f.kind == "single_switch", rails = f.kind == "rail_optimized";
  const int per_leaf = single || f.nodes_per_leaf < 1 ? nodes_ : f.nodes_per_leaf;
  const int groups = (nodes_ + per_leaf - 1) / per_leaf;
  const int nics = static_cast<int>(routes_.nic_devices.size());
  auto add_switch = [&](std::string name) {
    vertices_.push_back({std::move(name), VertexKind::fabric_switch, -1});
    return static_cast<int>(boost::add_vertex(*graph_));
  };
  if (single) leaves_.push_back({add_switch("fabric.switch"), -1, 0, -1});
  for (int g = 0; g < groups && !single; ++g) {
    if (!rails) leaves_.push_back({add_switch(fmt::format("fabric.leaf{}", g)), -1, g, -1});
    for (int r = 0; r < nics && rails; ++r)
      leaves_.push_back({add_switch(fmt::format("fabric.leaf{}.rail{}", g, r)), -1, g, r});
  }

  // NIC ports: each NIC on its leaf, with the NIC's own link type.
  first_port_link_ = static_cast<int>(links_.size());
  std::vector<double> downlink(leaves_.size(), 0.0);
  for (int n = 0; n < nodes_; ++n) {
    for (int k = 0; k < nics; ++k) {
      const int leaf = single ? 0 : rails ? (n / per_leaf) * nics + k : n / per_leaf;
      const int nic = routes_.nic_devices[k];
      const LinkType& type = t.link_types.at(t.devices[nic].link_type);
      port_leaf_.push_back(leaf);
      add_link_pair(n * devices_per_node_ + nic, leaves_[leaf].vertex, type.kind, type.bandwidth, type.latency);
      downlink[leaf] += type.bandwidth;
    }
  }
  if (leaves_.size() < 2) return;
  // One aggregate link per leaf: the leaf's downlink bandwidth divided by the oversubscription.
  const int spine = add_switch("fabric.spine");
  const LinkType& type = t.link_types.at(f.link_type);
  for (size_t i = 0; i < leaves_.size(); ++i) {
    leaves_[i].uplink = static_cast<int>(links_.size());
    add_link_pair(leaves_[i].vertex, spine, type.kind, downlink[i] / f.oversubscription, type.latency);
  }
}

int ClusterGraph::gpu_vertex(int rank) const {
  const int G = gpus_per_node();
  return (rank / G) * devices_per_node_ + routes_.gpu_devices[rank % G];
}

int ClusterGraph::nic_vertex(int rank) const {
  if (nodes_ == 1) return -1;
  const int G = gpus_per_node();
  return (rank / G) * devices_per_node_ + routes_.nic_devices[routes_.nic_of_gpu[rank % G]];
}

int ClusterGraph::port_link(int rank) const {
  const int G = gpus_per_node(), nics = static_cast<int>(routes_.nic_devices.size());
  return first_port_link_ + 2 * ((rank / G) * nics + routes_.nic_of_gpu[rank % G]);
}

int ClusterGraph::leaf_of(int rank) const {
  if (nodes_ == 1) return -1;
  return port_leaf_[(port_link(rank) - first_port_link_) / 2];
}

std::vector<int> ClusterGraph::in_node(const std::vector<int>& template_path, int node) const {
  std::vector<int> path(template_path);
  for (int& id : path) id += node * links_per_node_;
  return path;
}

std::vector<int> ClusterGraph::uplink_route(int rank) const {
  if (nodes_ == 1) return {};
  std::vector<int> path = in_node(routes_.gpu_to_nic[rank % gpus_per_node()], rank / gpus_per_node());
  path.push_back(port_link(rank));
  return path;
}

std::vector<int> ClusterGraph::downlink_route(int rank) const {
  if (nodes_ == 1) return {};
  std::vector<int> path{port_link(rank) ^ 1};
  for (int id : in_node(NodeRoutes::reversed(routes_.gpu_to_nic[rank % gpus_per_node()]), rank / gpus_per_node()))
    path.push_back(id);
  return path;
}

std::vector<int> ClusterGraph::route(int src, int dst) const {
  if (src == dst) return {};
  const int G = gpus_per_node();
  if (src / G == dst / G) return in_node(routes_.gpu_to_gpu[(src % G) * G + dst % G], src / G);
  std::vector<int> path = uplink_route(src);
  const int a = leaf_of(src), b = leaf_of(dst);
  if (a != b) path.insert(path.end(), {leaves_[a].uplink, leaves_[b].uplink ^ 1});
  for (int id : downlink_route(dst)) path.push_back(id);
  return path;
}

double ClusterGraph::route_latency(const std::vector<int>& links) const {
  double sum = 0;
  for (int id : links) sum += links_[id].latency;
  return sum;
}

double ClusterGraph::route_bandwidth(const std::vector<int>& links) const {
  double min = std::numeric_limits<double>::infinity();
  for (int id : links) min = std::min(min, links_[id].bandwidth);
  return min;
}

}  // namespace stepsim
