// The critical path on hand-built programs and activity records whose answer is known: which
// activities it crosses, where a collective's late peer and a pipeline send take it, which gaps
// are waits, and which link a communication piece is charged to.
#include <catch2/catch.hpp>

#include "engine/link_usage.h"
#include "report/bottlenecks.h"
#include "report/critical_path.h"
#include "scenario/scenario.h"
#include "workload/program_builder.h"
#include "scenario_inputs.h"

using namespace stepsim;

namespace {

const std::string kFree4 = std::string(STEPSIM_TEST_DATA_DIR) + "/engine/free4.json";

// 4 GPUs of free4.json with the given degrees; the programs are replaced by the test.
Workload workload(const std::string& degrees) {
  const std::string text = R"({"cluster": {"topology": ")" + kFree4 +
                           R"("}, "model": {"arch": "llama", "layers": 4, "hidden": 256, "heads": 4,
                               "ffn_hidden": 512, "vocab": 64},
                           "training": {"seq_len": 128, "global_batch": 8, "micro_batch": 1, )" +
                           degrees + "}}";
  return build_workload(test_inputs::scenario_from_text(text, {}, "critical.json"), test_inputs::shipped_overheads());
}

ClusterGraph free4() {
  auto t = load_topology(kFree4);
  REQUIRE(t.ok());
  auto gpu = load_gpu(t.value().gpu);
  REQUIRE(gpu.ok());
  auto g = ClusterGraph::build(t.value(), gpu.value(), 1);
  REQUIRE(g.ok());
  return g.value();
}

Op compute(std::vector<uint32_t> deps = {}) {
  Op op;
  op.kind = OpKind::mlp_up;
  op.deps = std::move(deps);
  return op;
}

Op comm(OpKind kind, Group group, std::vector<uint32_t> deps) {
  Op op;
  op.kind = kind;
  op.group = group;
  op.stream = stream_of_group(group);
  op.deps = std::move(deps);
  return op;
}

void check_step(const CriticalStep& s, int rank, uint32_t op, double start, double end, CriticalKind kind) {
  INFO("step on rank " << s.rank << " op " << s.op << " [" << s.start << ", " << s.end << "] " << s.resource);
  CHECK(s.rank == rank);
  CHECK(s.op == op);
  CHECK(s.start == Approx(start));
  CHECK(s.end == Approx(end));
  CHECK(s.kind == kind);
}

// Data-parallel step on 4 ranks: forward, all-reduce, optimizer. Rank 1's forward is slowest (3 s)
// so every rank's all-reduce ends at 5 s; the path must run through rank 1's forward, then the
// all-reduce from the moment rank 1 joined it, then the last compute.
StepResult dp_records(Workload& w) {
  RankProgram p;
  p.add(compute());
  p.add(comm(OpKind::all_reduce, Group::dp, {0}));
  p.add(compute({1}));
  w.stages = {p};
  StepResult r;
  r.step_time = 6;
  const double forward_end[4] = {1, 3, 2, 2};
  for (int rank = 0; rank < 4; ++rank) {
    r.records.push_back({rank, 0, Stream::compute, 0, forward_end[rank]});
    r.records.push_back({rank, 1, Stream::dp, forward_end[rank], 5});
    r.records.push_back({rank, 2, Stream::compute, 5, 6});
    r.recorded_ranks.push_back(rank);
  }
  return r;
}

}  // namespace

TEST_CASE("critical path: a collective waits for its slowest peer", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  StepResult r = dp_records(w);
  CriticalPath path = find_critical_path(w, r);
  REQUIRE(path.steps.size() == 3);
  check_step(path.steps[0], 1, 0, 0, 3, CriticalKind::compute);
  CHECK(path.steps[0].resource == "rank 1 compute");
  check_step(path.steps[1], 0, 1, 3, 5, CriticalKind::communication);
  CHECK(path.steps[1].resource == "dp communication");
  check_step(path.steps[2], 0, 2, 5, 6, CriticalKind::compute);
  CHECK(path.covered() == Approx(r.step_time));
}

TEST_CASE("critical path: communication is charged to the busiest link of its ring", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  StepResult r = dp_records(w);
  const ClusterGraph g = free4();
  // Without link usage, the slowest route link (all equal here: the lowest id, gpu0 -> nvswitch).
  CriticalPath path = find_critical_path(w, r, &g);
  REQUIRE(path.steps.size() == 3);
  CHECK(path.steps[1].resource == "nvlink " + g.links()[static_cast<size_t>(g.route(0, 1)[0])].name);
  // With usage, the link that was busiest wins even when it is not the slowest.
  const std::string busy = g.links()[static_cast<size_t>(g.route(2, 3)[1])].name;
  r.links = {{g.links()[static_cast<size_t>(g.route(0, 1)[0])].name, 1e18, 1, 0.2, {}}, {busy, 1e18, 1, 0.7, {}}};
  path = find_critical_path(w, r, &g);
  CHECK(path.steps[1].resource == "nvlink " + busy);
}

TEST_CASE("critical path: a pipeline recv goes back to the matching send", "[critical_path]") {
  Workload w = workload(R"("pp": 2, "dp": 2)");
  RankProgram first, second;
  first.add(compute());                                   // 0: forward of micro-batch 0
  first.add(comm(OpKind::send, Group::pp_next, {0}));     // 1: its activation
  first.add(compute({0}));                                // 2: forward of micro-batch 1
  first.add(comm(OpKind::send, Group::pp_next, {2}));     // 3
  second.add(comm(OpKind::recv, Group::pp_prev, {}));     // 0: receives send 1
  second.add(compute({0}));                               // 1
  second.add(comm(OpKind::recv, Group::pp_prev, {}));     // 2: receives send 3
  second.add(compute({1, 2}));                            // 3
  w.stages = {first, second};
  REQUIRE(w.layout.group_members(Group::pp_prev, 2) == std::vector<int>{0});
  StepResult r;
  r.step_time = 7;
  r.records = {{0, 0, Stream::compute, 0, 2}, {0, 1, Stream::pp, 2, 2}, {0, 2, Stream::compute, 2, 5},
               {0, 3, Stream::pp, 5, 5},      {2, 0, Stream::pp, 0, 2.5}, {2, 1, Stream::compute, 2.5, 4},
               {2, 2, Stream::pp, 2.5, 5.5},  {2, 3, Stream::compute, 5.5, 7}};
  r.recorded_ranks = {0, 2};
  CriticalPath path = find_critical_path(w, r);
  // 7 <- rank 2 op 3 [5.5, 7] <- recv op 2 (rank 2 waited since 2.5; send 3 started at 5) [5, 5.5]
  //   <- send 3 <- rank 0 op 2 [2, 5] <- rank 0 op 0 [0, 2].
  REQUIRE(path.steps.size() == 4);
  check_step(path.steps[0], 0, 0, 0, 2, CriticalKind::compute);
  check_step(path.steps[1], 0, 2, 2, 5, CriticalKind::compute);
  check_step(path.steps[2], 2, 2, 5, 5.5, CriticalKind::communication);
  check_step(path.steps[3], 2, 3, 5.5, 7, CriticalKind::compute);
  CHECK(path.covered() == Approx(7));
}

TEST_CASE("critical path: time no predecessor explains is a wait", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  RankProgram p;
  p.add(compute());
  p.add(compute());
  w.stages = {p};
  StepResult r;
  r.step_time = 5;
  r.records = {{0, 0, Stream::compute, 1, 2}, {0, 1, Stream::compute, 3, 4}};
  r.recorded_ranks = {0};
  CriticalPath path = find_critical_path(w, r);
  // wait [0,1], op 0 [1,2], wait [2,3], op 1 [3,4], wait [4,5] (ranks that were not recorded).
  REQUIRE(path.steps.size() == 5);
  check_step(path.steps[0], 0, 0, 0, 1, CriticalKind::wait);
  check_step(path.steps[1], 0, 0, 1, 2, CriticalKind::compute);
  check_step(path.steps[2], 0, 1, 2, 3, CriticalKind::wait);
  check_step(path.steps[3], 0, 1, 3, 4, CriticalKind::compute);
  check_step(path.steps[4], 0, 1, 4, 5, CriticalKind::wait);
  CHECK(path.covered() == Approx(5));
}

TEST_CASE("critical path: a compute op follows the dependency that released it", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  RankProgram p;
  p.add(compute());                                       // 0 [0, 2]
  p.add(comm(OpKind::all_gather, Group::dp, {}));         // 1 [0, 4] on the dp stream
  p.add(compute({1}));                                    // 2 [4, 5]: released by op 1, not by op 0
  w.stages = {p};
  StepResult r;
  r.step_time = 5;
  for (int rank = 0; rank < 4; ++rank) {
    r.records.push_back({rank, 0, Stream::compute, 0, 2});
    r.records.push_back({rank, 1, Stream::dp, 0, 4});
    r.records.push_back({rank, 2, Stream::compute, 4, 5});
  }
  CriticalPath path = find_critical_path(w, r);
  REQUIRE(path.steps.size() == 2);
  check_step(path.steps[0], 0, 1, 0, 4, CriticalKind::communication);
  check_step(path.steps[1], 0, 2, 4, 5, CriticalKind::compute);
}

TEST_CASE("bottlenecks: resources ranked by time on the path, with their utilization", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  StepResult r = dp_records(w);
  const ClusterGraph g = free4();
  const std::string link = g.links()[static_cast<size_t>(g.route(0, 1)[0])].name;
  r.links = {{link, 1e18, 1, 0.25, {}}};
  const CriticalPath path = find_critical_path(w, r, &g);
  const std::vector<Bottleneck> list = rank_bottlenecks(path, r);
  // Path: rank 1 compute [0, 3], the all-reduce [3, 5] on the busiest ring link, rank 0 compute [5, 6].
  REQUIRE(list.size() == 3);
  CHECK(list[0].resource == "rank 1 compute");
  CHECK(list[0].critical_path_fraction == Approx(3.0 / 6));
  CHECK(*list[0].utilization == Approx(4.0 / 6));  // rank 1's kernels: [0, 3] and [5, 6] of 6 s
  CHECK(list[1].resource == "nvlink " + link);
  CHECK(list[1].critical_path_fraction == Approx(2.0 / 6));
  CHECK(*list[1].utilization == Approx(0.25));
  CHECK(list[2].resource == "rank 0 compute");
  CHECK(list[2].critical_path_fraction == Approx(1.0 / 6));
  CHECK(*list[2].utilization == Approx(2.0 / 6));  // rank 0's kernels: [0, 1] and [5, 6]
  CHECK(describe(list[1]) == "nvlink " + link + ": 33.3 % of the critical path, 25.0 % busy");
  const auto j = bottlenecks_json(list, 2);
  REQUIRE(j.size() == 2);
  CHECK(j[1]["utilization"].get<double>() == Approx(0.25));
  CHECK(j[0]["critical_path_s"].get<double>() == Approx(3));
}

TEST_CASE("critical path JSON: segments per rank visit, the longest kept in time order", "[critical_path]") {
  Workload w = workload(R"("dp": 4)");
  StepResult r = dp_records(w);
  const CriticalPath path = find_critical_path(w, r);
  // Visits: rank 1 [0, 3] (compute), rank 0 [3, 6] (all-reduce 2 s + compute 1 s).
  const auto segments = merge_segments(path);
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].rank == 0);
  CHECK(segments[1].communication == Approx(2));
  CHECK(segments[1].compute == Approx(1));
  CHECK(segments[1].resource == "dp communication");
  const auto j = critical_path_json(path, 1);
  CHECK(j["length_s"].get<double>() == Approx(6));
  CHECK(j["compute_s"].get<double>() == Approx(4));
  CHECK(j["communication_s"].get<double>() == Approx(2));
  CHECK(j["segments"].get<size_t>() == 2);
  CHECK(j["omitted_segments"].get<size_t>() == 1);
  REQUIRE(j["steps"].size() == 1);
  CHECK(j["steps"][0]["rank"].get<int>() == 1);  // both last 3 s: the first one stays
  CHECK(j["omitted_s"].get<double>() == Approx(3));
}

TEST_CASE("link names: SimGrid's split-duplex halves read like ClusterGraph links", "[critical_path]") {
  // The path charges communication to ClusterGraph link names and looks their usage up by name.
  CHECK(LinkSampler::readable_name("n0.gpu0--n0.nvswitch_UP") == "n0.gpu0->n0.nvswitch");
  CHECK(LinkSampler::readable_name("n0.gpu0--n0.nvswitch_DOWN") == "n0.nvswitch->n0.gpu0");
  CHECK(LinkSampler::readable_name("fabric.group1.rails--fabric.spine_UP") == "fabric.group1.rails->fabric.spine");
  CHECK(LinkSampler::readable_name("loopback") == "loopback");
  const ClusterGraph g = free4();
  for (size_t id = 0; id < g.links().size(); id += 2) {
    const ClusterLink& l = g.links()[id];
    const std::string duplex = g.vertex_name(l.from) + "--" + g.vertex_name(l.to);  // cluster/platform.cpp
    CHECK(LinkSampler::readable_name(duplex + "_UP") == l.name);
    CHECK(LinkSampler::readable_name(duplex + "_DOWN") == g.links()[id + 1].name);
  }
}
