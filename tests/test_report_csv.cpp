// The CSV row of a report (report/report_csv.h): one cell per column in the header's order,
// absent fields empty, RFC 4180 quoting.
#include <catch2/catch.hpp>

#include "report/report_csv.h"

using namespace stepsim;

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) cells.emplace_back();
    else cells.back() += c;
  }
  return cells;
}

}  // namespace

TEST_CASE("csv: one cell per column, in the header's order", "[csv]") {
  const nlohmann::json report = {{"scenario", "a, \"b\""},
                                 {"gpus", 8},
                                 {"parallelism", {{"tp", 2}, {"pp", 1}}},
                                 {"step_time_s", 1.5},
                                 {"breakdown_s", {{"exposed_comm", {{"dp", 0.25}}}}},
                                 {"bottlenecks", {{{"resource", "rank 0 compute"}, {"critical_path_fraction", 0.75}}}},
                                 {"memory", {{"oom", true}, {"host", {{"oom", false}}}}}};
  const std::vector<std::string> header = split(csv_header());
  const std::vector<std::string> row = split(csv_row(report));
  REQUIRE(header.size() == csv_columns().size());
  REQUIRE(row.size() == header.size());
  auto cell = [&](const std::string& column) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == column) return row[i];
    FAIL("no column " << column);
    return std::string();
  };
  CHECK(header.front() == "scenario");
  CHECK(cell("scenario") == "\"a, \"\"b\"\"\"");
  CHECK(cell("gpus") == "8");
  CHECK(cell("tp") == "2");
  CHECK(cell("step_time_s") == "1.5");
  CHECK(cell("exposed_dp_s") == "0.25");
  CHECK(cell("bottleneck") == "rank 0 compute");
  CHECK(cell("bottleneck_critical_path_fraction") == "0.75");
  CHECK(cell("bottleneck_utilization").empty());
  CHECK(cell("oom") == "true");
  CHECK(cell("host_oom") == "false");
  CHECK(cell("mfu").empty());
}

TEST_CASE("csv: a missing or non-object report gives empty cells", "[csv]") {
  const size_t columns = csv_columns().size();
  CHECK(split(csv_row(nlohmann::json())).size() == columns);
  CHECK(split(csv_row(nlohmann::json::array())).size() == columns);
  CHECK(csv_row(nlohmann::json()) == std::string(columns - 1, ','));
  CHECK(csv_cell("plain") == "plain");
  CHECK(csv_cell("two\nlines") == "\"two\nlines\"");
}
