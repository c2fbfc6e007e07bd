// Data-parallel replica folding: all DP replicas run the same programs, so the engine may
// simulate replica 0 only — but ONLY when a route check proves that the replicas' own traffic
// (tensor-, context- and pipeline-parallel transfers) uses disjoint links, so that no replica
// can slow another. Data-parallel collectives, which span the replicas, are then timed
// analytically with the static max-min share of every link among all the concurrent
// data-parallel rings of a stage (exact for the macro model when those rings run together).
// SimGrid-free.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cluster/cluster_graph.h"
#include "scenario/collective_calibration.h"
#include "workload/program_builder.h"

namespace stepsim {

struct FoldingDecision {
  bool folded = false;
  std::string reason;  // why folding was used or refused, for the report
};

// Checks eligibility (dp > 1, no expert parallelism, no HSDP) and link-disjointness of every
// replica's non-data-parallel traffic.
FoldingDecision decide_folding(const Workload& w, const ClusterGraph& g);

// Time of one data-parallel collective of `group` around `rank`, all DP groups of the rank's
// stage running at once: launch latency, every step's worst hop latency, and the edge bytes at
// the slowest flow's fair share. Cached per (group, stage, kind).
class FoldedCollectives {
 public:
  FoldedCollectives(const Workload& w, const ClusterGraph& g, const CollectiveCalibration& c) : w_(w), g_(g), cal_(c) {}
  double seconds(OpKind kind, Group group, int rank, double bytes);

 private:
  struct Geometry {
    double channels = 1, hop_latency = 0, flow_rate = 0;
    int members = 0;
  };
  const Geometry& geometry(Group group, int stage, int rank);

  const Workload& w_;
  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  std::map<std::pair<int, int>, Geometry> cache_;
};

}  // namespace stepsim
