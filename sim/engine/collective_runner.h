// CollectiveRunner: executes one rank's part of a collective inside a SimGrid actor, by the
// algorithms and fidelity levels of collective_algorithms.h. All members of the group must call
// it for the same collective in the same order (as NCCL requires). Rings are cached per group.
// REQUIRES: a running SimGrid engine with the platform of `cluster` built; one runner shared by
// all actors of the simulation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "cluster/cluster_graph.h"
#include "engine/collective_algorithms.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

// Geometry of one ring: members in order, the worst hop latency, the slowest edge and the
// lowest collective efficiency of the link kinds that limit its edges.
struct Ring {
  std::vector<int> members;
  double hop_latency = 0;
  double bandwidth = 0;
  double efficiency = 1;
};

class CollectiveRunner {
 public:
  // `algorithm`: ring, nvls, or "auto" (ring) — with auto, an all-reduce inside one node on an
  // NVSwitch of generation 3+ uses NVLS when NCCL's cost model (launch/hop latencies and rates of
  // collectives.json) says it is faster, as NCCL's tuner does.
  CollectiveRunner(const ClusterGraph& cluster, const CollectiveCalibration& calibration, Fidelity fidelity,
                   std::string algorithm = "auto")
      : g_(cluster), cal_(calibration), fidelity_(fidelity), algorithm_(std::move(algorithm)) {}

  // The algorithm that runs this collective.
  Algorithm choose(OpKind kind, const std::vector<int>& members, double bytes, int tag);

  // `tag` separates concurrent groups (one mailbox per rank and tag). Returns transfers made.
  size_t run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag);
  size_t run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag, Fidelity fidelity);
  // Point-to-point: returns the started transfer (the sender does not wait for the receiver).
  simgrid::s4u::CommPtr send(int from, int to, double bytes, const std::string& tag);
  void receive(int rank, const std::string& tag);

  const Ring& ring_of(const std::vector<int>& members, int tag);
  // α-β time of the collective on its rings (channels included), without flows.
  double analytic_time(OpKind kind, const std::vector<int>& members, double bytes, int tag);
  // NCCL runs one ring per channel; a group spanning several nodes with k members per node uses
  // k channels whose rings enter and leave each node through different GPUs (and so different
  // NICs), each carrying 1/k of the data. One ring otherwise.
  std::vector<std::vector<int>> channel_orders(const std::vector<int>& members) const;

 private:
  simgrid::s4u::Mailbox* mailbox(const std::string& tag, int rank);
  simgrid::s4u::BarrierPtr barrier(const std::vector<int>& members, int tag);

  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  Fidelity fidelity_;
  std::string algorithm_;
  bool nvls_eligible(OpKind kind, const std::vector<int>& members) const;
  double nvls_time(double bytes, const Ring& ring) const;
  std::map<std::pair<int, long long>, Ring> rings_;
  std::map<std::pair<int, long long>, simgrid::s4u::BarrierPtr> barriers_;
};

}  // namespace stepsim
