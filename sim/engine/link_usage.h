// LinkSampler: how much traffic every simulated link carried during one step, and its
// utilization over time, from SimGrid's link-load plugin (cumulative bytes per link).
//
// REQUIRES, in this order, in the one SimGrid engine of the process:
//   LinkSampler::enable_plugin()   after the Engine is constructed, BEFORE the platform is built
//                                  (the plugin attaches to links as they are created);
//   sampler.start(host, expected)  after the platform, before Engine::run(): tracks every link and
//                                  starts a daemon actor that reads the cumulative loads every
//                                  `expected / kSamplesPerStep` seconds;
//   sampler.finish(step_time)      after Engine::run().
// Cost is bounded: at most kMaxStoredValues cumulative values are kept (the sample count per step
// shrinks on large platforms); when the step outlasts twice the expected length, every other
// sample is dropped and the period doubles, which is exact because the samples are cumulative.
// Accuracy: the plugin integrates each link's rate from one flow event (start, end) to the next;
// the end of a flow's latency phase is no event, so a flow's route latency is counted at its
// later rate: bytes are overstated by at most latency x rate per flow (0.3 % for 33 MB macro
// ring flows on NVLink, tests/test_report_engine_cases.cpp link_usage_ring).
// Transfers timed without flows (analytic fidelity, exclusive tensor-parallel rings, folded
// replica collectives) carry no link traffic and are absent here.
#pragma once

#include <simgrid/forward.h>

#include <string>
#include <vector>

#include "engine/step_result.h"

namespace stepsim {

class LinkSampler {
 public:
  static constexpr int kSamplesPerStep = 200;
  static constexpr size_t kMaxStoredValues = 1 << 20;

  static void enable_plugin();
  void start(simgrid::s4u::Host* host, double expected_step);
  std::vector<LinkUsage> finish(double step_time);

  // "a--b_UP" -> "a->b", "a--b_DOWN" -> "b->a" (split-duplex halves, named like ClusterGraph
  // links); any other name unchanged.
  static std::string readable_name(const std::string& simgrid_name);

 private:
  void sample();
  void thin_out();

  std::vector<simgrid::s4u::Link*> links_;
  std::vector<double> times_;                   // sample times, the first is 0
  std::vector<std::vector<double>> cumulative_;  // [sample][link] bytes since step start
  double period_ = 0;
  size_t max_samples_ = 0;
};

}  // namespace stepsim
