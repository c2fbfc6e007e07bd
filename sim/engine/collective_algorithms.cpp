#include "engine/collective_algorithms.h"

namespace stepsim {

std::string to_string(Algorithm a) {
  switch (a) {
    case Algorithm::ring: return "ring";
    case Algorithm::tree: return "tree";
    case Algorithm::hierarchical: return "hier";
    case Algorithm::nvls: return "nvls";
    case Algorithm::direct: return "direct";
  }
  return "?";
}

Algorithm parse_algorithm(const std::string& s) {
  if (s == "tree") return Algorithm::tree;
  if (s == "hier") return Algorithm::hierarchical;
  if (s == "nvls") return Algorithm::nvls;
  if (s == "direct") return Algorithm::direct;
  return Algorithm::ring;
}

Fidelity parse_fidelity(const std::string& s) {
  if (s == "step") return Fidelity::step;
  if (s == "analytic") return Fidelity::analytic;
  return Fidelity::macro;
}

int ring_steps(OpKind kind, int p) {
  if (p <= 1) return 0;
  switch (kind) {
    case OpKind::all_reduce: return 2 * (p - 1);
    case OpKind::reduce_scatter:
    case OpKind::all_gather: return p - 1;
    default: return 1;
  }
}

double ring_edge_bytes(OpKind kind, int p, double bytes) {
  if (p <= 1) return 0;
  switch (kind) {
    case OpKind::all_reduce:
    case OpKind::reduce_scatter:
    case OpKind::all_gather: return ring_steps(kind, p) * bytes / p;
    case OpKind::all_to_all: return bytes / p;  // to each peer
    default: return bytes;                      // send/recv, broadcast (pipelined along the ring)
  }
}

double bus_bandwidth_factor(OpKind kind, int p) {
  if (p <= 1) return 1;
  switch (kind) {
    case OpKind::all_reduce: return 2.0 * (p - 1) / p;
    case OpKind::reduce_scatter:
    case OpKind::all_gather:
    case OpKind::all_to_all: return static_cast<double>(p - 1) / p;
    default: return 1;
  }
}

double ring_time(OpKind kind, int p, double bytes, double hop_latency, double bandwidth, double launch_latency) {
  if (p <= 1) return 0;
  if (kind == OpKind::broadcast)  // pipelined along the ring: one pass of M plus the ring's fill
    return launch_latency + (p - 1) * hop_latency + bytes / bandwidth;
  const int steps = ring_steps(kind, p);
  if (kind == OpKind::all_to_all)  // p-1 concurrent messages of M/p through one port
    return launch_latency + hop_latency + (p - 1) * (bytes / p) / bandwidth;
  if (kind == OpKind::send || kind == OpKind::recv)
    return launch_latency + hop_latency + bytes / bandwidth;
  return launch_latency + steps * (hop_latency + bytes / p / bandwidth);
}

}  // namespace stepsim
