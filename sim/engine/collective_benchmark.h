// An nccl-tests-like microbenchmark: one collective over every GPU of a cluster, for a range of
// sizes, timed in simulation. Reported like all_reduce_perf: size, time, algbw = size/time,
// busbw = algbw × the operation's bus factor (collective_algorithms.h).
// Runs a SimGrid engine: at most once per process.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_graph.h"
#include "engine/collective_algorithms.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

struct CollectivePoint {
  double bytes = 0;
  double time_s = 0;
  double algbw = 0;  // bytes/s
  double busbw = 0;  // bytes/s
  std::string algorithm;
  std::string protocol;  // simple, ll128, ll ("-" for point-to-point)
  size_t flows = 0;      // SimGrid transfers it took, over all ranks (what the simulation costs)
};

struct CollectiveBenchmark {
  OpKind op = OpKind::all_reduce;
  std::string algorithm_choice = "auto";  // auto | ring | tree | hier | nvls | direct
  std::string protocol_choice = "auto";   // auto | simple | ll128 | ll
  Fidelity fidelity = Fidelity::macro;
  std::vector<double> sizes;  // bytes
};

std::vector<CollectivePoint> run_collective_benchmark(const ClusterGraph& cluster,
                                                      const CollectiveCalibration& calibration,
                                                      const CollectiveBenchmark& bench);

}  // namespace stepsim
