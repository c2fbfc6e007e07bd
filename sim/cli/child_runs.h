// Runs child processes of this same binary (`stepsim run …`), at most `jobs` at a time, and
// hands back each one's exit status, stdout and stderr as it finishes. SimGrid allows one engine
// per process, so every simulated point of a sweep or a comparison is its own process.
//
// The children get /dev/null as stdin and inherit the environment (STEPSIM_DATA_DIR included).
// Results arrive in completion order on the calling thread; nothing is kept after `done` returns,
// so memory does not grow with the number of jobs. POSIX only (fork, exec, poll).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stepsim {

struct ChildJob {
  size_t key = 0;                 // the caller's handle, returned in ChildResult
  std::vector<std::string> args;  // arguments after argv[0], e.g. {"run", "a.json", "--json"}
  double timeout_s = 0;           // > 0: the child is killed (SIGKILL) when it runs longer
};

struct ChildResult {
  size_t key = 0;
  int exit_code = -1;   // the exit status, or -1 when killed by a signal
  int signal = 0;       // the signal that ended it, 0 when it exited
  std::string out, err;
  double wall_s = 0;
  bool timed_out = false;  // killed because it ran past ChildJob::timeout_s
  double timeout_s = 0;
};

// The path of the running executable (/proc/self/exe resolved), so children run the same build.
std::string self_executable();

// Starts jobs from `next` (nullopt = no more) while fewer than `jobs` run, calls `done` for each
// finished child, and calls `tick` about once a second while waiting (for progress displays).
// Returns when `next` is exhausted and every child has finished.
void run_children(int jobs, const std::function<std::optional<ChildJob>()>& next,
                  const std::function<void(ChildResult)>& done, const std::function<void()>& tick = {});

// The default worker count: the cores this process may use.
int default_jobs();

// Text of a finished child's failure: its stderr (trimmed, at most `limit` characters) plus how it
// ended ("exit status 1", "killed by signal 9 (Killed)", "timed out after 60 s").
std::string failure_text(const ChildResult& r, size_t limit = 2000);

}  // namespace stepsim
