// The CLI's subcommands. Each returns the process exit status:
//   0 ok, 1 internal error, 2 bad input or usage, 3 OOM verdict with --fail-on-oom.
// Diagnostics go to stderr; results to stdout.
#pragma once

#include <string>
#include <vector>

namespace stepsim {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitOom = 3;
constexpr int kExitPointsFailed = 4;  // sweep: some point failed (or, for merge, is missing)

struct RunOptions {
  std::string scenario;  // empty = the default scenario
  std::vector<std::string> overrides;
  bool json = false;
  bool csv = false;  // one header line and one row (report/report_csv.h); excludes json
  bool fail_on_oom = false;
  bool no_engine = false;  // stop after the workload stage (memory verdict, compute time)
  bool skip_engine_on_oom = false;  // like no_engine when the memory verdict is out of memory
  std::string trace;         // Perfetto trace file (.json or .json.gz), cli/trace_outputs.cpp
  std::string trace_ranks;   // "0-7,64": ranks in the trace and the timeline (default: all recorded)
  std::string timeline_svg;  // SVG Gantt of up to 16 ranks
};

struct SweepOptions {  // cli/sweep_command.cpp
  std::string spec;
  int jobs = 0;       // parallel points; 0 = the number of cores
  double timeout_s = 0;  // > 0: a point running longer is killed and recorded as failed
  std::string out;    // results folder; empty = sweep-<spec stem>
  std::string shard;  // "I/N", empty = every point
  bool dry_run = false;
};

struct SweepMergeOptions {
  std::vector<std::string> dirs;
  std::string out;
};

struct CompareOptions {  // cli/compare_command.cpp
  std::vector<std::string> inputs;     // scenarios, reports (stepsim.report/1), sweep results
  std::vector<std::string> overrides;  // --set for every scenario input
  std::vector<std::string> variants;   // "[label:] a.b=1, c.d=2" applied to the one scenario
  std::string html, title;
  bool markdown = false;
  int jobs = 0;
};

struct ValidateOptions {
  std::string file;  // published-runs CSV (docs/formats/published-runs.md)
  int jobs = 0;      // parallel simulations; 0 = the number of cores
  bool json = false;
  std::string rows;  // comma-separated ids; empty = every row
  double timeout_s = 0;  // per row; 0 = no limit
  std::string dump_dir;  // when set, each row's scenario JSON is also written there as <id>.json
};

struct CollectiveOptions {
  std::string topology;
  int nodes = 0;  // 0 = the topology's default
  std::string gpu;
  std::string op = "allreduce";
  std::string algo = "auto";
  std::string proto = "auto";
  std::string fidelity = "macro";
  std::string min_bytes = "32M", max_bytes = "1G";
  double factor = 2;
  bool json = false;
};

int run_command(const RunOptions& options);
int check_command(const std::vector<std::string>& files, bool all_shipped);
int catalog_command(const std::string& what, bool json);
int collective_command(const CollectiveOptions& options);
int sweep_command(const SweepOptions& options);              // cli/sweep_command.cpp
int sweep_merge_command(const SweepMergeOptions& options);
int compare_command(const CompareOptions& options);          // cli/compare_command.cpp
int validate_command(const ValidateOptions& options);  // cli/validate_command.cpp

}  // namespace stepsim
