// One CSV row per report, so that runs and sweeps concatenate into one table: csv_header() is
// the stable column list (docs/report-schema.md "CSV"), csv_row() the cells of one JSON report
// (report_json(), schema stepsim.report/1) in that order. Neither ends with a newline.
//
// Cells: numbers as the JSON writer prints them (shortest round trip), booleans true/false,
// strings quoted when they hold a comma, quote or newline (RFC 4180). A field the report does not
// have (--no-engine, no bottleneck, not a JSON object at all) is an empty cell; the row always
// has as many cells as the header. New columns are only ever appended.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stepsim {

struct CsvColumn {
  const char* name;
  const char* pointer;  // JSON pointer into the report
};

const std::vector<CsvColumn>& csv_columns();
std::string csv_header();
std::string csv_row(const nlohmann::json& report);
std::string csv_cell(const std::string& text);  // RFC 4180 quoting

}  // namespace stepsim
