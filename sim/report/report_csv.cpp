#include "report/report_csv.h"

namespace stepsim {

const std::vector<CsvColumn>& csv_columns() {
  static const std::vector<CsvColumn> columns = {
      {"scenario", "/scenario"},
      {"gpu", "/gpu"},
      {"gpus", "/gpus"},
      {"tp", "/parallelism/tp"},
      {"pp", "/parallelism/pp"},
      {"dp", "/parallelism/dp"},
      {"cp", "/parallelism/cp"},
      {"ep", "/parallelism/ep"},
      {"vp", "/parallelism/vp"},
      {"tokens_per_step", "/tokens_per_step"},
      {"flops_per_step", "/flops_per_step"},
      {"step_time_s", "/step_time_s"},
      {"tokens_per_s", "/tokens_per_s"},
      {"tokens_per_s_per_gpu", "/tokens_per_s_per_gpu"},
      {"model_tflops_per_gpu", "/model_tflops_per_gpu"},
      {"mfu", "/mfu"},
      {"hfu", "/hfu"},
      {"forward_s", "/breakdown_s/forward"},
      {"backward_s", "/breakdown_s/backward"},
      {"recompute_s", "/breakdown_s/recompute"},
      {"optimizer_s", "/breakdown_s/optimizer"},
      {"exposed_tp_s", "/breakdown_s/exposed_comm/tp"},
      {"exposed_pp_s", "/breakdown_s/exposed_comm/pp"},
      {"exposed_dp_s", "/breakdown_s/exposed_comm/dp"},
      {"exposed_cp_s", "/breakdown_s/exposed_comm/cp"},
      {"exposed_ep_s", "/breakdown_s/exposed_comm/ep"},
      {"bubble_s", "/breakdown_s/bubble"},
      {"idle_s", "/breakdown_s/idle"},
      {"bottleneck", "/bottlenecks/0/resource"},
      {"bottleneck_critical_path_fraction", "/bottlenecks/0/critical_path_fraction"},
      {"bottleneck_utilization", "/bottlenecks/0/utilization"},
      {"peak_bytes", "/memory/peak_bytes"},
      {"capacity_bytes", "/memory/capacity_bytes"},
      {"oom", "/memory/oom"},
      {"host_oom", "/memory/host/oom"},
  };
  return columns;
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_header() {
  std::string out;
  for (const CsvColumn& c : csv_columns()) out += (out.empty() ? "" : ",") + std::string(c.name);
  return out;
}

std::string csv_row(const nlohmann::json& report) {
  std::string out;
  bool first = true;
  for (const CsvColumn& c : csv_columns()) {
    if (!first) out += ",";
    first = false;
    const nlohmann::json::json_pointer ptr(c.pointer);
    if (!report.is_object() || !report.contains(ptr)) continue;
    const nlohmann::json& v = report.at(ptr);
    if (v.is_string()) out += csv_cell(v.get<std::string>());
    else if (!v.is_null()) out += csv_cell(v.dump());
  }
  return out;
}

}  // namespace stepsim
