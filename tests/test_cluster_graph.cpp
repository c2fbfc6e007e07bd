// ClusterGraph: routes on shipped topologies against hand-derived answers, fabric capacities,
// the NIC rule, rejected topologies, and a 16,384-GPU graph.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include "cluster/cluster_graph.h"
#include "scenario/data_dirs.h"

using namespace stepsim;

namespace {

ClusterGraph make(const std::string& topology, int nodes, const std::string& gpu = "") {
  auto t = load_topology(topology);
  REQUIRE(t.ok());
  auto card = load_gpu(gpu.empty() ? t.value().gpu : gpu);
  REQUIRE(card.ok());
  auto g = ClusterGraph::build(t.value(), card.value(), nodes);
  if (!g.ok()) FAIL(g.errors().to_string());
  return g.value();
}

// The vertices a route visits, source first.
std::vector<std::string> hops(const ClusterGraph& g, const std::vector<int>& route) {
  std::vector<std::string> names;
  if (route.empty()) return names;
  names.push_back(g.vertex_name(g.links()[route[0]].from));
  for (int id : route) names.push_back(g.vertex_name(g.links()[id].to));
  return names;
}

using Names = std::vector<std::string>;

// A node assembled in code: "pcie", "socket", "nvlink" and "net" link types; `nics` on "net".
TopologySpec hand_topology(const std::vector<std::pair<std::string, DeviceKind>>& devices,
                           const std::vector<std::array<std::string, 3>>& links, const std::string& fabric) {
  TopologySpec t;
  t.file = "hand.json";
  t.id = "hand";
  t.link_types["pcie"] = {"pcie", "pcie", 32e9, 0.2e-6, ""};
  t.link_types["socket"] = {"socket", "socket", 64e9, 0.1e-6, ""};
  t.link_types["nvlink"] = {"nvlink", "nvlink", 25e9, 0.3e-6, ""};
  t.link_types["net"] = {"net", "roce", 50e9, 0.6e-6, ""};
  for (const auto& [id, kind] : devices) t.devices.push_back({id, kind, 0, kind == DeviceKind::nic ? "net" : ""});
  for (const auto& l : links) t.links.push_back({l[0], l[1], l[2], 1});
  if (!fabric.empty()) t.fabric = Fabric{fabric, "net", fabric == "single_switch" ? 0 : 1, 1.0, ""};
  return t;
}

GpuSpec h100() {
  auto g = load_gpu("h100-sxm5-80gb");
  REQUIRE(g.ok());
  return g.value();
}

}  // namespace

TEST_CASE("dgx-h100: NVLink through the NVSwitch, 2 links", "[cluster]") {
  auto g = make("dgx-h100", 1);
  CHECK(g.gpu_count() == 8);
  auto r = g.route(0, 5);
  CHECK(hops(g, r) == Names{"n0.gpu0", "n0.nvswitch", "n0.gpu5"});
  CHECK(g.links()[r[0]].name == "n0.gpu0->n0.nvswitch");
  CHECK(g.links()[r[0]].kind == "nvlink");
  CHECK(g.route_latency(r) == Approx(0.6e-6));
  CHECK(g.route_bandwidth(r) == Approx(18 * 25e9));
  CHECK(g.route(3, 3).empty());
  CHECK(std::isinf(g.route_bandwidth({})));
}

TEST_CASE("h100-pcie-8gpu-nvlink-pairs: bridge inside a pair, socket link across sockets", "[cluster]") {
  auto g = make("h100-pcie-8gpu-nvlink-pairs", 1);
  auto r = g.route(0, 1);
  REQUIRE(r.size() == 1);
  CHECK(g.links()[r[0]].kind == "nvlink");
  CHECK(hops(g, g.route(0, 5)) == Names{"n0.gpu0", "n0.cpu0", "n0.cpu1", "n0.gpu5"});
  CHECK(hops(g, g.route(5, 0)) == Names{"n0.gpu5", "n0.cpu1", "n0.cpu0", "n0.gpu0"});
  CHECK(g.links()[g.route(0, 5)[1]].kind == "socket");
}

TEST_CASE("rtx-pro-6000-8gpu-dual-root: PCIe P2P through the root complex", "[cluster]") {
  auto g = make("rtx-pro-6000-8gpu-dual-root", 1);
  CHECK(hops(g, g.route(0, 4)) == Names{"n0.gpu0", "n0.cpu0", "n0.cpu1", "n0.gpu4"});
  CHECK(hops(g, g.route(0, 1)) == Names{"n0.gpu0", "n0.cpu0", "n0.gpu1"});
}

TEST_CASE("a card without PCIe P2P goes through a CPU; with it, through the common switch", "[cluster]") {
  auto p2p = make("rtx-pro-6000-server-8gpu", 1);
  CHECK(hops(p2p, p2p.route(0, 1)) == Names{"n0.gpu0", "n0.pcie-sw0", "n0.gpu1"});
  auto no_p2p = make("rtx-pro-6000-server-8gpu", 1, "rtx-4090");
  REQUIRE_FALSE(no_p2p.gpu().pcie_p2p);
  CHECK(hops(no_p2p, no_p2p.route(0, 1)) == Names{"n0.gpu0", "n0.pcie-sw0", "n0.cpu0", "n0.pcie-sw0", "n0.gpu1"});
  CHECK(hops(no_p2p, no_p2p.route(0, 6)) ==
        Names{"n0.gpu0", "n0.pcie-sw0", "n0.cpu0", "n0.cpu1", "n0.pcie-sw3", "n0.gpu6"});
}

TEST_CASE("dgx-h100, 2 nodes: GPU3 -> GPU11 through both nodes' NIC of GPU3", "[cluster]") {
  auto g = make("dgx-h100", 2);
  CHECK(g.gpu_count() == 16);
  CHECK(g.vertex_name(g.nic_vertex(3)) == "n0.nic3");
  CHECK(hops(g, g.route(3, 11)) == Names{"n0.gpu3", "n0.pcie-sw3", "n0.nic3", "fabric.switch", "n1.nic3",
                                         "n1.pcie-sw3", "n1.gpu3"});
  // Same link ids for the intra-node part of node 1, shifted by one node's links.
  CHECK(hops(g, g.route(8, 13)) == Names{"n1.gpu0", "n1.nvswitch", "n1.gpu5"});
  auto r = g.route(0, 8);
  CHECK(g.route_latency(r) == Approx(4 * 0.2e-6 + 2 * 0.6e-6));
  CHECK(g.route_bandwidth(r) == Approx(50e9));
}

TEST_CASE("two NICs under one switch: the rail rule picks GPU i's NIC", "[cluster]") {
  auto g = make("dgx-a100", 2);
  CHECK(g.vertex_name(g.nic_vertex(0)) == "n0.nic0");
  CHECK(g.vertex_name(g.nic_vertex(1)) == "n0.nic1");
  CHECK(g.vertex_name(g.nic_vertex(15)) == "n1.nic7");
}

TEST_CASE("every route of every shipped topology chains from GPU to GPU and never crosses a GPU", "[cluster]") {
  for (const auto& file : catalog_files(CatalogKind::topologies)) {
    auto t = load_topology(file);
    if (!t.ok()) continue;  // test_formats reports broken files
    auto card = load_gpu(t.value().gpu);
    if (!card.ok()) continue;
    INFO(file);
    auto built = ClusterGraph::build(t.value(), card.value(), t.value().fabric ? 2 : 1);
    REQUIRE(built.ok());
    const ClusterGraph& g = built.value();
    for (int s = 0; s < g.gpu_count(); ++s) {
      for (int d = 0; d < g.gpu_count(); ++d) {
        auto r = g.route(s, d);
        if (s == d) continue;
        REQUIRE(!r.empty());
        CHECK(g.links()[r.front()].from == g.gpu_vertex(s));
        CHECK(g.links()[r.back()].to == g.gpu_vertex(d));
        for (size_t i = 0; i + 1 < r.size(); ++i) {
          REQUIRE(g.links()[r[i]].to == g.links()[r[i + 1]].from);
          VertexKind k = g.vertices()[g.links()[r[i]].to].kind;
          CHECK(k != VertexKind::gpu);
          if (s / g.gpus_per_node() != d / g.gpus_per_node()) CHECK(k != VertexKind::nvswitch);
        }
      }
    }
  }
}

TEST_CASE("fat_tree: oversubscribed leaf uplinks carry downlink / oversubscription", "[cluster]") {
  auto g = make("dgx-h100-roce", 2048);  // 384 nodes per leaf, 1:7, 400G NIC ports
  CHECK(g.gpu_count() == 16384);
  REQUIRE(g.leaves().size() == 6);  // ceil(2048 / 384); the last leaf holds 128 nodes
  const auto& full = g.links()[g.leaves()[0].uplink];
  CHECK(g.vertex_name(full.from) == "fabric.leaf0");
  CHECK(g.vertex_name(full.to) == "fabric.spine");
  CHECK(full.kind == "roce");
  CHECK(full.bandwidth == Approx(384 * 8 * 50e9 / 7.0));
  CHECK(g.links()[g.leaves()[0].uplink ^ 1].bandwidth == Approx(full.bandwidth));
  CHECK(g.links()[g.leaves()[5].uplink].bandwidth == Approx(128 * 8 * 50e9 / 7.0));
  // Same leaf: no spine; other leaf: leaf -> spine -> leaf.
  CHECK(hops(g, g.route(0, 8)).size() == 7);
  CHECK(hops(g, g.route(0, 384 * 8)) == Names{"n0.gpu0", "n0.pcie-sw0", "n0.nic0", "fabric.leaf0", "fabric.spine",
                                               "fabric.leaf1", "n384.nic0", "n384.pcie-sw0", "n384.gpu0"});
}

TEST_CASE("16,384 GPUs: ring-neighbour routes for every rank", "[cluster]") {
  auto g = make("dgx-h100-roce", 2048);
  size_t total = 0;
  for (int r = 0; r < g.gpu_count(); ++r) {
    auto route = g.route(r, (r + 1) % g.gpu_count());
    REQUIRE(!route.empty());
    total += route.size();
  }
  // 7 of every 8 neighbours share a node (2 NVLink hops); the 8th crosses the fabric (6 or 8 hops).
  CHECK(total > 2u * 16384);
}

TEST_CASE("rail_optimized: one leaf per rail and group", "[cluster]") {
  auto g = make("dgx-h100-ib-ndr", 64);  // 32 nodes per group
  CHECK(g.leaves().size() == 2 * 8);
  CHECK(hops(g, g.route(3, 8 + 3)) ==
        Names{"n0.gpu3", "n0.pcie-sw3", "n0.nic3", "fabric.leaf0.rail3", "n1.nic3", "n1.pcie-sw3", "n1.gpu3"});
  auto across_groups = hops(g, g.route(3, 32 * 8 + 3));
  CHECK(across_groups[3] == "fabric.leaf0.rail3");
  CHECK(across_groups[4] == "fabric.spine");
  CHECK(across_groups[5] == "fabric.leaf1.rail3");
  auto across_rails = hops(g, g.route(3, 8 + 5));
  CHECK(across_rails[3] == "fabric.leaf0.rail3");
  CHECK(across_rails[5] == "fabric.leaf0.rail5");
  CHECK(g.links()[g.leaves()[0].uplink].bandwidth == Approx(32 * 50e9));
}

TEST_CASE("a GPU with no route is rejected, naming it", "[cluster]") {
  using K = DeviceKind;
  auto isolated = hand_topology({{"gpu0", K::gpu}, {"gpu1", K::gpu}, {"cpu0", K::cpu}}, {{"gpu0", "cpu0", "pcie"}}, "");
  auto g = ClusterGraph::build(isolated, h100(), 1);
  REQUIRE_FALSE(g.ok());
  CHECK_THAT(g.errors().to_string(), Catch::Contains("gpu0 has no route to gpu1"));

  // gpu1 reaches gpu0 over NVLink but a NIC only through gpu0: fine alone, rejected with 2 nodes.
  auto behind = hand_topology({{"gpu0", K::gpu}, {"gpu1", K::gpu}, {"cpu0", K::cpu}, {"nic0", K::nic}},
                              {{"gpu0", "cpu0", "pcie"}, {"nic0", "cpu0", "pcie"}, {"gpu0", "gpu1", "nvlink"}},
                              "single_switch");
  CHECK(ClusterGraph::build(behind, h100(), 1).ok());
  auto two = ClusterGraph::build(behind, h100(), 2);
  REQUIRE_FALSE(two.ok());
  CHECK_THAT(two.errors().to_string(), Catch::Contains("gpu1 reaches no NIC"));

  auto no_fabric = hand_topology({{"gpu0", K::gpu}}, {}, "");
  auto many = ClusterGraph::build(no_fabric, h100(), 2);
  REQUIRE_FALSE(many.ok());
  CHECK_THAT(many.errors().to_string(), Catch::Contains("no fabric"));
}

TEST_CASE("an ambiguous NIC is rejected on a rail fabric and balanced elsewhere", "[cluster]") {
  using K = DeviceKind;
  // gpu2's rail NIC (2*4/4 = nic2) is on the other socket; nic0 and nic1 are closer and tie.
  auto spec = [](const std::string& fabric) {
    return hand_topology({{"gpu0", K::gpu}, {"gpu1", K::gpu}, {"gpu2", K::gpu}, {"gpu3", K::gpu}, {"cpu0", K::cpu},
                          {"cpu1", K::cpu}, {"nic0", K::nic}, {"nic1", K::nic}, {"nic2", K::nic}, {"nic3", K::nic}},
                         {{"gpu0", "cpu0", "pcie"}, {"gpu1", "cpu0", "pcie"}, {"gpu2", "cpu0", "pcie"},
                          {"gpu3", "cpu1", "pcie"}, {"nic0", "cpu0", "pcie"}, {"nic1", "cpu0", "pcie"},
                          {"nic2", "cpu1", "pcie"}, {"nic3", "cpu1", "pcie"}, {"cpu0", "cpu1", "socket"}},
                         fabric);
  };
  auto rail = ClusterGraph::build(spec("rail_optimized"), h100(), 2);
  REQUIRE_FALSE(rail.ok());
  CHECK_THAT(rail.errors().to_string(), Catch::Contains("ambiguous NIC for gpu2"));
  auto single = ClusterGraph::build(spec("single_switch"), h100(), 2);
  REQUIRE(single.ok());
  const auto& g = single.value();
  CHECK(g.vertex_name(g.nic_vertex(0)) == "n0.nic0");
  CHECK(g.vertex_name(g.nic_vertex(1)) == "n0.nic1");
  CHECK(g.vertex_name(g.nic_vertex(2)) == "n0.nic0");
  CHECK(g.vertex_name(g.nic_vertex(3)) == "n0.nic3");  // the rail NIC, one of two at 2 hops
}
