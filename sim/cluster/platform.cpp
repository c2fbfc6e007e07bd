#include "cluster/platform.h"

#include <fmt/format.h>

#include <simgrid/s4u.hpp>

namespace stepsim {

namespace sg4 = simgrid::s4u;
using simgrid::kernel::routing::NetPoint;
using Direction = sg4::LinkInRoute::Direction;

namespace {

class Builder {
 public:
  Builder(const ClusterGraph& g, Platform& p) : g_(g), p_(p), duplex_(g.links().size() / 2, nullptr) {}

  // The SimGrid link of graph link `id` in its direction; the pair is created in `zone` on first use.
  sg4::LinkInRoute link(sg4::NetZone* zone, int id) {
    const int pair = id / 2;
    if (!duplex_[pair]) {
      const ClusterLink& l = g_.links()[2 * pair];
      auto* d = zone->create_split_duplex_link(g_.vertex_name(l.from) + "--" + g_.vertex_name(l.to), l.bandwidth);
      d->set_latency(l.latency)->seal();
      duplex_[pair] = d;
      p_.links[2 * pair] = d->get_link_up();
      p_.links[2 * pair + 1] = d->get_link_down();
    }
    return sg4::LinkInRoute(duplex_[pair], id % 2 == 0 ? Direction::UP : Direction::DOWN);
  }

  std::vector<sg4::LinkInRoute> links(sg4::NetZone* zone, const std::vector<int>& route) {
    std::vector<sg4::LinkInRoute> out;
    for (int id : route) out.push_back(link(zone, id));
    return out;
  }

  // Node n's FullZone under `parent` (none: it is the root). Returns the zone and its gateway.
  std::pair<sg4::NetZone*, NetPoint*> node(sg4::NetZone* parent, int n) {
    auto* zone = sg4::create_full_zone(fmt::format("n{}", n));
    if (parent) zone->set_parent(parent);
    NetPoint* gw = parent ? zone->create_router(fmt::format("n{}.gw", n)) : nullptr;
    const int G = g_.gpus_per_node();
    const std::string watts = fmt::format("{}:{}:{}", g_.gpu().idle_w, g_.gpu().idle_w, g_.gpu().tdp_w);
    for (int rank = n * G; rank < (n + 1) * G; ++rank) {
      auto* host = zone->create_host(g_.vertex_name(g_.gpu_vertex(rank)), kHostSpeed);
      // The energy plugin reads these when the host is sealed.
      host->set_property("wattage_per_state", watts);
      host->set_property("wattage_off", "0");
      host->seal();
      p_.gpus[rank] = host;
    }
    for (int a = n * G; a < (n + 1) * G; ++a) {
      NetPoint* src = p_.gpus[a]->get_netpoint();
      for (int b = n * G; b < (n + 1) * G; ++b)
        if (a != b) zone->add_route(src, p_.gpus[b]->get_netpoint(), nullptr, nullptr, links(zone, g_.route(a, b)), false);
      if (!gw) continue;
      zone->add_route(src, gw, nullptr, nullptr, links(zone, g_.uplink_route(a)), false);
      zone->add_route(gw, src, nullptr, nullptr, links(zone, g_.downlink_route(a)), false);
    }
    zone->seal();
    return {zone, gw};
  }

  // The link a group's traffic crosses to the spine: its leaf's uplink (fat_tree), or for
  // rail_optimized one aggregate of the group's rail uplinks (not a graph link).
  sg4::LinkInRoute group_uplink(sg4::NetZone* root, int group) {
    if (g_.fabric_kind() != "rail_optimized") {
      for (const auto& leaf : g_.leaves())
        if (leaf.group == group) return link(root, leaf.uplink);
    }
    double bandwidth = 0, latency = 0;
    for (const auto& leaf : g_.leaves()) {
      if (leaf.group != group) continue;
      bandwidth += g_.links()[leaf.uplink].bandwidth;
      latency = g_.links()[leaf.uplink].latency;
    }
    auto* d = root->create_split_duplex_link(fmt::format("fabric.group{}.rails--fabric.spine", group), bandwidth);
    d->set_latency(latency)->seal();
    return sg4::LinkInRoute(d, Direction::UP);
  }

 private:
  const ClusterGraph& g_;
  Platform& p_;
  std::vector<sg4::SplitDuplexLink*> duplex_;  // by undirected pair (link id / 2)
};

}  // namespace

Platform build_platform(const ClusterGraph& g) {
  Platform p;
  p.gpus.resize(g.gpu_count(), nullptr);
  p.links.assign(g.links().size(), nullptr);
  Builder b(g, p);
  if (g.nodes() == 1) {
    b.node(nullptr, 0);
    return p;
  }
  const int G = g.gpus_per_node();
  const auto& leaves = g.leaves();
  const int groups = leaves.back().group + 1;
  if (g.fabric_kind() == "rail_optimized" && leaves.size() > 1)
    p.approximation = "rail_optimized fabric: SimGrid routes leave a node through one gateway, so traffic between "
                      "rails of one group skips the spine and traffic between groups shares one aggregate uplink "
                      "per group; traffic within a leaf (same rail and group) is exact";

  auto* root = sg4::create_star_zone("fabric");
  // SimGrid checks each new link's name against every zone (recursively), so creating links
  // while node zones pile up costs O(nodes^2): 40 s at 2048 nodes. Created in the root before any
  // other zone exists, each check is one lookup (routes of child zones may use them).
  for (int a = 0; a < g.gpu_count(); ++a) {
    for (int c = (a / G) * G; c < (a / G + 1) * G; ++c) b.links(root, g.route(a, c));
    b.links(root, g.uplink_route(a));
    b.links(root, g.downlink_route(a));
  }
  if (groups == 1) {
    for (int n = 0; n < g.nodes(); ++n) {
      auto [zone, gw] = b.node(root, n);
      root->add_route(zone->get_netpoint(), nullptr, gw, nullptr, {}, true);
    }
  } else {
    std::vector<std::vector<int>> members(groups);
    for (int n = 0; n < g.nodes(); ++n) members[leaves[g.leaf_of(n * G)].group].push_back(n);
    for (int group = 0; group < groups; ++group) {
      auto* star = sg4::create_star_zone(fmt::format("fabric.group{}", group));
      star->set_parent(root);
      // SimGrid resolves a gateway only inside a child zone, so the group's is its first node's.
      NetPoint* gw = nullptr;
      for (int n : members[group]) {
        auto [zone, node_gw] = b.node(star, n);
        star->add_route(zone->get_netpoint(), nullptr, node_gw, nullptr, {}, true);
        if (!gw) gw = node_gw;
      }
      star->seal();
      root->add_route(star->get_netpoint(), nullptr, gw, nullptr, {b.group_uplink(root, group)}, true);
    }
  }
  root->seal();
  return p;
}

}  // namespace stepsim
