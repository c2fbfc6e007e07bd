// Ring geometry shared by the collective runner and replica folding (SimGrid-free): NCCL-like
// channels of a group, and the collective efficiency of a route — that of the link kind which
// limits it (its slowest link): a GPU->NIC path runs at the NIC's efficiency, a PCIe peer path
// at PCIe's.
#pragma once

#include <vector>

#include "cluster/cluster_graph.h"
#include "scenario/collective_calibration.h"

namespace stepsim {

// One ring per local member when the group spans several nodes with the same number of members
// on each (each ring enters and leaves a node through a different GPU, so a different NIC);
// otherwise the members in order as the only ring.
std::vector<std::vector<int>> channel_rings(const std::vector<int>& members, int gpus_per_node);

// 1 for an empty route.
double route_efficiency(const ClusterGraph& g, const CollectiveCalibration& c, const std::vector<int>& route);

}  // namespace stepsim
