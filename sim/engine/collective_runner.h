// CollectiveRunner: executes one rank's part of a collective inside a SimGrid actor, by the
// algorithms and fidelity levels of collective_algorithms.h. All members of the group must call
// it for the same collective in the same order (as NCCL requires). Geometry is cached per group.
// REQUIRES: a running SimGrid engine with the platform of `cluster` built; one runner shared by
// all actors of the simulation.
//
// Algorithms: ring (NCCL channels, ring_geometry.h), tree (double binary tree over nodes with
// intra-node chains, collective_trees.h), hier (intra-node reduce-scatter, per-rail inter-node
// all-reduce, intra-node all-gather), nvls (in-switch reduction), direct (all-to-all). Tree and
// hier apply to all-reduce (other operations run rings); hier needs the same number of members on
// every node of a multi-node group (else rings). At `step` fidelity, tree runs as at `macro`
// (one pipelined flow per tree edge). A chunk-level tree is not a better model in a flow-level
// simulator: NCCL streams a connection's chunks in FIFO order with up to NCCL_STEPS in flight, so
// per-chunk latency overlaps; SimGrid flows on one link share it fairly instead, so chunks in flight
// together arrive together (the pipeline fills in bursts), and one chunk at a time pays the hop
// latency once per chunk (0.6 us per 1.2 us NVLink chunk of 512 KiB).
// Channels of a ring whose edges share a route are sent as ONE message carrying all their bytes
// when no other edge of the same collective touches that route's links (then equal sharing makes
// it exact); concurrent traffic of other collectives sees one flow instead of several.
#pragma once

#include <map>
#include <tuple>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "cluster/cluster_graph.h"
#include "engine/collective_algorithms.h"
#include "engine/collective_trees.h"
#include "engine/collective_tuning.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

// Geometry of one ring: members in order, the worst hop latency, the slowest edge, the lowest
// collective efficiency of the link kinds that limit its edges, and the rate of its slowest edge
// at that edge's own efficiency (min over edges of bandwidth × efficiency: a channel whose NIC
// edge limits it runs at the NIC's efficiency, not at NVLink's).
struct Ring {
  std::vector<int> members;
  double hop_latency = 0;
  double bandwidth = 0;
  double efficiency = 1;
  double rate = 0;
};

class CollectiveRunner {
 public:
  // `algorithm`: auto, ring, tree, hier, nvls or direct. With auto, NCCL's tuning model
  // (collective_tuning.h) picks ring, tree or NVLS by size, node count and topology.
  // `protocol`: auto, simple, ll128 or ll (rings and trees; NVLS, hier and direct run Simple). A
  // ring or tree with LL or LL128 puts bytes / the protocol's bandwidth factor on the wire and
  // starts with the protocol's base latency instead of the launch latency (collective_tuning.h).
  CollectiveRunner(const ClusterGraph& cluster, const CollectiveCalibration& calibration, Fidelity fidelity,
                   std::string algorithm = "auto", std::string protocol = "auto")
      : g_(cluster), cal_(calibration), fidelity_(fidelity), algorithm_(std::move(algorithm)),
        protocol_(std::move(protocol)) {}

  // The algorithm and the protocol that run this collective.
  Algorithm choose(OpKind kind, const std::vector<int>& members, double bytes, int tag);
  Protocol protocol(OpKind kind, const std::vector<int>& members, double bytes, int tag);

  // `tag` separates concurrent groups (one mailbox per rank and tag). Returns transfers made.
  size_t run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag);
  size_t run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag, Fidelity fidelity);
  // Point-to-point: returns the started transfer (the sender does not wait for the receiver).
  simgrid::s4u::CommPtr send(int from, int to, double bytes, const std::string& tag);
  void receive(int rank, const std::string& tag);

  const Ring& ring_of(const std::vector<int>& members, int tag);
  // α-β time of the collective on its rings (channels included), without flows.
  double analytic_time(OpKind kind, const std::vector<int>& members, double bytes, int tag);
  // Tree all-reduce without flows: `launch` (the protocol's base latency) + critical path latency
  // + static max link load of `bytes` (on the wire).
  double tree_analytic_time(const std::vector<int>& members, double bytes, int tag, double launch);
  // Hierarchical all-reduce without flows: launch + the three phases, each its steps' worst hop
  // latency plus its static max link load.
  double hier_analytic_time(const std::vector<int>& members, double bytes);
  // NCCL runs one ring per channel; a group spanning several nodes with k members per node uses
  // k channels whose rings enter and leave each node through different GPUs (and so different
  // NICs), each carrying 1/k of the data. One ring otherwise.
  std::vector<std::vector<int>> channel_orders(const std::vector<int>& members) const;

 private:
  struct TreeGeometry {
    TreeSet trees;
    std::map<int, int> position;  // rank -> position in trees.members
    double path_latency = 0, edge_latency = 0, seconds_per_byte = 0;
  };

  simgrid::s4u::Mailbox* mailbox(const std::string& tag, int rank);
  simgrid::s4u::BarrierPtr barrier(const std::vector<int>& members, int tag);
  const TreeGeometry& tree_of(const std::vector<int>& members, int tag);
  bool merge_channels(const std::vector<std::vector<int>>& orders, int ring_tag);
  struct RingPeer {
    int peer;
    double bytes;  // per step on the wire (sends only)
    int channel;   // the first channel on this edge: names the mailbox
  };
  // `rank`'s right neighbours (sends) or left neighbours (receives) over all channels, merged.
  std::vector<RingPeer> ring_peers(const std::vector<std::vector<int>>& orders, int rank, double step_bytes,
                                   int ring_tag, bool sends, double* worst_hop);
  // One ring collective over `orders` (channels): `steps` rounds of `step_bytes` split over the
  // channels (stepwise), or one flow per edge of steps · step_bytes plus the other steps' hop
  // latencies (macro); then waits `tail_delay` more (the launch latency) in the same sleep.
  size_t ring_pass(const std::vector<std::vector<int>>& orders, int rank, int steps, double step_bytes,
                   bool stepwise, const std::string& box, int ring_tag, double tail_delay);
  size_t run_ring(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag, bool stepwise,
                  double launch);
  size_t run_tree(const std::vector<int>& members, int rank, double bytes, int tag, double launch);
  size_t run_hier(const std::vector<int>& members, int rank, double bytes, int tag, bool stepwise);
  size_t run_nvls(const std::vector<int>& members, int rank, double bytes, int tag, Fidelity fidelity);
  size_t run_all_to_all(const std::vector<int>& members, int rank, double bytes, int tag);
  bool nvls_eligible(OpKind kind, const std::vector<int>& members) const;
  double nvls_time(double bytes, const Ring& ring) const;
  struct Choice {
    Algorithm algorithm = Algorithm::ring;
    Protocol protocol = Protocol::simple;
    double wire_factor = 1;  // bytes on the wire per byte of the collective
  };
  Choice decide(OpKind kind, const std::vector<int>& members, double bytes, int tag);
  Algorithm forced_algorithm(OpKind kind, const std::vector<int>& members) const;
  TuningInputs tuning_inputs(OpKind kind, const std::vector<int>& members, double bytes, int tag);

  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  Fidelity fidelity_;
  std::string algorithm_, protocol_;
  std::map<std::pair<int, long long>, Ring> rings_;
  std::map<std::pair<int, long long>, simgrid::s4u::BarrierPtr> barriers_;
  std::map<std::pair<int, long long>, TreeGeometry> trees_;
  std::map<std::pair<int, long long>, bool> merge_;
  std::map<long long, std::pair<double, double>> hier_;  // members key -> (latency, seconds per byte)
  std::map<std::tuple<int, int, long long, int, double>, Choice> choices_;
};

}  // namespace stepsim
