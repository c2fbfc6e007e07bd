// Platform: the SimGrid platform of a ClusterGraph, built in code (no XML).
//
// REQUIRES a constructed simgrid::s4u::Engine, before Engine::run(); call
// sg_host_energy_plugin_init() before build_platform() when energy is wanted (the wattage
// properties are set here, before each host is sealed). Run the engine with
//   --cfg=network/model:CM02 --cfg=network/crosstraffic:0 --cfg=network/TCP-gamma:1e18
// so that a lone transfer of S bytes takes route_latency + S / route_bandwidth exactly.
//
// Layout: one FullZone per node ("n<k>") with a host per GPU (named like its vertex, kHostSpeed
// flop/s, wattage_per_state "idle:idle:tdp" from the GpuSpec, wattage_off 0) and a gateway router
// "n<k>.gw". Its routes are ClusterGraph::route for every ordered GPU pair, and uplink_route /
// downlink_route between each GPU and the gateway (so the NIC port is inside the node zone).
// One split-duplex link per undirected graph link (UP = the even link id), created only when a
// route uses it, in the root zone before the node zones (SimGrid checks every new name against
// every zone; this keeps the build near-linear: ~2 s for 16,384 GPUs). Nodes hang from StarZones:
//   single_switch: a root star with no links (the switch is non-blocking) - exact;
//   fat_tree: a star per leaf ("fabric.group<g>", gateway: its first node's) under a root star
//     whose routes cross that leaf's uplink (leaf->spine UP, spine->leaf DOWN) - exact;
//   rail_optimized: SimGrid's gateways are per zone, not per NIC, so a route cannot pick the
//     uplink of its rail: traffic that stays on one leaf is exact; traffic between groups crosses
//     one aggregate link per group (the sum of its rails' uplinks; exact latency, pooled
//     bandwidth); traffic between rails inside a group skips the spine. `approximation` says so.
// Link names: "<from vertex>--<to vertex>" for the duplex pair of graph link 2k (its halves are
// "..._UP" = from->to and "..._DOWN" = to->from); the rail aggregate is
// "fabric.group<g>.rails--fabric.spine". LinkSampler::readable_name turns a half into "from->to".
#pragma once

#include <simgrid/forward.h>

#include <string>
#include <vector>

#include "cluster/cluster_graph.h"

namespace stepsim {

// Host speed: an Exec of t * kHostSpeed flops lasts t simulated seconds.
constexpr double kHostSpeed = 1e12;

struct Platform {
  std::vector<simgrid::s4u::Host*> gpus;   // by global rank
  std::vector<simgrid::s4u::Link*> links;  // by ClusterGraph link id; nullptr where no route uses it
  std::string approximation;               // empty when every SimGrid route equals ClusterGraph::route
};

Platform build_platform(const ClusterGraph& g);

}  // namespace stepsim
