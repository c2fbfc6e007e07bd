// Tree geometry (NCCL's double binary tree), the hierarchical phases, the calibration file's
// NCCL tuning constants and the NCCL-like algorithm choice, against hand-computed values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/collective_trees.h"
#include "engine/collective_tuning.h"
#include "scenario/collective_calibration.h"
#include "scenario/data_dirs.h"

using namespace stepsim;

TEST_CASE("binary tree and its mirror match NCCL's 12-rank picture (src/graph/trees.cc)", "[collectives]") {
  // 0 -> 8 -> {4, 10}; 4 -> {2, 6}; 10 -> {9, 11}; 2 -> {1, 3}; 6 -> {5, 7}.
  CHECK(binary_tree_parents(12) == std::vector<int>{-1, 2, 4, 2, 8, 6, 4, 6, 0, 10, 8, 10});
  // Mirror: 11 -> 3 -> {1, 7}; 1 -> {0, 2}; 7 -> {5, 9}; 5 -> {4, 6}; 9 -> {8, 10}.
  CHECK(second_tree_parents(12) == std::vector<int>{1, 3, 1, 11, 5, 7, 5, 3, 9, 7, 9, -1});
}

TEST_CASE("odd rank counts shift the second tree by one (NCCL's 13-rank picture)", "[collectives]") {
  // Tree 0: 0 -> 8 -> {4, 12}; tree 1 = tree 0 + 1: 1 -> 9 -> {5, 0}; 5 -> {3, 7}; 0 -> {11}.
  const std::vector<int> first = binary_tree_parents(13), second = second_tree_parents(13);
  CHECK(first[8] == 0);
  CHECK(first[4] == 8);
  CHECK(first[12] == 8);
  CHECK(second[1] == -1);
  CHECK(second[9] == 1);
  CHECK(second[5] == 9);
  CHECK(second[0] == 9);
  CHECK(second[3] == 5);
  CHECK(second[7] == 5);
  CHECK(second[11] == 0);
  CHECK(second[12] == 11);
}

TEST_CASE("double binary trees: one channel per local GPU, chains inside the node", "[collectives]") {
  // 2 nodes x 2 GPUs (ranks 0,1 | 2,3): 2 channels x 2 trees.
  const TreeSet t = double_binary_trees({0, 1, 2, 3}, 2);
  REQUIRE(t.channels == 2);
  REQUIRE(t.parent.size() == 4);
  // Channel 0, tree 0: node 0 is the root, its chain 0 -> 1; node 1's head (rank 2) under rank 0.
  CHECK(t.parent[0] == std::vector<int>{-1, 0, 0, 2});
  // Channel 0, tree 1 (mirror: node 1 is the root; chains reversed, same heads).
  CHECK(t.parent[1] == std::vector<int>{2, 0, -1, 2});
  // Channel 1, tree 0: heads are the second GPUs (ranks 1 and 3).
  CHECK(t.parent[2] == std::vector<int>{1, -1, 3, 1});
  // Every tree edge carries M / 4 each way: 3 edges x 2 directions x 4 trees.
  const auto flows = tree_transfers(t, 8.0);
  CHECK(flows.size() == 24);
  for (const Transfer& f : flows) CHECK(f.bytes == 2.0);
}

TEST_CASE("hierarchical phases: reduce-scatter rings per node, all-reduce rings per rail", "[collectives]") {
  const HierPhases h = hier_phases({0, 1, 2, 3, 4, 5}, 3, 6.0);  // 2 nodes x 3 GPUs
  CHECK(h.intra_steps == 2);
  CHECK(h.rail_steps == 2);
  CHECK(h.intra.size() == 6);  // two rings of 3 edges
  for (const Transfer& f : h.intra) CHECK(f.bytes == Approx(2 * 6.0 / 3));  // (L-1)/L · M
  CHECK(h.rails.size() == 6);  // three rails, each a ring of 2 (both directions)
  for (const Transfer& f : h.rails) CHECK(f.bytes == Approx(2.0 * 1 / 2 * (6.0 / 3)));  // 2(N-1)/N · M/L
  CHECK(h.rails[0].from == 0);
  CHECK(h.rails[0].to == 3);
}

namespace {
CollectiveCalibration shipped() {
  auto c = load_collective_calibration();
  REQUIRE(c.ok());
  return c.value();
}
}  // namespace

TEST_CASE("collectives.json carries NCCL's Simple-protocol tuning constants (hardware.md §3d)", "[collectives]") {
  const CollectiveCalibration c = shipped();
  CHECK(c.tuning.ring.base == Approx(8.4e-6));
  CHECK(c.tuning.ring.nvlink == Approx(3.4e-6));
  CHECK(c.tuning.ring.pcie == Approx(5.7e-6));
  CHECK(c.tuning.ring.net == Approx(14e-6));
  CHECK(c.tuning.tree.base == Approx(8.4e-6));
  CHECK(c.tuning.tree.nvlink == Approx(4e-6));
  CHECK(c.tuning.tree.net == Approx(14e-6));
  CHECK(c.tuning.ring_multinode_factor == Approx(1.4));
  CHECK(c.tuning.tree_bandwidth_factor == Approx(0.92));
}

TEST_CASE("an unknown key under nccl_tuning is an error naming its path", "[collectives]") {
  std::ifstream in(data_root() + "/topologies/framework/collectives.json");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const auto at = s.find("\"net_overhead_us\"");
  REQUIRE(at != std::string::npos);
  s.insert(at, "\"tree_bandwith_factor\": 0.9, ");
  auto doc = parse_json_text(s, "collectives.json");
  REQUIRE(doc.ok());
  auto parsed = parse_collective_calibration(doc.value());
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.errors().to_string().find("nccl_tuning.tree_bandwith_factor") != std::string::npos);
}

TEST_CASE("NCCL latency model by hand: 2 nodes x 8 GPUs on NVLink", "[collectives]") {
  const CollectiveCalibration c = shipped();
  TuningInputs in;
  in.ranks = 16, in.nodes = 2, in.per_node = 8, in.nvlink_inside = true;
  // Ring: (base + (2(n-1) - 2(N-1))·intra + 2(N-1)·net) x 1.4, intra = max(3.4, 3 x 1) us.
  CHECK(nccl_ring_latency(c, in) == Approx((8.4 + 28 * 3.4 + 2 * 14.0) * 1.4 * 1e-6));
  // Tree: base + 2((ppn-1)·intra + log2(N)·net).
  CHECK(nccl_tree_latency(c, in) == Approx((8.4 + 2 * (7 * 4.0 + 1 * 14.0)) * 1e-6));
  // Equal bandwidth times, Simple only: small messages go to the tree (lower latency), large ones
  // to the ring (the tree's bandwidth is x0.92).
  in.ring_seconds = in.tree_seconds = 10e-6;
  CHECK(nccl_choice(c, in, Protocol::simple).algorithm == Algorithm::tree);
  in.ring_seconds = in.tree_seconds = 10e-3;
  CHECK(nccl_choice(c, in, Protocol::simple).algorithm == Algorithm::ring);
}

TEST_CASE("NCCL protocols by hand: LL for small messages, LL128 on NVLink, Simple for large ones", "[collectives]") {
  const CollectiveCalibration c = shipped();
  CHECK(c.tuning.ring_ll.base == Approx(6.6e-6));
  CHECK(c.tuning.ring_ll128.nvlink == Approx(1.9e-6));
  TuningInputs in;
  in.ranks = 8, in.nodes = 1, in.per_node = 8, in.nvlink_inside = true;
  // One node, 14 steps: LL 6.6 + 14 x 0.6, LL128 14.0 + 14 x 1.9, Simple 8.4 + 14 x 3.4 (us).
  CHECK(nccl_ring_latency(c, in, Protocol::ll) == Approx((6.6 + 14 * 0.6) * 1e-6));
  CHECK(nccl_ring_latency(c, in, Protocol::ll128) == Approx((14.0 + 14 * 1.9) * 1e-6));
  // 1 MiB all-reduce, Simple ring bandwidth time 10 us: LL 15.0 + 20 = 35.0 us wins over Simple
  // 56.0 + 10 = 66.0; LL128 is off (not enabled) until the GPU family enables it: 40.6 + 10.87 = 51.5.
  in.bus_bytes = 2.0 * 7 / 8 * (1 << 20);
  in.ring_seconds = 10e-6;
  TuningChoice small = nccl_choice(c, in);
  CHECK(small.protocol == Protocol::ll);
  CHECK(small.ring_ll == Approx(15.0e-6 + 20e-6));
  CHECK(small.ring_ll128 == -1);
  // 1 GiB (10 ms at Simple): Simple 10.056 ms beats LL128 10.87 ms and LL 20 ms.
  in.ll128_enabled = true;
  in.ring_seconds = 10e-3;
  in.bus_bytes = 2.0 * 7 / 8 * (1 << 30);
  TuningChoice large = nccl_choice(c, in);
  CHECK(large.protocol == Protocol::simple);
  CHECK(large.ring_ll128 == Approx(40.6e-6 + 10e-3 / 0.92));
  // LL's bus bandwidth is min(llMaxBw = 141 GB/s, 0.5 x Simple's): here half of Simple's is the
  // lower (20 ms); on a link 10x faster (1 ms at Simple) the cap binds: 1.88 GB / 141 GB/s = 13.3 ms.
  CHECK(nccl_ring_bandwidth_seconds(c, in, Protocol::ll) == Approx(20e-3));
  in.ring_seconds = 1e-3;
  CHECK(nccl_ring_bandwidth_seconds(c, in, Protocol::ll) == Approx(in.bus_bytes / 141e9));
  // In between (Simple bandwidth time 100 us): LL128 149.3 us beats Simple 156 us and LL 215 us.
  in.ring_seconds = 100e-6;
  in.bus_bytes = 1.75 * 6553600;
  CHECK(nccl_choice(c, in).protocol == Protocol::ll128);
  // A forced protocol is obeyed.
  CHECK(nccl_choice(c, in, Protocol::ll).protocol == Protocol::ll);
}

TEST_CASE("NCCL trees with LL and LL128 by hand: small all-reduces across nodes go to an LL tree", "[collectives]") {
  const CollectiveCalibration c = shipped();
  TuningInputs in;
  in.ranks = 16, in.nodes = 2, in.per_node = 8, in.nvlink_inside = true, in.ll128_enabled = true;
  // base + 2((ppn-1)·intra + log2(N)·net): LL 6.8 + 2(7 x 0.6 + 5.0) = 25.2 us,
  // LL128 14.0 + 2(7 x 1.25 + 8.5) = 48.5 us.
  CHECK(nccl_tree_latency(c, in, Protocol::ll) == Approx(25.2e-6));
  CHECK(nccl_tree_latency(c, in, Protocol::ll128) == Approx(48.5e-6));
  // Bandwidth: the tree's static time / 0.92, then / (1/3.8) for LL and x 128/120 across nodes for LL128.
  in.tree_seconds = in.ring_seconds = 1e-6;
  in.bus_bytes = 1.0 * 2 * 15 / 16 * 4096;
  CHECK(nccl_tree_bandwidth_seconds(c, in, Protocol::ll) == Approx(1e-6 / 0.92 / 0.2632));
  CHECK(nccl_tree_bandwidth_seconds(c, in, Protocol::ll128) == Approx(1e-6 / 0.92 / 0.9375));
  // A 4 KiB all-reduce: the LL tree (25.2 + 4.1 us) beats the LL ring (6.6 + 28 x 1.0 + 2 x 2.7 = 40.0
  // us + 2.0), the Simple tree (92.4 us + 1.1) and the Simple ring (184.2 us + 1.0), as NCCL chooses.
  const TuningChoice small = nccl_choice(c, in);
  CHECK(small.algorithm == Algorithm::tree);
  CHECK(small.protocol == Protocol::ll);
  CHECK(small.tree_ll == Approx(25.2e-6 + 1e-6 / 0.92 / 0.2632));
  CHECK(small.ring_ll == Approx(40.0e-6 + 2e-6));
  // A forced protocol picks the best algorithm with it; a forced Simple never returns an LL tree.
  CHECK(nccl_choice(c, in, Protocol::simple).protocol == Protocol::simple);
  CHECK(nccl_choice(c, in, Protocol::ll128).algorithm == Algorithm::tree);
  // One node: LL128 trees run at 7/9.
  in.nodes = 1, in.ranks = 8;
  CHECK(nccl_tree_bandwidth_seconds(c, in, Protocol::ll128) == Approx(1e-6 / 0.92 / 0.7778));
}

TEST_CASE("NCCL choice inside one NVSwitch node: NVLS when its rate wins, never tree for equal rates", "[collectives]") {
  const CollectiveCalibration c = shipped();
  TuningInputs in;
  in.ranks = 8, in.nodes = 1, in.per_node = 8;
  CHECK(nccl_ring_latency(c, in) == Approx((8.4 + 14 * 3.4) * 1e-6));
  in.ring_seconds = in.tree_seconds = 1e-3;
  in.nvls_seconds = 0.8e-3;
  const TuningChoice choice = nccl_choice(c, in);
  CHECK(choice.algorithm == Algorithm::nvls);
  CHECK(choice.nvls == Approx(25e-6 + 0.8e-3));
  in.nvls_seconds = -1;
  CHECK(nccl_choice(c, in).algorithm == Algorithm::ring);
  in.kind = OpKind::all_gather;  // tree and NVLS are all-reduce algorithms
  in.nvls_seconds = 0;
  in.tree_seconds = 0;
  CHECK(nccl_choice(c, in).algorithm == Algorithm::ring);
}
