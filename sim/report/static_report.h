// The report of what is known before simulating (schema stepsim.report/1, docs/report-schema.md):
// parameters, tokens and model FLOPs per step, and per-GPU model-state memory. Fields that the
// simulation owns (step time, breakdown, peak memory, ...) are absent, not zero.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "scenario/scenario.h"

namespace stepsim {

constexpr const char* kReportSchema = "stepsim.report/1";

nlohmann::ordered_json static_report_json(const Scenario& s);
std::string static_report_text(const Scenario& s);

}  // namespace stepsim
