// SimGrid smoke test of build_platform. SimGrid allows one Engine per process, so each case is
// its own ctest (`test_cluster_platform <case>`); exit status 0 = pass.
//   timing:   dgx-h100, 2 nodes: 1 GB GPU0->GPU1 and GPU0->GPU8 take route latency + size /
//             route bandwidth; SimGrid's routes equal ClusterGraph's; idle GPUs draw idle_w.
//   fat_tree: dgx-h100-roce cut to 2 nodes per leaf, 1:64, 5 nodes: every route equals
//             ClusterGraph's and a transfer between leaves is held to the oversubscribed uplink.
//   rail:     dgx-h100-ib-ndr, 2 nodes per group, 3 nodes: routes within a leaf are exact,
//             routes between groups have the right latency, the approximation is reported.
#include <simgrid/plugins/energy.h>

#include <simgrid/s4u.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cluster/platform.h"

namespace sg4 = simgrid::s4u;
using namespace stepsim;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  failures += !ok;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fabs(b); }

ClusterGraph graph(const std::string& topology, int nodes, int nodes_per_leaf = 0, double oversubscription = 0) {
  auto t = load_topology(topology);
  auto gpu = t.ok() ? load_gpu(t.value().gpu) : Result<GpuSpec>(t.errors());
  if (!gpu.ok()) {
    std::printf("%s\n", gpu.errors().to_string().c_str());
    std::exit(1);
  }
  if (nodes_per_leaf > 0) t.value().fabric->nodes_per_leaf = nodes_per_leaf;
  if (oversubscription > 0) t.value().fabric->oversubscription = oversubscription;
  auto g = ClusterGraph::build(t.value(), gpu.value(), nodes);
  if (!g.ok()) {
    std::printf("%s\n", g.errors().to_string().c_str());
    std::exit(1);
  }
  return g.value();
}

// SimGrid's route from rank s to rank d is ClusterGraph::route, link for link.
bool same_route(const ClusterGraph& g, const Platform& p, int s, int d) {
  std::vector<sg4::Link*> links;
  double latency = 0;
  p.gpus[s]->route_to(p.gpus[d], links, &latency);
  std::vector<sg4::Link*> expected;
  for (int id : g.route(s, d)) expected.push_back(p.links[id]);
  return links == expected && close(latency, g.route_latency(g.route(s, d)));
}

// Sends `bytes` from rank `src` to each of `dsts` in turn; returns each transfer's duration.
std::vector<double> transfer_times(const Platform& p, int src, const std::vector<int>& dsts, double bytes) {
  static int payload = 0;
  std::vector<double> times(dsts.size(), 0);
  for (int d : dsts)
    sg4::Actor::create("recv" + std::to_string(d), p.gpus[d],
                       [d] { sg4::Mailbox::by_name("to" + std::to_string(d))->get<int>(); });
  sg4::Actor::create("send", p.gpus[src], [&] {
    for (size_t i = 0; i < dsts.size(); ++i) {
      double start = sg4::Engine::get_clock();
      sg4::Mailbox::by_name("to" + std::to_string(dsts[i]))->put(&payload, static_cast<uint64_t>(bytes));
      times[i] = sg4::Engine::get_clock() - start;
    }
  });
  sg4::Engine::get_instance()->run();
  return times;
}

void timing() {
  ClusterGraph g = graph("dgx-h100", 2);
  Platform p = build_platform(g);
  expect(p.gpus.size() == 16 && p.approximation.empty(), "16 hosts, exact routes");
  expect(p.gpus[8]->get_name() == "n1.gpu0", "host names follow vertex names");
  expect(p.gpus[0]->get_speed() == kHostSpeed, "host speed");
  bool all_same = true;
  for (int s = 0; s < 16; ++s)
    for (int d = 0; d < 16; ++d)
      if (s != d) all_same &= same_route(g, p, s, d);
  expect(all_same, "every SimGrid route equals ClusterGraph::route");

  const double bytes = 1e9;
  auto times = transfer_times(p, 0, {1, 8}, bytes);
  for (size_t i = 0; i < times.size(); ++i) {
    auto r = g.route(0, i == 0 ? 1 : 8);
    double want = g.route_latency(r) + bytes / g.route_bandwidth(r);
    std::printf("  1 GB over %zu links: %.12g s, expected %.12g s\n", r.size(), times[i], want);
    expect(close(times[i], want), i == 0 ? "GPU0->GPU1 (NVLink)" : "GPU0->GPU8 (fabric)");
  }
  const double idle = sg_host_get_consumed_energy(p.gpus[2]);
  expect(close(idle, g.gpu().idle_w * sg4::Engine::get_clock()), "an idle GPU draws idle_w");
}

void fat_tree() {
  ClusterGraph g = graph("dgx-h100-roce", 5, 2, 64.0);  // leaves of 2, 2 and 1 node
  Platform p = build_platform(g);
  expect(p.approximation.empty(), "fat tree routes are exact");
  bool all_same = true;
  for (int s = 0; s < g.gpu_count(); ++s)
    for (int d = 0; d < g.gpu_count(); ++d)
      if (s != d) all_same &= same_route(g, p, s, d);
  expect(all_same, "every SimGrid route equals ClusterGraph::route");
  auto r = g.route(0, 32);
  const double uplink = g.links()[g.leaves()[2].uplink].bandwidth;
  expect(close(g.route_bandwidth(r), uplink) && close(uplink, 8 * 50e9 / 64), "the last leaf's uplink is the bottleneck");
  auto times = transfer_times(p, 0, {32}, 1e9);
  expect(close(times[0], g.route_latency(r) + 1e9 / uplink), "transfer across leaves");
}

void rail() {
  ClusterGraph g = graph("dgx-h100-ib-ndr", 3, 2);  // groups {n0, n1} and {n2}
  Platform p = build_platform(g);
  expect(!p.approximation.empty(), "rail_optimized reports its approximation");
  bool all_same = true, same_latency = true;
  for (int i = 0; i < 8; ++i) {
    all_same &= same_route(g, p, i, 8 + i) && same_route(g, p, 8 + i, i);
    std::vector<sg4::Link*> links;
    double latency = 0;
    p.gpus[i]->route_to(p.gpus[16 + i], links, &latency);
    same_latency &= close(latency, g.route_latency(g.route(i, 16 + i)));
  }
  expect(all_same, "routes within a leaf equal ClusterGraph::route");
  expect(same_latency, "routes between groups have ClusterGraph's latency");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "timing";
  std::vector<std::string> args = {argv[0], "--cfg=network/model:CM02", "--cfg=network/crosstraffic:0",
                                   "--cfg=network/TCP-gamma:1e18", "--log=root.thres:warning"};
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  int ac = static_cast<int>(av.size());
  sg4::Engine engine(&ac, av.data());
  sg_host_energy_plugin_init();
  if (which == "timing") timing();
  else if (which == "fat_tree") fat_tree();
  else if (which == "rail") rail();
  else expect(false, "unknown case " + which);
  return failures == 0 ? 0 : 1;
}
