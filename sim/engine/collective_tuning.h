// NCCL-like default algorithm choice (SimGrid-free): the time of each candidate algorithm is
// NCCL's tuning-model latency for the Simple protocol (docs/reference/hardware.md §3d, constants in
// topologies/framework/collectives.json "nccl_tuning") plus the bandwidth time of that algorithm
// on this topology (the simulator's own static rates); the fastest wins, as in NCCL's tuner.
// Candidates: ring always; tree (double binary tree) for all-reduce; NVLS for an all-reduce
// inside one node on an NVSwitch of generation 3+. Hierarchical is not an NCCL algorithm and is
// never chosen automatically. Not modelled: the LL/LL128 protocols, NCCL's per-size tree
// correction table and per-channel bandwidth caps.
#pragma once

#include "engine/collective_algorithms.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

struct TuningInputs {
  OpKind kind = OpKind::all_reduce;
  int ranks = 1;
  int nodes = 1;
  int per_node = 1;           // ranks on each node (NCCL's ppn)
  bool nvlink_inside = true;  // intra-node steps over NVLink (else PCIe)
  double ring_seconds = 0;    // bandwidth time of the ring on this topology
  double tree_seconds = -1;   // bandwidth time of the double binary tree; < 0: not a candidate
  double nvls_seconds = -1;   // bandwidth time of NVLS; < 0: not a candidate
};

struct TuningChoice {
  Algorithm algorithm = Algorithm::ring;
  double ring = 0, tree = -1, nvls = -1;  // modelled seconds (-1: not a candidate)
};

double nccl_ring_latency(const CollectiveCalibration& c, const TuningInputs& in);
double nccl_tree_latency(const CollectiveCalibration& c, const TuningInputs& in);
TuningChoice nccl_choice(const CollectiveCalibration& c, const TuningInputs& in);

}  // namespace stepsim
