// Engine cases checked against closed forms. SimGrid allows one Engine per process, so each case
// is its own ctest (`test_engine_cases <case>`); exit status 0 = pass. Every case prints what it
// measured and what it expected.
//   ring_step_exact          all-reduce of 1 MiB and 1 GiB on 8 NVSwitch GPUs at step fidelity
//                            (efficiency 1, launch 0) = 2(P-1)(α + M/(P·B)) within 1e-9.
//   ring_macro_equals_step   the same at macro fidelity: equal to that closed form within 1e-9.
//   ring_step_late_rank      the same ring at step fidelity with rank 3 joining δ late: an
//                            all-gather ends at δ + (P-1)(α + M/(P·B)) on every rank; two
//                            broadcasts in a row (one step of M each): ranks 1-5 end at δ + 2t,
//                            the others at 2t (t = α + M/B) — each message starts once both its
//                            ends are in its step, as with a mailbox rendezvous.
//   ring_protocols           LL and LL128 rings: base + 2(P-1)(α + M/(f·P·B)), f = 0.5 and 0.92.
//   tree_protocols           LL and LL128 trees on 4 one-GPU nodes: base + 4α + 2M/(f·B_nic),
//                            f = 1/4 and 120/128, at macro and analytic fidelity.
//   contention_two_collectives_halve
//                            rings {0,1} and {2,3} crossing the same two PCIe switch uplinks:
//                            alone 2α + M/B, together 2α + 2M/B (each gets half), macro and step.
//   dual_root_socket_slower  rtx-pro-6000-8gpu-dual-root, shipped calibration, macro: an 8-GPU
//                            ring alternating sockets (4 flows per direction on the 192 GB/s
//                            socket link = 48 GB/s each < 63 GB/s PCIe) is slower than the ring
//                            in natural order (2 socket crossings, one per direction: PCIe-bound).
//   fat_tree_oversubscription
//                            4 dgx-h100 nodes, 2 per leaf, 2:1: node0->node2 and node1->node3 on
//                            all 16 GPUs (16 flows through one 400 GB/s uplink) take twice as
//                            long as node0->node1 (one flow per 50 GB/s NIC).
//   tree_one_node_chain      tree all-reduce of 1 GiB on ring8 (one node: two opposite chains
//                            rooted at GPU 0, each M/2): every inner GPU sends 4 flows of M/2, so
//                            T = 2(P-1)α (deepest path up, then down) + 2M/B; macro and analytic.
//   tree_four_nodes          the same on 4 one-GPU nodes (NIC 50 GB/s, PCIe 100): NCCL's trees
//                            0->2->{1,3} and 3->1->{0,2} (depth 2), nodes 1 and 2 send 4 flows
//                            of M/2: T = 4α + 2M/B_nic; macro and analytic.
//   hier_sum_of_phases_{macro,step}
//                            hierarchical all-reduce of 1 GiB on 2 fattree nodes under one leaf
//                            (uncontended): T = 2(G-1)(α_nv + M/(G·B_nv)) + 2(N-1)(α_net + M/(G·N·B_nic)),
//                            the sum of the three phases; analytic the same.
//   ring_channels_{macro,step}
//                            ring all-reduce of 1 GiB on the same 2 nodes with 8 channels (their
//                            in-node edges merged into one message where they share a route):
//                            T = 2(P-1)(α_net + M/(P·8·B_nic)), NIC-bound; analytic the same.
//   pipeline_bubble_{1f1b,gpipe,interleaved}
//                            llama of hidden 1024, vocab 8 on 4 GPUs with free links, pp = 4,
//                            m = 8 (interleaved: vp = 2, 16 layers): bubble / step time =
//                            (p-1)/(vp·m + p-1) within 3 %; breakdown adds up. seq_len 16384
//                            keeps the first/last stages' extra ops (embedding; final norm,
//                            lm_head GEMM ramp, loss: ~0.13 ms per micro-batch, fixed or linear in
//                            s) and the optimizer step small against a stage (25 ms per
//                            micro-batch): measured deviations 0.5 % (1f1b, gpipe), 1.3 %
//                            (interleaved, where the extra sits in one chunk of half a stage);
//                            at seq_len 4096 they were 2.3 % and 4.1 %.
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cluster/platform.h"
#include "engine/collective_benchmark.h"
#include "engine/collective_runner.h"
#include "engine/collective_trees.h"
#include "engine/simgrid_config.h"
#include "engine_case_checks.h"
#include "engine/step_simulation.h"
#include "scenario/collective_calibration.h"
#include "scenario/scenario.h"
#include "scenario/memory_overheads.h"
#include "workload/op_costs.h"
#include "workload/program_builder.h"

namespace sg4 = simgrid::s4u;
using namespace stepsim;
using namespace stepsim::engine_cases;

using namespace engine_cases;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

// ---------------------------------------------------------------------------------------------
// 1-2. Ring all-reduce on one NVSwitch.

void ring_case(Fidelity fidelity) {
  ClusterGraph g = cluster(kData + "ring8.json");
  const int p = g.gpu_count();
  const auto r01 = g.route(0, 1);
  const double alpha = g.route_latency(r01), bw = g.route_bandwidth(r01);
  std::printf("  P = %d, α = %.9g s (route 0->1, %zu hops), B = %.9g B/s\n", p, alpha, r01.size(), bw);
  expect(p == 8 && r01.size() == 2, "8 GPUs, GPU->NVSwitch->GPU routes");
  expect(std::fabs(alpha - 0.6e-6) <= 1e-18 && bw == 450e9, "α = 0.6 us, B = 450 GB/s (NVLink4 x18)");
  bool uniform = true;  // every ring edge is like 0->1, so the ring's worst hop is α and slowest edge B
  for (int i = 0; i < p; ++i) {
    auto r = g.route(i, (i + 1) % p);
    uniform = uniform && g.route_latency(r) == alpha && g.route_bandwidth(r) == bw;
  }
  expect(uniform, "every ring edge has route 0->1's latency and bandwidth");

  CollectiveBenchmark bench;
  bench.op = OpKind::all_reduce;
  bench.algorithm_choice = "ring";
  bench.fidelity = fidelity;
  bench.sizes = {1 * kMiB, 1 * kGiB};
  auto points = run_collective_benchmark(g, ideal_calibration(), bench);
  expect(points.size() == 2, "two sizes measured");
  for (const CollectivePoint& pt : points) {
    const double want = 2.0 * (p - 1) * (alpha + pt.bytes / (p * bw));
    expect_close(pt.time_s, want, 1e-9,
                 fmt::format("all-reduce of {} MiB at {} fidelity == 2(P-1)(α + M/(P·B))", pt.bytes / kMiB,
                             fidelity == Fidelity::step ? "step" : "macro"));
    expect_close(pt.time_s, ring_time(OpKind::all_reduce, p, pt.bytes, alpha, bw, 0), 1e-9,
                 "equal to ring_time() (the analytic fidelity's formula)");
    std::printf("  busbw %.6g GB/s (link %.6g GB/s)\n", pt.busbw / 1e9, bw / 1e9);
  }
}

// One all-reduce of `bytes` over every GPU with the given algorithm, protocol and fidelity.
CollectivePoint one_all_reduce(const ClusterGraph& g, const CollectiveCalibration& cal, const std::string& algorithm,
                               const std::string& protocol, Fidelity fidelity, double bytes) {
  CollectiveBenchmark bench;
  bench.op = OpKind::all_reduce;
  bench.algorithm_choice = algorithm;
  bench.protocol_choice = protocol;
  bench.fidelity = fidelity;
  bench.sizes = {bytes};
  return run_collective_benchmark(g, cal, bench).at(0);
}

// A ring with NCCL's LL (LL128) protocol: bytes ÷ 0.5 (0.92) on the wire and the protocol's base
// latency: base + 2(P-1)(α + M/(f·P·B)), at step and macro fidelity alike.
void ring_protocols() {
  ClusterGraph g = cluster(kData + "ring8.json");
  const int p = g.gpu_count();
  const double alpha = g.route_latency(g.route(0, 1)), bw = g.route_bandwidth(g.route(0, 1));
  CollectiveCalibration cal = ideal_calibration();
  cal.tuning.ring_ll.base = 5e-6;
  cal.tuning.ring_ll128.base = 9e-6;
  cal.tuning.ll_bandwidth_factor = 0.5;
  cal.tuning.ll128_bandwidth_factor = 0.92;
  cal.tuning.ll_max_busbw = 0;  // no cap
  for (const auto& [protocol, base, factor] :
       {std::make_tuple("ll", 5e-6, 0.5), std::make_tuple("ll128", 9e-6, 0.92)})
    for (Fidelity fidelity : {Fidelity::step, Fidelity::macro}) {
      const CollectivePoint pt = one_all_reduce(g, cal, "ring", protocol, fidelity, 1 * kMiB);
      expect(pt.protocol == protocol, fmt::format("the ring runs {}", protocol));
      // Messages carry whole bytes: M/(0.92·P) is not an integer, so LL128 is exact to ~1e-6.
      expect_close(pt.time_s, base + 2.0 * (p - 1) * (alpha + pt.bytes / (factor * p * bw)), 1e-5,
                   fmt::format("{} all-reduce of 1 MiB == base + 2(P-1)(α + M/(f·P·B)), {} fidelity", protocol,
                               fidelity == Fidelity::step ? "step" : "macro"));
    }
}

// ---------------------------------------------------------------------------------------------
// Engine harness for cases that drive CollectiveRunner from their own actors: one actor per GPU
// runs `phases` in order, all actors meeting at a barrier before and after each phase; a phase
// records, per rank, when that rank finished its part (seconds after the phase began).

struct TestPhase {
  std::string name;
  // Runs rank r's part; returns false if r takes no part.
  std::function<bool(CollectiveRunner&, int r)> body;
};

// finish[phase][rank] = seconds from the phase's start to the end of rank's part (-1: no part).
std::vector<std::vector<double>> run_phases(const ClusterGraph& g, const CollectiveCalibration& cal,
                                            const std::vector<TestPhase>& phases) {
  SimgridArguments args;
  sg4::Engine engine(args.argc(), args.argv());
  Platform platform = build_platform(g);
  expect(platform.approximation.empty(), "SimGrid routes equal ClusterGraph routes");
  CollectiveRunner runner(g, cal, Fidelity::macro);
  const int n = g.gpu_count();
  std::vector<std::vector<double>> finish(phases.size(), std::vector<double>(static_cast<size_t>(n), -1));
  sg4::BarrierPtr barrier = sg4::Barrier::create(static_cast<unsigned>(n));
  for (int r = 0; r < n; ++r)
    sg4::Actor::create("rank" + std::to_string(r), platform.gpus[static_cast<size_t>(r)], [&, r] {
      for (size_t i = 0; i < phases.size(); ++i) {
        barrier->wait();
        const double t0 = sg4::Engine::get_clock();
        if (phases[i].body(runner, r)) finish[i][static_cast<size_t>(r)] = sg4::Engine::get_clock() - t0;
        barrier->wait();
      }
    });
  engine.run();
  return finish;
}

double latest(const std::vector<double>& finish, const std::vector<int>& ranks) {
  double t = -1;
  for (int r : ranks) t = std::max(t, finish[static_cast<size_t>(r)]);
  return t;
}

bool member(const std::vector<int>& group, int r) { return std::find(group.begin(), group.end(), r) != group.end(); }

// ---------------------------------------------------------------------------------------------
// Step fidelity when one rank joins late: a message starts once both its ends are in its step.

void ring_step_late_rank() {
  ClusterGraph g = cluster(kData + "ring8.json");
  const int p = g.gpu_count(), late = 3;
  const double alpha = g.route_latency(g.route(0, 1)), bw = g.route_bandwidth(g.route(0, 1));
  const double delay = 1e-3, bytes = 64 * kMiB;
  std::vector<int> all(static_cast<size_t>(p));
  for (int r = 0; r < p; ++r) all[static_cast<size_t>(r)] = r;
  auto late_then = [&](OpKind kind, int times) {
    return [&, kind, times](CollectiveRunner& runner, int r) {
      if (r == late) sg4::this_actor::sleep_for(delay);
      for (int i = 0; i < times; ++i) runner.run(kind, all, r, bytes, 7, Fidelity::step);
      return true;
    };
  };
  auto finish = run_phases(g, ideal_calibration(),
                           {{"all-gather", late_then(OpKind::all_gather, 1)},
                            {"two broadcasts", late_then(OpKind::broadcast, 2)}});
  // All-gather (a ring: all-reduce would run NVLS here): the delay spreads one hop per step and
  // P-1 = 7 steps reach every rank (at most 4 hops away), so each ends at δ + (P-1)(α + M/(P·B)).
  const double step = alpha + bytes / (p * bw);
  for (int r = 0; r < p; ++r)
    expect_close(finish[0][static_cast<size_t>(r)], delay + (p - 1) * step, 1e-9,
                 fmt::format("all-gather, rank {} with rank {} late by δ: δ + (P-1)(α + M/(P·B))", r, late));
  // Broadcast = one step of M on every edge (t = α + M/B). First: edges 2->3 and 3->4 start at δ,
  // so ranks 2-4 end at δ + t, the others at t. Second (same group and tag): edges 1->2 ... 4->5
  // wait for ranks 2-4, so ranks 1-5 end at δ + 2t and ranks 0, 6, 7 at 2t.
  const double t = alpha + bytes / bw;
  for (int r = 0; r < p; ++r) {
    const double want = r >= late - 2 && r <= late + 2 ? delay + 2 * t : 2 * t;
    expect_close(finish[1][static_cast<size_t>(r)], want, 1e-9, fmt::format("second broadcast, rank {}", r));
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Two rings sharing the PCIe switch uplinks.

void contention() {
  ClusterGraph g = cluster(kData + "two-switch.json");
  const std::vector<int> a = {0, 1}, b = {2, 3};
  const double bytes = 1 * kGiB;
  const auto r01 = g.route(0, 1), r23 = g.route(2, 3);
  const double alpha = g.route_latency(r01), bw = g.route_bandwidth(r01);
  // The two rings' routes share links in both directions (sw0->cpu0->sw1 and back).
  int shared = 0;
  for (int l : r01)
    for (int m : r23) shared += l == m;
  int shared_back = 0;
  for (int l : g.route(1, 0))
    for (int m : g.route(3, 2)) shared_back += l == m;
  std::printf("  route 0->1: %zu hops, α = %.9g s, B = %.9g B/s; links shared with 2->3: %d, 1->0 with 3->2: %d\n",
              r01.size(), alpha, bw, shared, shared_back);
  expect(shared == 2 && shared_back == 2, "rings {0,1} and {2,3} share the switch uplinks in both directions");
  expect(g.route_latency(r23) == alpha && g.route_bandwidth(r23) == bw, "both rings have the same α and B");

  auto all_reduce = [&](Fidelity f, bool with_b) {
    return [&, f, with_b](CollectiveRunner& runner, int r) {
      if (member(a, r)) runner.run(OpKind::all_reduce, a, r, bytes, 1, f);
      else if (with_b && member(b, r)) runner.run(OpKind::all_reduce, b, r, bytes, 2, f);
      else return false;
      return true;
    };
  };
  auto finish = run_phases(g, ideal_calibration(),
                           {{"A alone, macro", all_reduce(Fidelity::macro, false)},
                            {"A and B, macro", all_reduce(Fidelity::macro, true)},
                            {"A alone, step", all_reduce(Fidelity::step, false)},
                            {"A and B, step", all_reduce(Fidelity::step, true)}});
  // p = 2 all-reduce: 2 steps of M/2 (step) or one flow of M plus one more hop latency (macro).
  const double alone = 2 * alpha + bytes / bw;
  const double together = 2 * alpha + bytes / (bw / 2);
  for (int f = 0; f < 2; ++f) {
    const char* fid = f == 0 ? "macro" : "step";
    const auto& solo = finish[static_cast<size_t>(2 * f)];
    const auto& both = finish[static_cast<size_t>(2 * f + 1)];
    const double ta = latest(solo, a), tba = latest(both, a), tbb = latest(both, b);
    expect(latest(solo, b) < 0, fmt::format("{}: ring B idle in the solo phase", fid));
    expect_close(ta, alone, 1e-9, fmt::format("{}: ring A alone == 2α + M/B", fid));
    expect_close(tba, together, 1e-9, fmt::format("{}: ring A with B == 2α + M/(B/2)", fid));
    expect_close(tbb, together, 1e-9, fmt::format("{}: ring B with A == 2α + M/(B/2)", fid));
    // The brief's form: contended time twice the uncontended one (bandwidth terms; the latency
    // 2α is paid once either way and makes the raw ratio 2 - 2α/(M/B) = 1.99991).
    expect_close((tba - 2 * alpha) / (ta - 2 * alpha), 2.0, 1e-6,
                 fmt::format("{}: ring A's bandwidth time doubles under contention", fid));
    expect_close((tbb - 2 * alpha) / (ta - 2 * alpha), 2.0, 1e-6,
                 fmt::format("{}: ring B's bandwidth time is twice ring A's alone", fid));
    std::printf("  %s: raw ratio contended / alone = %.9f\n", fid, tba / ta);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Dual-root PCIe box: when the socket link is the bottleneck.

void dual_root() {
  ClusterGraph g = cluster("rtx-pro-6000-8gpu-dual-root");
  auto cal = load_collective_calibration();
  if (!cal.ok()) die("load_collective_calibration", cal.errors());
  const CollectiveCalibration& c = cal.value();
  const double bytes = 1 * kGiB;
  const std::vector<int> natural = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<int> alternating = {0, 4, 1, 5, 2, 6, 3, 7};
  const std::vector<int> pair_same = {0, 1}, pair_cross = {0, 4};

  // The links: PCIe 63 GB/s per GPU, the xGMI socket link 192 GB/s. A GPU pair across sockets
  // is PCIe-bound (63 < 192) and only 0.08 us slower per hop; a ring crossing the socket link k
  // times per direction gives each crossing flow 192/k GB/s: with k = 4 (alternating sockets)
  // that is 48 GB/s < 63, so the socket link IS the bottleneck; the natural order crosses once
  // per direction (3->4, 7->0) and stays PCIe-bound.
  const auto same = g.route(0, 1), cross = g.route(0, 4);
  double socket_bw = 0;
  std::string socket_kind;
  for (int l : cross)
    if (g.links()[static_cast<size_t>(l)].kind == "socket") socket_bw = g.links()[static_cast<size_t>(l)].bandwidth;
  const double pcie_bw = g.route_bandwidth(same);
  std::printf("  PCIe %.6g GB/s, socket link %.6g GB/s, latency same socket %.6g us, across %.6g us\n", pcie_bw / 1e9,
              socket_bw / 1e9, g.route_latency(same) * 1e6, g.route_latency(cross) * 1e6);
  expect(socket_bw > pcie_bw && socket_bw / 4 < pcie_bw, "4 flows on the socket link get less than PCIe's rate");
  expect(g.route_bandwidth(cross) == pcie_bw, "a lone cross-socket flow is PCIe-bound");

  auto ring = [&](const std::vector<int>& members, int tag) {
    return [&members, tag, bytes](CollectiveRunner& runner, int r) {
      if (!member(members, r)) return false;
      runner.run(OpKind::all_reduce, members, r, bytes, tag, Fidelity::macro);
      return true;
    };
  };
  auto finish = run_phases(g, c,
                           {{"natural", ring(natural, 1)},
                            {"alternating", ring(alternating, 2)},
                            {"pair same socket", ring(pair_same, 3)},
                            {"pair across sockets", ring(pair_cross, 4)}});
  const double t_nat = latest(finish[0], natural), t_alt = latest(finish[1], alternating);
  const double t_same = latest(finish[2], pair_same), t_cross = latest(finish[3], pair_cross);

  // Closed forms, macro fidelity: launch + steps · worst hop + edge bytes / (eff · rate). Every
  // edge's slowest link is PCIe, so both 8-rings run at PCIe's efficiency.
  const double eff = c.efficiency("pcie");
  const double edge = std::floor(ring_edge_bytes(OpKind::all_reduce, 8, bytes) / eff);  // the runner's whole bytes
  const double hop = g.route_latency(cross);  // both 8-rings' worst hop crosses the sockets
  const double want_nat = c.launch_latency + 14 * hop + edge / pcie_bw;
  const double want_alt = c.launch_latency + 14 * hop + edge / (socket_bw / 4);
  expect_close(t_nat, want_nat, 1e-6, "natural ring: PCIe-bound");
  expect_close(t_alt, want_alt, 1e-6, "alternating ring: socket-bound, 4 flows share the socket link");
  expect(t_alt > t_nat, fmt::format("alternating ring slower than natural ({:.6g} ms > {:.6g} ms, x{:.4f}; "
                                    "bandwidth terms x{:.4f} = 63/48)",
                                    t_alt * 1e3, t_nat * 1e3, t_alt / t_nat,
                                    (t_alt - c.launch_latency - 14 * hop) / (t_nat - c.launch_latency - 14 * hop)));
  // The pair across sockets: the same bandwidth, 2 steps of one socket crossing more latency.
  const double extra = 2 * (g.route_latency(cross) - g.route_latency(same));
  std::printf("  pairs: same socket %.12g s, across %.12g s, difference %.6g us (2 x %.3g us socket hop)\n", t_same,
              t_cross, (t_cross - t_same) * 1e6, (g.route_latency(cross) - g.route_latency(same)) * 1e6);
  expect(t_cross > t_same, "pair across sockets slower than pair in one socket (latency only)");
  expect_close(t_cross - t_same, extra, 1e-6, "pair difference == 2 socket-hop latencies");
}

// ---------------------------------------------------------------------------------------------
// 5. Fat tree, 2:1 oversubscribed.

void fat_tree() {
  ClusterGraph g = cluster(kData + "fattree.json", 4);
  const int G = g.gpus_per_node();
  const double bytes = 1 * kGiB;
  expect(g.nodes() == 4 && G == 8 && g.leaves().size() == 2, "4 nodes of 8 GPUs under 2 leaves");
  const double uplink = g.links()[static_cast<size_t>(g.leaves()[0].uplink)].bandwidth;
  const auto in_leaf = g.route(0, G), across = g.route(0, 2 * G);
  std::printf("  leaf uplink %.6g GB/s; in-leaf route %zu hops %.6g GB/s %.6g us; cross-leaf %zu hops %.6g GB/s %.6g us\n",
              uplink / 1e9, in_leaf.size(), g.route_bandwidth(in_leaf) / 1e9, g.route_latency(in_leaf) * 1e6,
              across.size(), g.route_bandwidth(across) / 1e9, g.route_latency(across) * 1e6);
  expect(uplink == 16 * 50e9 / 2, "leaf uplink = 16 NICs x 50 GB/s / 2");
  expect(g.route_bandwidth(in_leaf) == 50e9 && g.route_bandwidth(across) == 50e9, "a lone flow is NIC-bound");

  auto pattern = [bytes](std::vector<std::pair<int, int>> pairs, const std::string& tag) {
    return [pairs, tag, bytes](CollectiveRunner& runner, int r) {
      bool part = false;
      for (auto [from, to] : pairs) {
        if (r == from) {
          runner.send(from, to, bytes, tag)->wait();
          part = true;
        } else if (r == to) {
          runner.receive(to, tag);
          part = true;
        }
      }
      return part;
    };
  };
  std::vector<std::pair<int, int>> leaf_pairs, cross_pairs;
  for (int i = 0; i < G; ++i) {
    leaf_pairs.push_back({i, G + i});              // node 0 -> node 1 (same leaf)
    cross_pairs.push_back({i, 2 * G + i});         // node 0 -> node 2
    cross_pairs.push_back({G + i, 3 * G + i});     // node 1 -> node 3
  }
  auto finish = run_phases(g, ideal_calibration(), {{"in leaf", pattern(leaf_pairs, "leaf")},
                                                    {"across leaves", pattern(cross_pairs, "cross")}});
  std::vector<int> all(static_cast<size_t>(g.gpu_count()));
  for (int r = 0; r < g.gpu_count(); ++r) all[static_cast<size_t>(r)] = r;
  const double t_leaf = latest(finish[0], all), t_cross = latest(finish[1], all);
  expect_close(t_leaf, g.route_latency(in_leaf) + bytes / 50e9, 1e-9, "in leaf: latency + M / NIC rate");
  expect_close(t_cross, g.route_latency(across) + bytes / (uplink / 16), 1e-9,
               "across leaves: latency + M / (uplink / 16 flows)");
  expect_close(t_cross / t_leaf, 2.0, 1e-3, "cross-leaf / in-leaf time == oversubscription 2");
}

// ---------------------------------------------------------------------------------------------
// 6. Tree, hierarchical and multi-channel ring all-reduce against their closed forms.

// Runs `algo` on every GPU of `g` at `fidelity` (1 GiB, ideal links) and checks the time and the
// analytic fidelity's time against `want`.
void check_all_reduce(const ClusterGraph& g, const std::string& algo, Fidelity fidelity, double want,
                      const std::string& what) {
  CollectiveBenchmark bench;
  bench.op = OpKind::all_reduce;
  bench.algorithm_choice = algo;
  bench.fidelity = fidelity;
  bench.sizes = {1 * kGiB};
  const CollectiveCalibration cal = ideal_calibration();
  auto points = run_collective_benchmark(g, cal, bench);
  expect(points.size() == 1 && points[0].algorithm == algo, fmt::format("ran as {}", algo));
  expect_close(points[0].time_s, want, 1e-9, fmt::format("{} at {} fidelity", what, fidelity == Fidelity::step ? "step" : "macro"));
  // The analytic fidelity's formula, without an engine.
  std::vector<int> all(static_cast<size_t>(g.gpu_count()));
  for (int r = 0; r < g.gpu_count(); ++r) all[static_cast<size_t>(r)] = r;
  CollectiveRunner runner(g, cal, Fidelity::analytic, algo);
  const double analytic = algo == "tree"   ? runner.tree_analytic_time(all, 1 * kGiB, 0, cal.launch_latency)
                          : algo == "hier" ? runner.hier_analytic_time(all, 1 * kGiB)
                                           : runner.analytic_time(OpKind::all_reduce, all, 1 * kGiB, 0);
  expect_close(analytic, want, 1e-9, what + " at analytic fidelity");
}

void tree_one_node() {
  ClusterGraph g = cluster(kData + "ring8.json");
  const int p = g.gpu_count();
  const auto r01 = g.route(0, 1);
  const double alpha = g.route_latency(r01), bw = g.route_bandwidth(r01);
  std::printf("  P = %d, α = %.9g s, B = %.9g B/s\n", p, alpha, bw);
  check_all_reduce(g, "tree", Fidelity::macro, 2 * (p - 1) * alpha + 2 * kGiB / bw, "tree == 2(P-1)α + 2M/B");
}

// A tree with NCCL's LL (LL128) protocol: bytes ÷ f on the wire and the protocol's tree base
// latency; the Simple tree of tree_four_nodes is 4α + 2M/B_nic.
void tree_protocols() {
  ClusterGraph g = cluster(kData + "nodes1gpu.json", 4);
  const auto r01 = g.route(0, 1);
  const double alpha = g.route_latency(r01), nic = g.route_bandwidth(r01);
  CollectiveCalibration cal = ideal_calibration();
  cal.tuning.tree_ll.base = 5e-6;
  cal.tuning.tree_ll128.base = 9e-6;
  cal.tuning.tree_ll_bandwidth_factor = 0.25;
  cal.tuning.tree_ll128_bandwidth_factor_multi_node = 120.0 / 128.0;
  cal.tuning.ll_max_busbw = 0;  // no cap
  for (const auto& [protocol, base, factor] :
       {std::make_tuple("ll", 5e-6, 0.25), std::make_tuple("ll128", 9e-6, 120.0 / 128.0)})
    for (Fidelity fidelity : {Fidelity::macro, Fidelity::analytic}) {
      const CollectivePoint pt = one_all_reduce(g, cal, "tree", protocol, fidelity, 1 * kMiB);
      expect(pt.algorithm == "tree" && pt.protocol == protocol, fmt::format("the tree runs {}", protocol));
      expect_close(pt.time_s, base + 4 * alpha + 2 * pt.bytes / (factor * nic), 1e-6,
                   fmt::format("{} tree all-reduce of 1 MiB == base + 4α + 2M/(f·B_nic), {} fidelity", protocol,
                               fidelity == Fidelity::macro ? "macro" : "analytic"));
    }
}

void tree_four_nodes() {
  ClusterGraph g = cluster(kData + "nodes1gpu.json", 4);
  expect(binary_tree_parents(4) == std::vector<int>{-1, 2, 0, 2}, "tree 0 is 0 -> 2 -> {1, 3}");
  expect(second_tree_parents(4) == std::vector<int>{1, 3, 1, -1}, "tree 1 (mirror) is 3 -> 1 -> {0, 2}");
  const auto r01 = g.route(0, 1);
  const double alpha = g.route_latency(r01), nic = g.route_bandwidth(r01);
  bool uniform = true;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      if (a != b) uniform = uniform && g.route_latency(g.route(a, b)) == alpha && g.route_bandwidth(g.route(a, b)) == nic;
  std::printf("  α = %.9g s (4 hops), NIC %.9g B/s\n", alpha, nic);
  expect(uniform && nic == 50e9, "every GPU pair: the same α, NIC-bound at 50 GB/s");
  check_all_reduce(g, "tree", Fidelity::macro, 4 * alpha + 2 * kGiB / nic, "tree == 4α + 2M/B_nic");
}

// 2 nodes of the fattree fixture under one leaf: nothing is shared between the rails.
struct TwoNodes {
  ClusterGraph g = cluster(kData + "fattree.json", 2);
  int gpus = g.gpus_per_node(), nodes = g.nodes();
  double alpha_nv = g.route_latency(g.route(0, 1)), nv = g.route_bandwidth(g.route(0, 1));
  double alpha_net = g.route_latency(g.route(gpus - 1, gpus)), nic = g.route_bandwidth(g.route(gpus - 1, gpus));
  TwoNodes() {
    std::printf("  %d nodes x %d GPUs; NVLink α %.9g s, %.9g B/s; across nodes α %.9g s, %.9g B/s\n", nodes, gpus,
                alpha_nv, nv, alpha_net, nic);
    expect(g.leaves().size() == 1 && nic == 50e9 && nv == 450e9, "one leaf, NIC 50 GB/s, NVLink 450 GB/s");
  }
};

void hier_case(Fidelity fidelity) {
  TwoNodes t;
  const double G = t.gpus, N = t.nodes, M = 1 * kGiB;
  const double want = 2 * (G - 1) * (t.alpha_nv + M / (G * t.nv)) + 2 * (N - 1) * (t.alpha_net + M / (G * N * t.nic));
  check_all_reduce(t.g, "hier", fidelity, want, "hier == reduce-scatter + rail all-reduce + all-gather");
}

void ring_channels(Fidelity fidelity) {
  TwoNodes t;
  const double P = t.g.gpu_count(), M = 1 * kGiB;
  const double want = 2 * (P - 1) * (t.alpha_net + M / (P * t.gpus * t.nic));
  check_all_reduce(t.g, "ring", fidelity, want, "8-channel ring == 2(P-1)(α_net + M/(P·8·B_nic))");
}

// ---------------------------------------------------------------------------------------------
// 7. Pipeline bubbles.

void pipeline_bubble(const std::string& schedule) {
  const bool interleaved = schedule == "interleaved";
  const int p = 4, m = 8, vp = interleaved ? 2 : 1;
  const int layers = interleaved ? 16 : 8;
  const std::string text = fmt::format(R"({{
    "name": "pipeline bubble {0}",
    "cluster": {{"topology": "{1}free4.json"}},
    "model": {{"arch": "llama", "layers": {2}, "hidden": 1024, "heads": 8, "ffn_hidden": 4096, "vocab": 8}},
    "training": {{"seq_len": 16384, "global_batch": {3}, "micro_batch": 1, "pp": {4}, "vp": {5},
                  "pipeline_schedule": "{0}", "optimizer": "sgd"}},
    "simulation": {{"fidelity": "macro"}}
  }})",
                                       schedule, kData, layers, m, p, vp);
  auto doc = parse_json_text(text, kData + "pipeline-" + schedule + ".json");
  if (!doc.ok()) die("parse_json_text", doc.errors());
  auto scenario = parse_scenario(doc.value(), {});
  if (!scenario.ok()) die("parse_scenario", scenario.errors());
  const Scenario& s = scenario.value();
  auto overheads = load_memory_overheads();
  if (!overheads.ok()) die("load_memory_overheads", overheads.errors());
  Workload w = build_workload(s, overheads.value());
  Diagnostics cost = apply_costs(s, w);
  if (!cost.ok()) die("apply_costs", cost);
  expect(w.micro_batches == m && static_cast<int>(w.stages.size()) == p, "pp = 4 stages, m = 8 micro-batches");

  // How uniform the stages are: compute seconds per stage, by phase.
  std::vector<double> stage_total(static_cast<size_t>(p), 0);
  double optimizer_max = 0;
  for (int st = 0; st < p; ++st) {
    std::map<Phase, double> by_phase;
    for (const Op& op : w.stages[static_cast<size_t>(st)].ops)
      if (!is_communication(op.kind)) by_phase[op.phase] += op.seconds;
    stage_total[static_cast<size_t>(st)] = by_phase[Phase::forward] + by_phase[Phase::backward];
    optimizer_max = std::max(optimizer_max, by_phase[Phase::optimizer]);
    std::printf("  stage %d: forward %.6g ms, backward %.6g ms, optimizer %.6g ms (per step)\n", st,
                by_phase[Phase::forward] * 1e3, by_phase[Phase::backward] * 1e3, by_phase[Phase::optimizer] * 1e3);
  }
  const double lo = *std::min_element(stage_total.begin(), stage_total.end());
  const double hi = *std::max_element(stage_total.begin(), stage_total.end());
  std::printf("  stage imbalance (max - min) / min of forward+backward: %.3g %%\n", (hi - lo) / lo * 100);

  StepOptions options;
  options.fidelity = Fidelity::macro;
  auto step = simulate_step(s, w, cluster(kData + "free4.json"), ideal_calibration(), options);
  if (!step.ok()) die("simulate_step", step.errors());
  const StepResult& r = step.value();
  const Breakdown& b = r.breakdown;
  std::printf("  step %.9g ms, critical rank %d: forward %.6g, backward %.6g, optimizer %.6g, bubble %.6g, idle %.6g,"
              " exposed pp %.6g (ms); %zu transfers, %zu executions\n",
              r.step_time * 1e3, r.critical_rank, b.forward * 1e3, b.backward * 1e3, b.optimizer * 1e3, b.bubble * 1e3,
              b.idle * 1e3, b.exposed_comm.at("pp") * 1e3, r.comms, r.execs);
  expect_close(b.total(), r.step_time, 1e-9, "breakdown.total() == step_time");
  const double want = static_cast<double>(p - 1) / (vp * m + p - 1);
  const double got = b.bubble / r.step_time;
  expect_close(got, want, 0.03, fmt::format("{}: bubble / step time == (p-1)/(vp·m + p-1) = {}/{}", schedule, p - 1,
                                            vp * m + p - 1));
  std::printf("  without the optimizer step: bubble / (step - optimizer) = %.6g (relative error %.3g)\n",
              b.bubble / (r.step_time - b.optimizer), rel(b.bubble / (r.step_time - b.optimizer), want));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "";
  std::printf("case %s\n", which.c_str());
  if (which == "ring_step_exact") ring_case(Fidelity::step);
  else if (which == "ring_macro_equals_step") ring_case(Fidelity::macro);
  else if (which == "ring_step_late_rank") ring_step_late_rank();
  else if (which == "ring_protocols") ring_protocols();
  else if (which == "tree_protocols") tree_protocols();
  else if (which == "contention_two_collectives_halve") contention();
  else if (which == "dual_root_socket_slower") dual_root();
  else if (which == "fat_tree_oversubscription") fat_tree();
  else if (which == "tree_one_node_chain") tree_one_node();
  else if (which == "tree_four_nodes") tree_four_nodes();
  else if (which == "hier_sum_of_phases_macro") hier_case(Fidelity::macro);
  else if (which == "hier_sum_of_phases_step") hier_case(Fidelity::step);
  else if (which == "ring_channels_macro") ring_channels(Fidelity::macro);
  else if (which == "ring_channels_step") ring_channels(Fidelity::step);
  else if (which == "pipeline_bubble_1f1b") pipeline_bubble("1f1b");
  else if (which == "pipeline_bubble_gpipe") pipeline_bubble("gpipe");
  else if (which == "pipeline_bubble_interleaved") pipeline_bubble("interleaved");
  else expect(false, "unknown case \"" + which + "\"");
  return case_status();
}
