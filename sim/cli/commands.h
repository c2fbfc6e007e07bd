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

struct RunOptions {
  std::string scenario;  // empty = the default scenario
  std::vector<std::string> overrides;
  bool json = false;
  bool fail_on_oom = false;
  bool no_engine = false;  // stop after the workload stage (memory verdict, compute time)
};

struct CollectiveOptions {
  std::string topology;
  int nodes = 0;  // 0 = the topology's default
  std::string gpu;
  std::string op = "allreduce";
  std::string algo = "auto";
  std::string fidelity = "macro";
  std::string min_bytes = "32M", max_bytes = "1G";
  double factor = 2;
  bool json = false;
};

int run_command(const RunOptions& options);
int check_command(const std::vector<std::string>& files, bool all_shipped);
int catalog_command(const std::string& what, bool json);
int collective_command(const CollectiveOptions& options);

}  // namespace stepsim
