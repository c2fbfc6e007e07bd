#include "cli/child_runs.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace stepsim {

namespace {

using Clock = std::chrono::steady_clock;

struct Running {
  size_t key = 0;
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1;
  std::string out, err;
  Clock::time_point started;
  double timeout_s = 0;
  bool killed = false;
};

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

Running start_child(const std::string& exe, const ChildJob& job) {
  int out[2], err[2];
  make_pipe(out);
  make_pipe(err);
  std::vector<std::string> args{exe};
  args.insert(args.end(), job.args.begin(), job.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execv(exe.c_str(), argv.data());
    const char msg[] = "stepsim: cannot execute the child process\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Running r;
  r.key = job.key;
  r.pid = pid;
  r.out_fd = out[0];
  r.err_fd = err[0];
  r.started = Clock::now();
  r.timeout_s = job.timeout_s;
  return r;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Kills the children past their timeout; returns the poll timeout (ms) until the next deadline.
int enforce_timeouts(std::vector<Running>& running) {
  int wait_ms = 1000;
  for (Running& r : running) {
    if (!(r.timeout_s > 0) || r.killed) continue;
    const double left = r.timeout_s - seconds_since(r.started);
    if (left <= 0) {
      kill(r.pid, SIGKILL);  // its pipes close, and the loop reaps it like any other child
      r.killed = true;
    } else {
      wait_ms = std::min(wait_ms, static_cast<int>(left * 1000) + 1);
    }
  }
  return wait_ms;
}

// Reads what is available on `fd` into `into`; closes it and sets -1 at end of file.
void drain(int& fd, std::string& into) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    close(fd);
    fd = -1;
  }
}

ChildResult reap(Running& r) {
  int status = 0;
  while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildResult res;
  res.key = r.key;
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  res.out = std::move(r.out);
  res.err = std::move(r.err);
  res.wall_s = seconds_since(r.started);
  res.timed_out = r.killed;
  res.timeout_s = r.timeout_s;
  return res;
}

}  // namespace

std::string self_executable() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot resolve /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

int default_jobs() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string failure_text(const ChildResult& r, size_t limit) {
  std::string text = r.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > limit) text = text.substr(0, limit) + " …";
  std::string how = r.timed_out ? fmt::format("timed out after {:g} s", r.timeout_s)
                    : r.signal  ? fmt::format("killed by signal {} ({})", r.signal, strsignal(r.signal))
                                : fmt::format("exit status {}", r.exit_code);
  return text.empty() ? how : text + "\n(" + how + ")";
}

void run_children(int jobs, const std::function<std::optional<ChildJob>()>& next,
                  const std::function<void(ChildResult)>& done, const std::function<void()>& tick) {
  const std::string exe = self_executable();
  std::vector<Running> running;
  bool more = true;
  auto last_tick = Clock::now();
  while (true) {
    while (more && static_cast<int>(running.size()) < std::max(1, jobs)) {
      auto job = next();
      if (!job) more = false;
      else running.push_back(start_child(exe, *job));
    }
    if (running.empty()) break;
    std::vector<pollfd> fds;
    for (const auto& r : running) {
      if (r.out_fd >= 0) fds.push_back({r.out_fd, POLLIN, 0});
      if (r.err_fd >= 0) fds.push_back({r.err_fd, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), enforce_timeouts(running)) < 0 && errno != EINTR)
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    for (const auto& p : fds) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      for (auto& r : running) {
        if (r.out_fd == p.fd) drain(r.out_fd, r.out);
        else if (r.err_fd == p.fd) drain(r.err_fd, r.err);
      }
    }
    enforce_timeouts(running);
    for (size_t i = 0; i < running.size();) {
      if (running[i].out_fd < 0 && running[i].err_fd < 0) {
        ChildResult res = reap(running[i]);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        done(std::move(res));
      } else {
        ++i;
      }
    }
    if (tick && Clock::now() - last_tick >= std::chrono::seconds(1)) {
      tick();
      last_tick = Clock::now();
    }
  }
}

}  // namespace stepsim
