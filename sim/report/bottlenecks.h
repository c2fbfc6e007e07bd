// Bottlenecks of one simulated step: the resources on the critical path ranked by the time the
// path spends on them, each with its utilization over the whole step, e.g. "pcie
// n0.pcie-sw1->n0.cpu0: 34 % of the critical path, 71 % busy".
//
// REQUIRES the CriticalPath found on `result` (critical_path.h). Utilization: for a link, its
// busy_fraction from StepResult.links (absent when the link carried no flows, e.g. analytic
// timing); for "rank R compute", the seconds of R's compute records over the step time (absent
// when R was not recorded); for waits, absent. Fractions are of the step time. Deterministic:
// ties sorted by resource name.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/critical_path.h"

namespace stepsim {

struct Bottleneck {
  std::string resource;
  CriticalKind kind = CriticalKind::compute;
  double critical_seconds = 0;
  double critical_path_fraction = 0;   // critical_seconds / step time
  std::optional<double> utilization;   // busy share of the step, see above
};

std::vector<Bottleneck> rank_bottlenecks(const CriticalPath& path, const StepResult& result);

// One sentence per bottleneck ("rank 0 compute: 62.0 % of the critical path, 95.1 % busy").
std::string describe(const Bottleneck& b);

// The report's "bottlenecks" array: the first `max` of them (docs/report-schema.md).
nlohmann::ordered_json bottlenecks_json(const std::vector<Bottleneck>& list, size_t max = 10);
// The terminal report's paragraph: the first `max`, aligned, then the verdict sentence.
std::string bottleneck_text(const std::vector<Bottleneck>& list, size_t max = 5);

}  // namespace stepsim
