#include "engine/collective_tuning.h"

#include <algorithm>
#include <cmath>

namespace stepsim {

double nccl_ring_latency(const CollectiveCalibration& c, const TuningInputs& in) {
  const NcclTuning& t = c.tuning;
  const int steps = ring_steps(in.kind, in.ranks);
  const int inter = in.nodes > 1 ? steps * (in.nodes - 1) / std::max(in.ranks - 1, 1) : 0;  // 2(nNodes-1) for all-reduce
  double intra = in.nvlink_inside ? t.ring.nvlink : t.ring.pcie;
  if (in.nodes > 1) intra = std::max(intra, 3 * t.net_overhead);
  const double net = in.per_node == 1 ? t.tree.net : t.ring.net;
  double lat = t.ring.base + (steps - inter) * intra + inter * net;
  if (in.nodes > 1) lat *= t.ring_multinode_factor;
  return lat;
}

double nccl_tree_latency(const CollectiveCalibration& c, const TuningInputs& in) {
  const NcclTuning& t = c.tuning;
  const double intra = in.nvlink_inside ? t.tree.nvlink : t.tree.pcie;
  return t.tree.base + 2 * ((in.per_node - 1) * intra + std::log2(static_cast<double>(in.nodes)) * t.tree.net);
}

TuningChoice nccl_choice(const CollectiveCalibration& c, const TuningInputs& in) {
  TuningChoice out;
  out.ring = nccl_ring_latency(c, in) + in.ring_seconds;
  double best = out.ring;
  if (in.kind == OpKind::all_reduce && in.tree_seconds >= 0) {
    out.tree = nccl_tree_latency(c, in) + in.tree_seconds / c.tuning.tree_bandwidth_factor;
    if (out.tree < best) best = out.tree, out.algorithm = Algorithm::tree;
  }
  if (in.kind == OpKind::all_reduce && in.nvls_seconds >= 0) {
    out.nvls = c.nvls_latency + in.nvls_seconds;
    if (out.nvls < best) best = out.nvls, out.algorithm = Algorithm::nvls;
  }
  return out;
}

}  // namespace stepsim
