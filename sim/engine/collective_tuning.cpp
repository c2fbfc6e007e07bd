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
const AlgorithmLatency& tree_latencies(const NcclTuning& t, Protocol p) {
  return p == Protocol::ll ? t.tree_ll : p == Protocol::ll128 ? t.tree_ll128 : t.tree;
}

// Tree bus bandwidth with protocol p / with Simple (LL128 by the node count: 7/9 or 120/128).
double tree_protocol_bandwidth_factor(const CollectiveCalibration& c, int nodes, Protocol p) {
  const NcclTuning& t = c.tuning;
  if (p == Protocol::ll) return t.tree_ll_bandwidth_factor;
  if (p == Protocol::ll128) return nodes == 1 ? t.tree_ll128_bandwidth_factor_one_node : t.tree_ll128_bandwidth_factor_multi_node;
  return 1.0;
}
}  // namespace

double protocol_bandwidth_factor(const CollectiveCalibration& c, Protocol p) {
  return p == Protocol::ll ? c.tuning.ll_bandwidth_factor : p == Protocol::ll128 ? c.tuning.ll128_bandwidth_factor : 1.0;
}

double protocol_base_latency(const CollectiveCalibration& c, Algorithm a, Protocol p) {
  if (p == Protocol::simple) return c.launch_latency;
  return (a == Algorithm::tree ? tree_latencies(c.tuning, p) : ring_latencies(c.tuning, p)).base;
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

double nccl_tree_latency(const CollectiveCalibration& c, const TuningInputs& in, Protocol p) {
  const AlgorithmLatency& l = tree_latencies(c.tuning, p);
  const double intra = in.nvlink_inside ? l.nvlink : l.pcie;
  return l.base + 2 * ((in.per_node - 1) * intra + std::log2(static_cast<double>(in.nodes)) * l.net);
}

double nccl_tree_bandwidth_seconds(const CollectiveCalibration& c, const TuningInputs& in, Protocol p) {
  double seconds = in.tree_seconds / c.tuning.tree_bandwidth_factor / tree_protocol_bandwidth_factor(c, in.nodes, p);
  if (p == Protocol::ll && c.tuning.ll_max_busbw > 0) seconds = std::max(seconds, in.bus_bytes / c.tuning.ll_max_busbw);
  return seconds;
}

double nccl_ring_bandwidth_seconds(const CollectiveCalibration& c, const TuningInputs& in, Protocol p) {
  double seconds = in.ring_seconds / protocol_bandwidth_factor(c, p);
  if (p == Protocol::ll && c.tuning.ll_max_busbw > 0) seconds = std::max(seconds, in.bus_bytes / c.tuning.ll_max_busbw);
  return seconds;
}

TuningChoice nccl_choice(const CollectiveCalibration& c, const TuningInputs& in, std::optional<Protocol> protocol) {
  TuningChoice out;
  auto ring_with = [&](Protocol p) { return nccl_ring_latency(c, in, p) + nccl_ring_bandwidth_seconds(c, in, p); };
  auto tree_with = [&](Protocol p) { return nccl_tree_latency(c, in, p) + nccl_tree_bandwidth_seconds(c, in, p); };
  // A forced protocol runs even where NCCL would not enable it (LL128 off NVLink).
  const bool ll128 = in.ll128_enabled || protocol == Protocol::ll128;
  const bool tree = in.kind == OpKind::all_reduce && in.tree_seconds >= 0;
  out.ring = ring_with(Protocol::simple);
  out.ring_ll = ring_with(Protocol::ll);
  if (ll128) out.ring_ll128 = ring_with(Protocol::ll128);
  if (tree) {
    out.tree = tree_with(Protocol::simple);
    out.tree_ll = tree_with(Protocol::ll);
    if (ll128) out.tree_ll128 = tree_with(Protocol::ll128);
  }
  if (in.kind == OpKind::all_reduce && in.nvls_seconds >= 0) out.nvls = c.nvls_latency + in.nvls_seconds;
  // The fastest (algorithm, protocol) pair, as NCCL's tuner; NVLS runs Simple only. A forced
  // protocol restricts the candidates to it.
  const struct {
    Algorithm algorithm;
    Protocol protocol;
    double seconds;
  } candidates[] = {{Algorithm::ring, Protocol::simple, out.ring},     {Algorithm::ring, Protocol::ll, out.ring_ll},
                    {Algorithm::ring, Protocol::ll128, out.ring_ll128}, {Algorithm::tree, Protocol::simple, out.tree},
                    {Algorithm::tree, Protocol::ll, out.tree_ll},       {Algorithm::tree, Protocol::ll128, out.tree_ll128},
                    {Algorithm::nvls, Protocol::simple, out.nvls}};
  double best = -1;
  for (const auto& candidate : candidates) {
    if (candidate.seconds < 0 || (protocol && candidate.protocol != *protocol)) continue;
    if (candidate.algorithm == Algorithm::ring && !in.ring_candidate) continue;
    if (best < 0 || candidate.seconds < best) {
      best = candidate.seconds;
      out.algorithm = candidate.algorithm;
      out.protocol = candidate.protocol;
    }
  }
  return out;
}

}  // namespace stepsim
