#include "engine/collective_tuning.h"

#include <algorithm>
#include <cmath>

namespace stepsim {

std::string to_string(Protocol p) {
  switch (p) {
    case Protocol::simple: return "simple";
    case Protocol::ll128: return "ll128";
    case Protocol::ll: return "ll";
  }
  return "?";
}

std::optional<Protocol> protocol_named(const std::string& name) {
  for (Protocol p : {Protocol::simple, Protocol::ll128, Protocol::ll})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

namespace {
const AlgorithmLatency& ring_latencies(const NcclTuning& t, Protocol p) {
  return p == Protocol::ll ? t.ring_ll : p == Protocol::ll128 ? t.ring_ll128 : t.ring;
}
}  // namespace

double protocol_bandwidth_factor(const CollectiveCalibration& c, Protocol p) {
  return p == Protocol::ll ? c.tuning.ll_bandwidth_factor : p == Protocol::ll128 ? c.tuning.ll128_bandwidth_factor : 1.0;
}

double protocol_base_latency(const CollectiveCalibration& c, Protocol p) {
  return p == Protocol::simple ? c.launch_latency : ring_latencies(c.tuning, p).base;
}

double nccl_ring_latency(const CollectiveCalibration& c, const TuningInputs& in, Protocol p) {
  const NcclTuning& t = c.tuning;
  const AlgorithmLatency& l = ring_latencies(t, p);
  const bool simple = p == Protocol::simple;
  const int steps = ring_steps(in.kind, in.ranks);
  const int inter = in.nodes > 1 ? steps * (in.nodes - 1) / std::max(in.ranks - 1, 1) : 0;  // 2(nNodes-1) for all-reduce
  double intra = in.nvlink_inside ? l.nvlink : l.pcie;
  if (in.nodes > 1) intra = std::max(intra, (simple ? 3 : 1) * t.net_overhead);
  // With one GPU per node NCCL takes the Tree's NET latency (the Simple one: LL/LL128 trees are not modelled).
  const double net = in.per_node == 1 && simple ? t.tree.net : l.net;
  double lat = l.base + (steps - inter) * intra + inter * net;
  if (in.nodes > 1 && simple) lat *= t.ring_multinode_factor;
  return lat;
}

double nccl_tree_latency(const CollectiveCalibration& c, const TuningInputs& in) {
  const NcclTuning& t = c.tuning;
  const double intra = in.nvlink_inside ? t.tree.nvlink : t.tree.pcie;
  return t.tree.base + 2 * ((in.per_node - 1) * intra + std::log2(static_cast<double>(in.nodes)) * t.tree.net);
}

double nccl_ring_bandwidth_seconds(const CollectiveCalibration& c, const TuningInputs& in, Protocol p) {
  double seconds = in.ring_seconds / protocol_bandwidth_factor(c, p);
  if (p == Protocol::ll && c.tuning.ll_max_busbw > 0) seconds = std::max(seconds, in.bus_bytes / c.tuning.ll_max_busbw);
  return seconds;
}

TuningChoice nccl_choice(const CollectiveCalibration& c, const TuningInputs& in, std::optional<Protocol> protocol) {
  TuningChoice out;
  auto ring_with = [&](Protocol p) { return nccl_ring_latency(c, in, p) + nccl_ring_bandwidth_seconds(c, in, p); };
  out.ring = ring_with(Protocol::simple);
  out.ring_ll = ring_with(Protocol::ll);
  // A forced protocol runs even where NCCL would not enable it (LL128 off NVLink).
  if (in.ll128_enabled || protocol == Protocol::ll128) out.ring_ll128 = ring_with(Protocol::ll128);
  if (protocol && *protocol != Protocol::simple) {  // only rings run LL and LL128 here
    out.protocol = *protocol;
    return out;
  }
  // The algorithm by the Simple protocol (trees with LL/LL128 are not modelled, so a joint choice
  // would favour LL rings over trees where NCCL picks a tree with LL) ...
  double best = out.ring;
  if (in.kind == OpKind::all_reduce && in.tree_seconds >= 0) {
    out.tree = nccl_tree_latency(c, in) + in.tree_seconds / c.tuning.tree_bandwidth_factor;
    if (out.tree < best) best = out.tree, out.algorithm = Algorithm::tree;
  }
  if (in.kind == OpKind::all_reduce && in.nvls_seconds >= 0) {
    out.nvls = c.nvls_latency + in.nvls_seconds;
    if (out.nvls < best) best = out.nvls, out.algorithm = Algorithm::nvls;
  }
  // ... then a ring's protocol.
  if (out.algorithm != Algorithm::ring || protocol) return out;
  if (out.ring_ll < best) best = out.ring_ll, out.protocol = Protocol::ll;
  if (out.ring_ll128 >= 0 && out.ring_ll128 < best) best = out.ring_ll128, out.protocol = Protocol::ll128;
  return out;
}

}  // namespace stepsim
