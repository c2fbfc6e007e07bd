// CollectiveCalibration: how NCCL-like collectives use links (topologies/framework/
// collectives.json): the fraction of a link's rate a large collective achieves per link kind,
// the launch latency of one collective and NVLS (in-switch reduction) rate and latency. Every
// number is cited; unknown keys are errors.
#pragma once

#include <map>
#include <string>

#include "scenario/json_document.h"

namespace stepsim {

struct CollectiveCalibration {
  std::map<std::string, double> link_efficiency;  // link kind -> fraction of its rate
  double launch_latency = 0;                        // seconds per collective
  double nvls_algbw_fraction = 0;  // NVLS all-reduce algbw as a fraction of the per-GPU NVLink rate
  double nvls_latency = 0;         // seconds
  double efficiency(const std::string& link_kind) const;  // 1 for kinds not listed
};

Result<CollectiveCalibration> parse_collective_calibration(const JsonDocument& doc);
Result<CollectiveCalibration> load_collective_calibration();

}  // namespace stepsim
