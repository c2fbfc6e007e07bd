// NCCL-like default algorithm and protocol choice (SimGrid-free): the time of each candidate
// (algorithm, protocol) is NCCL's tuning-model latency (docs/reference/hardware.md §3d, constants
// in topologies/framework/collectives.json "nccl_tuning") plus the bandwidth time of that
// algorithm on this topology (the simulator's own static rates) divided by the protocol's
// bandwidth factor; the fastest wins, as in NCCL's tuner.
// Candidates, chosen jointly as NCCL does: ring always; tree (double binary tree) for all-reduce;
// each with Simple, LL (ring: bus bandwidth ×0.5; tree: /3.8; both capped at llMaxBw) or LL128
// (ring ×0.92; tree ×7/9 inside a node, ×120/128 across nodes; only when every intra-node hop is
// NVLink on a GPU family listed in ll128_families); NVLS (Simple) for an all-reduce inside one node
// on an NVSwitch of generation 3+. Hierarchical is not an NCCL algorithm and is never chosen
// automatically. Not modelled: NCCL's per-size tree correction table and per-channel bandwidth caps.
#pragma once

#include <optional>
#include <string>

#include "engine/collective_algorithms.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

// NCCL's wire protocols: Simple (full bandwidth, highest latency), LL128 (128-byte lines with
// 8 bytes of flags), LL (a 4-byte flag with every 4 bytes of data: lowest latency, half bandwidth).
enum class Protocol { simple, ll128, ll };
std::string to_string(Protocol p);
std::optional<Protocol> protocol_named(const std::string& name);  // "simple", "ll128", "ll"

struct TuningInputs {
  OpKind kind = OpKind::all_reduce;
  int ranks = 1;
  int nodes = 1;
  int per_node = 1;           // ranks on each node (NCCL's ppn)
  bool nvlink_inside = true;  // intra-node steps over NVLink (else PCIe)
  bool ll128_enabled = false; // every intra-node hop is NVLink and the GPU family enables LL128
  double bus_bytes = 0;       // bytes × the operation's bus factor (for the LL bandwidth cap)
  double ring_seconds = 0;    // bandwidth time of the ring on this topology (Simple)
  double tree_seconds = -1;   // bandwidth time of the double binary tree; < 0: not a candidate
  double nvls_seconds = -1;   // bandwidth time of NVLS; < 0: not a candidate
  bool ring_candidate = true; // false when the algorithm is given as tree: only its protocol is chosen
};

struct TuningChoice {
  Algorithm algorithm = Algorithm::ring;
  Protocol protocol = Protocol::simple;
  double ring = 0, tree = -1, nvls = -1;  // modelled seconds with Simple (-1: not a candidate)
  double ring_ll = -1, ring_ll128 = -1;   // ring with LL and LL128 (-1: not a candidate)
  double tree_ll = -1, tree_ll128 = -1;   // tree with LL and LL128 (-1: not a candidate)
};

double nccl_ring_latency(const CollectiveCalibration& c, const TuningInputs& in, Protocol p = Protocol::simple);
double nccl_tree_latency(const CollectiveCalibration& c, const TuningInputs& in, Protocol p = Protocol::simple);
// Bandwidth time of the tree with protocol p: the tree's static time / tree_bandwidth_factor /
// the protocol's tree factor (LL: and at least the bus bytes at llMaxBw).
double nccl_tree_bandwidth_seconds(const CollectiveCalibration& c, const TuningInputs& in, Protocol p);
// Protocol's bandwidth time of the ring: Simple's divided by the protocol's factor (LL: and at
// least the bus bytes at llMaxBw).
double nccl_ring_bandwidth_seconds(const CollectiveCalibration& c, const TuningInputs& in, Protocol p);
// `protocol`: nullopt to choose among every candidate; a forced protocol chooses among the
// candidates with it (ring or tree; NVLS only with Simple).
TuningChoice nccl_choice(const CollectiveCalibration& c, const TuningInputs& in,
                         std::optional<Protocol> protocol = std::nullopt);
// The protocol's bandwidth factor on a ring (Simple 1), and its base latency on a ring or a tree
// (the launch cost of one collective; Simple's is the launch latency).
double protocol_bandwidth_factor(const CollectiveCalibration& c, Protocol p);
double protocol_base_latency(const CollectiveCalibration& c, Algorithm a, Protocol p);

}  // namespace stepsim
