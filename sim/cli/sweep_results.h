// The results folder of a sweep (docs/formats/sweep.md#results):
//   sweep.json     manifest: spec name, base scenario, axis names, point count (written first)
//   results.jsonl  one JSON record per finished point: the source of truth
//   results.csv    the same records flattened: id, index, status, axes, report figures, reason
//
// Appends are one write(2) per line on O_APPEND files, so a killed sweep loses at most the
// line being written; readers skip a torn last line and appenders cut it off first. Rewrites
// (compaction on resume, the final sort, merge) go to a temporary file renamed over the old
// one, so a kill leaves either the old or the new file. Only (index, id, offset) of each line is
// held in memory, never the reports, so memory stays flat however many points there are.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/comparison.h"
#include "scenario/diagnostics.h"

namespace stepsim {

struct SweepManifest {
  std::string name, base;
  std::vector<std::string> axes;
  size_t points = 0;  // in the whole sweep, before sharding

  nlohmann::ordered_json to_json() const;
};

// Reads DIR/sweep.json; nullopt-like error when absent or malformed.
Result<SweepManifest> read_manifest(const std::string& dir);
Diagnostics write_manifest(const std::string& dir, const SweepManifest& m);

// Where one complete, parsable record sits in a results.jsonl.
struct RecordRef {
  size_t index = 0;
  std::string id, status;
  size_t file = 0;  // which of the scanned files
  long offset = 0, length = 0;  // the line without its newline
};

// Scans results.jsonl files in order; a later line with the same id replaces an earlier one,
// except that a failure never replaces a finished (ok or skipped) record.
// Returns the surviving records sorted by index (then id); `torn` counts skipped broken lines.
std::vector<RecordRef> scan_records(const std::vector<std::string>& jsonl_files, size_t* torn = nullptr);

// Cuts a last line that has no newline (a write interrupted by a kill), so appends start clean.
// Returns true when it cut something.
bool cut_torn_tail(const std::string& jsonl_file);

// Writes DIR/results.jsonl and DIR/results.csv holding exactly `records` (read from the scanned
// files), in the given order, through temporary files renamed into place.
Diagnostics rewrite_results(const std::string& dir, const std::vector<std::string>& sources,
                            const std::vector<RecordRef>& records, const std::vector<std::string>& axes);

// Appends records to DIR/results.jsonl and DIR/results.csv (the CSV header is written when the
// file is new or empty).
class ResultsAppender {
 public:
  ResultsAppender(const std::string& dir, std::vector<std::string> axes);
  ~ResultsAppender();
  ResultsAppender(const ResultsAppender&) = delete;
  ResultsAppender& operator=(const ResultsAppender&) = delete;
  bool ok() const { return jsonl_fd_ >= 0 && csv_fd_ >= 0; }
  void append(const nlohmann::ordered_json& record);

 private:
  int jsonl_fd_ = -1, csv_fd_ = -1;
  std::vector<std::string> axes_;
};

// The CSV header and one row for a record (id, index, status, axis values, report figures, reason).
std::string results_csv_header(const std::vector<std::string>& axes);
std::string results_csv_row(const nlohmann::ordered_json& record, const std::vector<std::string>& axes);

// A record as a run to compare: its axis values, its report (null when none) and its reason or error.
ComparedRun compared_run_of_record(const nlohmann::ordered_json& record);

}  // namespace stepsim
