// Checks shared by the one-process-per-case SimGrid test programs (test_engine_cases,
// test_report_engine_cases, test_energy_cases): each prints "ok"/"FAIL" lines and the program's
// exit status is case_status() (SimGrid allows one engine per process, so no Catch2 there).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cluster/cluster_graph.h"
#include "scenario/collective_calibration.h"
#include "scenario/diagnostics.h"
#include "scenario/gpu_spec.h"
#include "scenario/topology_spec.h"

namespace stepsim::engine_cases {

inline const std::string kData = std::string(STEPSIM_TEST_DATA_DIR) + "/engine/";
inline int failures = 0;

inline void expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  failures += !ok;
}

inline double rel(double got, double want) { return std::fabs(got - want) / std::fabs(want); }

// Prints got/want and checks |got - want| <= tol·|want|.
inline void expect_close(double got, double want, double tol, const std::string& what) {
  std::printf("  %s: got %.15g, expected %.15g (relative error %.3g, tolerance %.0e)\n", what.c_str(), got, want,
              rel(got, want), tol);
  expect(rel(got, want) <= tol, what);
}

[[noreturn]] inline void die(const std::string& what, const Diagnostics& d) {
  std::printf("FAIL: %s\n%s\n", what.c_str(), d.to_string().c_str());
  std::exit(1);
}

// The cluster of a topology file with its own GPU, `nodes` nodes (0: the topology's default).
inline ClusterGraph cluster(const std::string& topology, int nodes = 0) {
  auto t = load_topology(topology);
  if (!t.ok()) die("load_topology " + topology, t.errors());
  auto gpu = load_gpu(t.value().gpu);
  if (!gpu.ok()) die("load_gpu " + t.value().gpu, gpu.errors());
  auto g = ClusterGraph::build(t.value(), gpu.value(), nodes > 0 ? nodes : t.value().nodes);
  if (!g.ok()) die("ClusterGraph::build " + topology, g.errors());
  return g.value();
}

// Every link at its full rate, no launch latency: flows must match α-β exactly.
inline CollectiveCalibration ideal_calibration() {
  CollectiveCalibration c;
  for (const char* kind : {"nvlink", "pcie", "socket", "ib", "roce", "ethernet", "xgmi"}) c.link_efficiency[kind] = 1.0;
  c.launch_latency = 0;
  c.nvls_algbw_fraction = 1.0;
  c.nvls_latency = 0;
  return c;
}

// PASS or the count of failed checks; the program's exit status.
inline int case_status() {
  std::printf("%s\n", failures == 0 ? "PASS" : fmt::format("{} check(s) FAILED", failures).c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace stepsim::engine_cases
