// What one simulated training step produced: its duration, the activity record of every op
// on every simulated rank, and the breakdown of the critical rank's time. SimGrid-free, so the
// report stage reads it without the engine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "workload/program.h"

namespace stepsim {

struct ActivityRecord {
  int rank = 0;
  uint32_t op = 0;         // index in the rank's stage program
  Stream stream = Stream::compute;
  double start = 0, end = 0;
};

// Seconds of the critical rank's step, adding up to the step time: compute by phase, compute
// stream stalls attributed to the communication it waited for, pipeline bubble, idle.
struct Breakdown {
  double forward = 0, backward = 0, recompute = 0, optimizer = 0;
  std::map<std::string, double> exposed_comm{{"tp", 0}, {"pp", 0}, {"dp", 0}, {"cp", 0}, {"ep", 0}};
  double bubble = 0, idle = 0;
  double total() const;
};

// Traffic one simulated link carried during the step (SimGrid link-load plugin), and its
// utilization over time for trace counter tracks. Only links that carried traffic are listed;
// transfers timed without flows (analytic fidelity, exclusive tensor-parallel rings, folded
// replica collectives) carry none.
struct LinkUsage {
  std::string name;          // "from->to" like ClusterGraph links ("n0.gpu0->n0.nvswitch"), engine/link_usage.h
  double bandwidth = 0;      // bytes/s
  double bytes = 0;          // carried during the step
  double busy_fraction = 0;  // bytes / (bandwidth × step time)
  std::vector<std::pair<double, double>> utilization;  // (time s, mean fraction of bandwidth since the previous sample)
};

struct StepResult {
  double step_time = 0;
  int critical_rank = 0;
  std::vector<ActivityRecord> records;  // every op of every recorded rank, in completion order
  std::vector<int> recorded_ranks;
  Breakdown breakdown;
  size_t comms = 0;     // network transfers simulated
  size_t execs = 0;     // compute activities simulated
  std::string algorithm_note;
  int simulated_ranks = 0;
  std::string folding;  // how replicas were folded, or why they were not (empty when not asked)
  std::vector<LinkUsage> links;  // sorted by name
  // Joules every GPU of the cluster drew during the step (SimGrid host energy plugin: the
  // scenario's cost.gpu_load_w while a kernel runs, cost.gpu_idle_w otherwise). With folded
  // replicas: the simulated GPUs' energy × gpus / simulated_ranks.
  double gpu_energy_j = 0;
};

}  // namespace stepsim
