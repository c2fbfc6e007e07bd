// `stepsim validate FILE.csv`: every row of a published-runs CSV becomes a scenario
// (scenario/published_runs.h, which never reads measured_value), is simulated in a process of
// its own and is scored against its measurement (report/validation_summary.h).
//
// Why a process per row: SimGrid allows one engine per process. Each row's scenario JSON is
// written to a private temporary folder and `stepsim run FILE --json` of the same binary (with
// --no-engine for memory and fits/oom rows; cli/child_runs.h) runs it; its stdout is the
// stepsim.report/1 object that compare_run() reads. Up to -j children run at once; results are kept by row index, so the
// output is in CSV order whatever the completion order. The data root ($STEPSIM_DATA_DIR,
// set by --data-dir) is inherited by the children.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "cli/child_runs.h"
#include "cli/commands.h"
#include "report/validation_summary.h"
#include "scenario/published_runs.h"

namespace fs = std::filesystem;

namespace stepsim {

namespace {

struct Job {
  size_t row = 0;
  std::string scenario_file;
  bool engine = true;
};

// The child's first error line: what `run` said on stderr, without the "error: " prefix.
std::string first_error_line(const std::string& err) {
  std::istringstream lines(err);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    return line;
  }
  return "no message";
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/stepsim-validate-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data())) path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Turns a finished child into a scored (or failed) row.
ValidationRow finish_job(const PublishedRun& run, const RunScenario& rs, const ChildResult& r) {
  if (r.timed_out)
    return skipped_row(run, rs.defaults, fmt::format("the simulation took longer than --timeout {:g} s", r.timeout_s));
  if (r.signal) return skipped_row(run, rs.defaults, "simulation crashed (signal " + std::to_string(r.signal) + ")", true);
  if (r.exit_code == kExitBadInput)  // the scenario checks rejected something only the full load sees
    return skipped_row(run, rs.defaults, first_error_line(r.err));
  if (r.exit_code != kExitOk)
    return skipped_row(run, rs.defaults,
                       "simulation failed (exit " + std::to_string(r.exit_code) + "): " + first_error_line(r.err), true);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded() || !report.is_object())
    return skipped_row(run, rs.defaults, "simulation printed no JSON report", true);
  return compare_run(run, rs.defaults, report);
}

// Runs the jobs in child processes (child_runs.h), at most `workers` at a time; fills
// rows[job.row]. A child still running after `timeout_s` seconds (0 = no limit) is killed and
// its row skipped with the reason.
void run_jobs(const std::vector<Job>& jobs, int workers, double timeout_s, const std::vector<PublishedRun>& runs,
              const std::vector<RunScenario>& scenarios, std::vector<ValidationRow>& rows) {
  size_t next = 0;
  run_children(
      workers,
      [&]() -> std::optional<ChildJob> {
        if (next == jobs.size()) return std::nullopt;
        const Job& job = jobs[next];
        std::vector<std::string> args = {"run", job.scenario_file, "--json"};
        if (!job.engine) args.push_back("--no-engine");
        return ChildJob{next++, args, timeout_s};
      },
      [&](ChildResult r) {
        const Job& job = jobs[r.key];
        rows[job.row] = finish_job(runs[job.row], scenarios[job.row], r);
      });
}

std::string row_path(const std::string& dir, size_t row, const char* extension) {
  return dir + "/row-" + std::to_string(row) + extension;
}

std::vector<std::string> split_ids(const std::string& list) {
  std::vector<std::string> ids;
  std::string item;
  std::istringstream in(list);
  while (std::getline(in, item, ','))
    if (!item.empty()) ids.push_back(item);
  return ids;
}

}  // namespace

int validate_command(const ValidateOptions& options) {
  auto runs = read_published_runs(options.file);
  if (!runs.ok()) {
    std::cerr << runs.errors().to_string();
    return kExitBadInput;
  }
  std::vector<PublishedRun> selected = runs.value();
  if (!options.rows.empty()) {
    const auto wanted = split_ids(options.rows);
    std::set<std::string> known;
    for (const auto& r : selected) known.insert(r.id);
    for (const auto& id : wanted) {
      if (known.count(id)) continue;
      std::cerr << "error: --rows: no row with id '" << id << "' in " << options.file << "\n    fix: use ids from the "
                << "file's id column, separated by commas\n";
      return kExitBadInput;
    }
    const std::set<std::string> keep(wanted.begin(), wanted.end());
    std::vector<PublishedRun> filtered;
    for (const auto& r : selected)
      if (keep.count(r.id)) filtered.push_back(r);
    selected = std::move(filtered);
  }
  auto catalog = load_run_catalog();
  if (!catalog.ok()) {
    std::cerr << catalog.errors().to_string();
    return kExitBadInput;
  }
  if (!options.dump_dir.empty() && !fs::is_directory(options.dump_dir)) {
    std::cerr << "error: --dump " << options.dump_dir << ": not a folder\n    fix: create it first\n";
    return kExitBadInput;
  }
  TempDir temp;
  if (temp.path().empty()) {
    std::cerr << "error: cannot create a temporary folder (set TMPDIR to a writable folder)\n";
    return kExitInternal;
  }
  std::vector<RunScenario> scenarios(selected.size());
  std::vector<ValidationRow> rows(selected.size());
  std::vector<Job> jobs;
  for (size_t i = 0; i < selected.size(); ++i) {
    const PublishedRun& run = selected[i];
    scenarios[i] = scenario_for_run(run, catalog.value());
    const RunScenario& rs = scenarios[i];
    if (!metric_kind(run.metric)) {
      rows[i] = skipped_row(run, rs.defaults, "metric '" + run.metric + "' is not supported");
      continue;
    }
    if (!rs.scenario) {
      rows[i] = skipped_row(run, rs.defaults, rs.skip_reason);
      continue;
    }
    Job job{i, row_path(temp.path(), i, ".json"), metric_needs_engine(run.metric)};
    Json document = rs.document.root;
    // Replica folding (scenario.md `simulation.fold_replicas`) simulates one data-parallel
    // replica when a route check shows the replicas share no link, else every rank: the same
    // step time, and what makes the 100-to-4000-GPU rows affordable.
    document["simulation"]["fold_replicas"] = true;
    std::ofstream(job.scenario_file) << document.dump(2) << "\n";
    if (!options.dump_dir.empty()) {
      std::string name = run.id;  // ids are free text: keep the file inside the folder
      for (char& c : name)
        if (c == '/' || c == '\\') c = '_';
      std::ofstream(options.dump_dir + "/" + name + ".json") << document.dump(2) << "\n";
    }
    jobs.push_back(job);
  }
  const int workers = options.jobs > 0 ? options.jobs : default_jobs();
  run_jobs(jobs, workers, options.timeout_s, selected, scenarios, rows);
  const ValidationSummary summary = summarize(rows);
  if (options.json) std::cout << validation_json(rows, summary).dump(2) << "\n";
  else std::cout << validation_text(options.file, rows, summary);
  return summary.failed > 0 ? kExitInternal : kExitOk;
}

}  // namespace stepsim
