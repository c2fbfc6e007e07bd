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
};

int run_command(const RunOptions& options);
int check_command(const std::vector<std::string>& files, bool all_shipped);
int catalog_command(const std::string& what, bool json);

}  // namespace stepsim
