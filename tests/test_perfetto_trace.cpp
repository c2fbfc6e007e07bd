// The Perfetto trace writer and the timeline SVG on a hand-built two-stage pipeline whose
// record is typed in by hand: exact microsecond text, the send→recv pairing, flows, async
// transfers, memory counters against the overheads file, the critical-path track, the rank
// list parser and deterministic gzip output. The importer rules themselves are checked on real
// traces by tools/check_trace.py (tests/trace_checks.sh).
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "report/perfetto_trace.h"
#include "report/timeline_svg.h"
#include "scenario/scenario.h"
#include "workload/memory_timeline.h"
#include "scenario_inputs.h"

using namespace stepsim;
using stepsim::test_inputs::shipped_overheads;

namespace {

const std::string kFree4 = std::string(STEPSIM_TEST_DATA_DIR) + "/engine/free4.json";
constexpr double kGiB = 1024.0 * 1024 * 1024;

Scenario pipeline_scenario() {
  const std::string text = R"({"cluster": {"topology": ")" + kFree4 +
                           R"("}, "model": {"arch": "llama", "layers": 4, "hidden": 256, "heads": 4,
                               "ffn_hidden": 512, "vocab": 64},
                           "training": {"seq_len": 128, "global_batch": 8, "micro_batch": 1, "pp": 2, "dp": 2}})";
  return test_inputs::scenario_from_text(text, {}, "trace.json");
}

Op compute(Phase phase, double flops, std::vector<MemoryEffect> at_start = {}, std::vector<MemoryEffect> at_end = {}) {
  Op op;
  op.kind = OpKind::qkv_proj;
  op.phase = phase;
  op.flops = flops;
  op.layer = 0;
  op.micro_batch = 0;
  op.at_start = std::move(at_start);
  op.at_end = std::move(at_end);
  return op;
}

Op pipe(OpKind kind, Group group, Phase phase) {
  Op op;
  op.kind = kind;
  op.group = group;
  op.phase = phase;
  op.stream = Stream::pp;
  op.bytes = 1e6;
  op.micro_batch = 0;
  return op;
}

// Stage 0 (ranks 0, 1): forward, send activations, wait for gradients, backward.
// Stage 1 (ranks 2, 3): wait for activations, forward, backward, send gradients.
Workload pipeline_workload(const Scenario& s) {
  Workload w = build_workload(s, shipped_overheads());
  w.stages[0].ops = {compute(Phase::forward, 1e12, {{MemCategory::activations, kGiB}}),
                     pipe(OpKind::send, Group::pp_next, Phase::forward),
                     pipe(OpKind::recv, Group::pp_next, Phase::backward),
                     compute(Phase::backward, 1e12, {}, {{MemCategory::activations, -kGiB}})};
  w.stages[1].ops = {pipe(OpKind::recv, Group::pp_prev, Phase::forward), compute(Phase::forward, 1e12),
                     compute(Phase::backward, 1e12), pipe(OpKind::send, Group::pp_prev, Phase::backward)};
  return w;
}

StepResult pipeline_record() {
  StepResult r;
  r.step_time = 0.005;
  r.recorded_ranks = {0, 2};
  r.records = {{0, 0, Stream::compute, 0, 0.0010005},     {0, 1, Stream::pp, 0.0010005, 0.0010005},
               {0, 2, Stream::pp, 0.0010005, 0.004},      {0, 3, Stream::compute, 0.004, 0.005},
               {2, 0, Stream::pp, 0, 0.0015},             {2, 1, Stream::compute, 0.0015, 0.0025},
               {2, 2, Stream::compute, 0.0025, 0.0035},   {2, 3, Stream::pp, 0.0035, 0.0035}};
  return r;
}

nlohmann::json trace_of(const Scenario& s, const Workload& w, const StepResult& r, const CriticalPath& path,
                        std::string* text = nullptr) {
  const MemoryOverheads o = shipped_overheads();
  const std::string json = perfetto_trace_json({s, w, o, r, path, {}});
  if (text) *text = json;
  return nlohmann::json::parse(json);
}

std::vector<nlohmann::json> events(const nlohmann::json& trace, const std::string& ph, int pid = 0) {
  std::vector<nlohmann::json> out;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == ph && (pid == 0 || e["pid"] == pid)) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("trace: GPU processes, stream threads and slices in exact microseconds", "[trace]") {
  const Scenario s = pipeline_scenario();
  const Workload w = pipeline_workload(s);
  const StepResult r = pipeline_record();
  std::string text;
  const nlohmann::json t = trace_of(s, w, r, {}, &text);
  // pid = rank + 1; free4 has 4 GPUs on one node, so rank 2 is GPU 2 of node 0.
  CHECK(text.find(R"({"ph":"M","pid":3,"name":"process_name","args":{"name":"node 0 · GPU 2 · )" + s.gpu.id + "\"}}") !=
        std::string::npos);
  CHECK(text.find(R"({"ph":"M","pid":1,"tid":4,"name":"thread_name","args":{"name":"comm-pp"}})") != std::string::npos);
  // The forward kernel: 0 → 1000.5 µs, 1 TFLOP in 1.0005 ms = 999.500 TFLOP/s.
  CHECK(text.find(R"("ts":0.000,"dur":1000.500,"name":"qkv_proj","cat":"forward")") != std::string::npos);
  CHECK(text.find(R"("achieved TFLOP/s":999.500)") != std::string::npos);
  CHECK(text.find(R"("ts":4000.000,"dur":1000.000,"name":"qkv_proj bwd")") != std::string::npos);
  for (const auto& e : t["traceEvents"]) {
    if (e.contains("tid")) CHECK(e["tid"].get<int>() > 0);
  }
  // 8 op slices + 2 "arrived" slices where the pipeline arrows end.
  CHECK(events(t, "X").size() == 10);
  CHECK(t["metadata"]["stepsim"]["counts"]["slices"] == 10);
  CHECK(t["metadata"]["stepsim"]["ranks"] == nlohmann::json::array({0, 2}));
}

TEST_CASE("trace: pipeline sends pair with the peer's receives, as flows and async transfers", "[trace]") {
  const Scenario s = pipeline_scenario();
  const Workload w = pipeline_workload(s);
  const StepResult r = pipeline_record();
  const auto pairs = match_pipeline_transfers(w, r);
  REQUIRE(pairs.size() == 2);
  CHECK((pairs[0].send->rank == 0 && pairs[0].send->op == 1 && pairs[0].recv->rank == 2 && pairs[0].recv->op == 0));
  CHECK((pairs[1].send->rank == 2 && pairs[1].send->op == 3 && pairs[1].recv->rank == 0 && pairs[1].recv->op == 2));

  const nlohmann::json t = trace_of(s, w, r, {});
  // In flight from the send (1000.5 µs) to the end of the receive (1500 µs), on the sender.
  const auto begins = events(t, "b");
  REQUIRE(begins.size() == 2);
  CHECK(begins[0]["pid"] == 1);
  CHECK(begins[0]["ts"].get<double>() == Approx(1000.5));
  CHECK(events(t, "e")[0]["ts"].get<double>() == Approx(1500.0));
  // Flow: out of the send slice, into a zero-length "arrived" slice at the receive's end.
  std::map<int64_t, std::vector<nlohmann::json>> flows;
  for (const auto& e : events(t, "X"))
    if (e.contains("bind_id")) flows[e["bind_id"].get<int64_t>()].push_back(e);
  REQUIRE(flows.size() == 2);
  for (auto& [id, ends] : flows) {
    REQUIRE(ends.size() == 2);
    const auto& out = ends[0].contains("flow_out") ? ends[0] : ends[1];
    const auto& in = ends[0].contains("flow_out") ? ends[1] : ends[0];
    CHECK(out["name"] == "send");
    CHECK(in["name"] == "arrived");
    CHECK(in["ts"].get<double>() > out["ts"].get<double>());
  }
  CHECK(t["metadata"]["stepsim"]["counts"]["flows"] == 2);
}

TEST_CASE("trace: memory in use follows the ops' allocations, framework from the overheads file", "[trace]") {
  const Scenario s = pipeline_scenario();
  const Workload w = pipeline_workload(s);
  const nlohmann::json t = trace_of(s, w, pipeline_record(), {});
  const auto counters = events(t, "C", 1);
  REQUIRE(counters.size() == 2);  // the allocation at 0 and the free at 5000 µs
  const MemoryOverheads o = shipped_overheads();
  // Context + one NCCL buffer set per communicator (pp and dp: 2), plus the allocator reserve.
  const double fixed = o.cuda_context_bytes + 2 * o.nccl_bytes_per_communicator;
  CHECK(counters[0]["ts"].get<double>() == 0);
  CHECK(counters[0]["args"]["activations"].get<double>() == Approx(1.0).margin(1e-6));
  CHECK(counters[0]["args"]["framework"].get<double>() ==
        Approx((fixed + kGiB * o.allocator_reserve_fraction) / kGiB).margin(1e-6));
  CHECK(counters[1]["ts"].get<double>() == Approx(5000.0));
  CHECK(counters[1]["args"]["activations"].get<double>() == Approx(0).margin(1e-6));
  CHECK(counters[1]["args"]["total"].get<double>() == Approx(fixed / kGiB).margin(1e-6));
}

TEST_CASE("trace: the critical path gets its own track and one flow chain where it hops", "[trace]") {
  const Scenario s = pipeline_scenario();
  const Workload w = pipeline_workload(s);
  const StepResult r = pipeline_record();
  CriticalPath path;
  for (const ActivityRecord& a : r.records) path.steps.push_back({a.rank, a.op, a.stream, a.start, a.end, "x"});
  std::sort(path.steps.begin(), path.steps.end(), [](const CriticalStep& a, const CriticalStep& b) {
    return std::tie(a.start, a.end, a.rank) < std::tie(b.start, b.end, b.rank);
  });
  const nlohmann::json t = trace_of(s, w, r, path);
  const int cp_pid = 4 + 1;  // world size + 1
  CHECK(events(t, "X", cp_pid).size() == path.steps.size());
  std::vector<std::pair<int, int>> chain;  // (rank, op index) of the bound GPU slices, in time order
  for (const auto& e : events(t, "X"))
    if (e.contains("bind_id") && e["bind_id"] == 1) chain.push_back({e["args"]["rank"], e["args"]["op_index"]});
  std::sort(chain.begin(), chain.end(), [&](auto a, auto b) {
    auto start = [&](std::pair<int, int> k) {
      for (const ActivityRecord& x : r.records)
        if (x.rank == k.first && x.op == static_cast<uint32_t>(k.second)) return x.start;
      return -1.0;
    };
    return start(a) < start(b);
  });
  // Runs: r0 compute | r2 pp | r0 pp (send) | r2 compute ×2 | r2 pp (send) | r0 pp | r0 compute.
  // Links at or before the previous link's time are skipped (the importer binds in time order).
  const std::vector<std::pair<int, int>> expected = {{0, 0}, {0, 1}, {2, 1}, {2, 2}, {2, 3}, {0, 3}};
  CHECK(chain == expected);
}

TEST_CASE("trace: --trace-ranks lists and ranges", "[trace]") {
  auto ok = parse_rank_list("6,0-3,2", 8, "--trace-ranks");
  REQUIRE(ok.ok());
  CHECK(ok.value() == std::vector<int>{0, 1, 2, 3, 6});
  CHECK(parse_rank_list("0-7,64", 65, "--trace-ranks").value().size() == 9);
  for (const char* bad : {"", "8", "0-8", "7-2", "a", "1,,2", "-3", "1-", "0-7,64"}) {
    INFO(bad);
    auto r = parse_rank_list(bad, 8, "--trace-ranks");
    REQUIRE_FALSE(r.ok());
    CHECK(r.errors().items()[0].path == "--trace-ranks");
  }
  StepResult folded;
  folded.recorded_ranks = {0, 1};
  CHECK_FALSE(select_traced_ranks(folded, {5}, 0, "--trace-ranks").ok());
  CHECK(select_traced_ranks(folded, {}, 1, "--trace-ranks").value() == std::vector<int>{0});
}

TEST_CASE("trace: .gz output is deterministic gzip of the same bytes", "[trace]") {
  const std::string text = std::string(5000, 'x') + "{\"traceEvents\":[]}";
  const std::string path = "stepsim_test_trace.json.gz";
  std::string first;
  for (int round = 0; round < 2; ++round) {
    REQUIRE(write_output_file(path, text, "--trace").ok());
    std::ifstream in(path, std::ios::binary);
    const std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(gz.size() > 18);
    CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
    CHECK(gz.substr(4, 4) == std::string(4, '\0'));  // no modification time
    if (round == 0) first = gz;
    else CHECK(gz == first);
  }
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f);
  std::string back(text.size() + 10, '\0');
  const int n = gzread(f, back.data(), static_cast<unsigned>(back.size()));
  gzclose(f);
  CHECK(back.substr(0, static_cast<size_t>(n)) == text);
  std::remove(path.c_str());
  CHECK_FALSE(write_output_file("/nonexistent-dir/t.json", text, "--trace").ok());
}

TEST_CASE("timeline SVG: a lane per rank and stream, kinds coloured, critical path outlined", "[trace]") {
  const Scenario s = pipeline_scenario();
  const Workload w = pipeline_workload(s);
  const StepResult r = pipeline_record();
  CriticalPath path;
  path.steps.push_back({2, 1, Stream::compute, 0.0015, 0.0025, "rank 2 compute"});
  const std::string svg = timeline_svg({s, w, r, path, {}});
  for (const char* lane : {R"(data-rank="0" data-stream="compute")", R"(data-rank="0" data-stream="comm-pp")",
                           R"(data-rank="2" data-stream="compute")", R"(data-rank="2" data-stream="comm-pp")"})
    CHECK(svg.find(lane) != std::string::npos);
  size_t lanes = 0;
  for (size_t at = svg.find("class=\"lane\""); at != std::string::npos; at = svg.find("class=\"lane\"", at + 1)) ++lanes;
  CHECK(lanes == 4);
  // The 5 ms step on the 1010-pixel plot: rank 2's forward kernel 1.5–2.5 ms is pixels 303–505.
  CHECK(svg.find(R"(<rect class="fwd" x="303" width="202")") != std::string::npos);
  CHECK(svg.find(R"(<rect class="crit" x="303.0" y="0.5" width="202.0")") != std::string::npos);
  CHECK(svg.find("time since the step started (ms)") != std::string::npos);
}
