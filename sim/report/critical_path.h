// The critical path of one simulated step: the chain of activities and waits, walked back from
// the activity that ends last, that sets the step time; each link of the chain names the
// resource it occupied (GPU compute of a rank, a network link, or a wait on a peer).
//
// The walk: from an activity that starts at t, the predecessor is the activity that ended at t
// among its stream predecessor, its cross-stream dependencies (Op.deps) and, for a collective,
// the peers' copies of it (every rank of a group runs the same program), for a pipeline recv the
// matching send of the neighbour stage (n-th recv of a direction = n-th send towards it). A
// collective or recv is on the path only from the moment its last participant arrived; time
// between activities that no predecessor explains is a wait.
// Resources: "rank R compute"; for communication, the link of its route (ring of the group, or
// the pipeline pair) with the highest busy fraction in StepResult.links, or, when no route link
// carried flows (analytic timing, folded replicas), the route's slowest link, named
// "<kind> <from>-><to>"; without a ClusterGraph "<group> communication"; "wait" for gaps.
//
// REQUIRES: a StepResult whose records cover the ranks on the path (record_all_ranks, or the
// default one rank per stage: peers then count as arriving with the recorded rank) and the
// Workload it was simulated from. Pure function of its inputs (no SimGrid), so constructed cases
// test it directly. Deterministic: the last activity is, on a tie, the lowest rank's (then the
// lowest op index); peers that arrive at the same time as the current rank (within 1e-9 of the
// step time) leave the path on the current rank. Owner: helper crit (report stage); the trace
// draws `steps` as they are; the report lists merged segments and bottlenecks.h sums them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster/cluster_graph.h"
#include "engine/step_result.h"
#include "workload/program_builder.h"

namespace stepsim {

enum class CriticalKind : uint8_t { compute, communication, wait };

struct CriticalStep {
  int rank = 0;
  uint32_t op = 0;  // index in the rank's stage program (for a wait: the op that waited)
  Stream stream = Stream::compute;
  double start = 0, end = 0;
  std::string resource;  // e.g. "rank 3 compute", "pcie n0.pcie-sw1->n0.cpu0", "wait"
  CriticalKind kind = CriticalKind::compute;
};

struct CriticalPath {
  std::vector<CriticalStep> steps;  // in time order, from step start to step end, no overlaps
  double step_time = 0;
  double covered() const;  // sum of the steps' durations (= step_time when the walk reached 0)
};

CriticalPath find_critical_path(const Workload& w, const StepResult& result);
CriticalPath find_critical_path(const Workload& w, const StepResult& result, const ClusterGraph* cluster);

std::string to_string(CriticalKind k);

// Consecutive steps on the same rank merged into one visit of that rank: what the report lists
// (a tensor-parallel path alternates compute and communication thousands of times per rank).
struct CriticalSegment {
  int rank = 0;
  double start = 0, end = 0;
  double compute = 0, communication = 0, wait = 0;  // seconds of each kind inside
  std::string resource;  // the one the segment spent most time on (first by name on a tie)
  size_t steps = 0;      // critical steps merged
};
std::vector<CriticalSegment> merge_segments(const CriticalPath& path);

// The report's "critical_path" object (docs/report-schema.md): a summary and, of the merged
// segments, the `max_segments` longest in time order (the rest summed as omitted).
nlohmann::ordered_json critical_path_json(const CriticalPath& path, size_t max_segments = 64);

}  // namespace stepsim
