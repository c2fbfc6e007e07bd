// Collective algorithms as flows: how an all-reduce, reduce-scatter, all-gather, all-to-all,
// broadcast or point-to-point transfer among a group of ranks becomes network transfers.
// SimGrid-free, so it is testable alone; the engine turns a plan into activities.
//
// Fidelity levels (docs/formats/scenario.md, simulation.fidelity):
//   step      every ring step is its own message of M/P bytes per edge (2(P-1) steps for an
//             all-reduce): exact for time-varying contention, O(P²) messages per collective.
//   macro     one flow per ring edge carrying all steps' bytes, plus the latency of the other
//             steps: O(P) flows, equal to `step` when sharing is steady (docs/reference/simgrid.md §3).
//   analytic  no flows: α-β time of the algorithm on its bottleneck link.
// Bytes here are the collective's size M (the full tensor for all-reduce/all-gather/reduce-
// scatter, the per-rank payload for send), the same convention as nccl-tests' "size".
#pragma once

#include <string>
#include <vector>

#include "workload/program.h"

namespace stepsim {

enum class Algorithm { ring, tree, hierarchical, nvls, direct };
enum class Fidelity { macro, step, analytic };

std::string to_string(Algorithm a);
Algorithm parse_algorithm(const std::string& s);  // "ring", ...; "auto" is resolved by the caller
Fidelity parse_fidelity(const std::string& s);

// Ring steps of a collective among p ranks: 2(p-1) for all-reduce, p-1 for reduce-scatter,
// all-gather and broadcast (pipelined), 1 for send/recv and all-to-all.
int ring_steps(OpKind kind, int p);

// Bytes each rank sends over its ring edge in total: steps · M / p (all-reduce 2(p-1)/p·M);
// broadcast sends M along the ring; all-to-all sends M/p to each of the p-1 others.
double ring_edge_bytes(OpKind kind, int p, double bytes);

// nccl-tests' bus-bandwidth factor: busbw = algbw · factor (all-reduce 2(p-1)/p, reduce-scatter
// and all-gather (p-1)/p, others 1).
double bus_bandwidth_factor(OpKind kind, int p);

// α-β time of a ring collective on an uncontended ring whose slowest edge has `bandwidth`
// (bytes/s) and whose worst hop latency is `hop_latency`: steps·(α + M/(p·B)) plus the launch
// latency; all-to-all and send: one step of their per-peer bytes.
double ring_time(OpKind kind, int p, double bytes, double hop_latency, double bandwidth, double launch_latency);

}  // namespace stepsim
