// Data-parallel replica folding: all DP replicas run the same programs, so the engine may
// simulate replica 0 only — but ONLY when a route check proves that the replicas' own traffic
// (tensor-, context- and pipeline-parallel transfers) uses disjoint links, so that no replica
// can slow another. Data-parallel collectives, which span the replicas, are then timed
// analytically with the static max-min share of every link among all the concurrent
// data-parallel rings of a stage (exact for the macro model when those rings run together).
// SimGrid-free.
#pragma once

#include <functional>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "cluster/cluster_graph.h"
#include "engine/collective_algorithms.h"
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
// the slowest flow's fair share. Cached per (group, stage, kind). With a chooser (the engine's
// algorithm choice) an all-reduce run as a tree or hierarchically is timed by that algorithm's
// static form over all concurrent groups of the stage: launch + critical-path latency + the max
// link load of all their transfers (collective_trees.h).
class FoldedCollectives {
 public:
  using Chooser = std::function<Algorithm(OpKind kind, const std::vector<int>& members, double bytes, int tag)>;
  FoldedCollectives(const Workload& w, const ClusterGraph& g, const CollectiveCalibration& c, Chooser choose = {})
      : w_(w), g_(g), cal_(c), choose_(std::move(choose)) {}
  double seconds(OpKind kind, Group group, int rank, double bytes);

 private:
  struct StaticForm {  // seconds = latency + per_byte · bytes (launch excluded)
    double latency = 0, per_byte = 0;
  };
  const StaticForm& static_form(Algorithm a, Group group, int stage);
  std::map<std::tuple<int, int, int>, StaticForm> forms_;

  struct Geometry {
    double channels = 1, hop_latency = 0, flow_rate = 0;
    int members = 0;
  };
  const Geometry& geometry(Group group, int stage, int rank);

  const Workload& w_;
  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  Chooser choose_;
  std::map<std::pair<int, int>, Geometry> cache_;
};

}  // namespace stepsim
