// Offload cost: how long an offloaded optimizer step (ZeRO-Offload, FSDP CPU offload) takes, from
// the bytes LayerLowering::optimizer_step records on the op (Op::host_bytes, Op::host_link_bytes).
//
// Contract of offloaded_step_seconds():
//   seconds = host_link_bytes / link + host_bytes / host
//   link = the GPU's host-link rate while every GPU of the node transfers at once: along the
//          GPU's PCIe path to its CPU (topology links of kind pcie, through PCIe switches), each
//          link's bandwidth x count divided by the GPUs whose paths share it; the slowest GPU of
//          the node, and never more than the card's own host link (GpuSpec::host_bandwidth).
//          Without a PCIe path to a CPU in the topology: the card's host link.
//   host = topology host_memory_bandwidth x efficiency / GPUs per node (all GPUs of a node
//          update at once and share its DRAM).
// The three parts run one after another (gradients down, update, parameters up), so they add.
// When the topology gives no host_memory_bandwidth the step is not timed: 0 seconds.
#pragma once

#include "scenario/scenario.h"

namespace stepsim {

// True when the scenario offloads the optimizer and its topology gives the host bandwidth.
bool offloaded_step_timed(const Scenario& s);

// Bytes/s of host link per GPU while all GPUs of the node use theirs (see above).
double concurrent_host_link_bandwidth(const TopologySpec& t, double card_host_bandwidth);

double offloaded_step_seconds(const Scenario& s, double host_bytes, double host_link_bytes,
                              double host_memory_efficiency);

}  // namespace stepsim
