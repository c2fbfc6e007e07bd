// Pipeline schedules against numbers worked out by hand: Megatron-LM's warm-up counts, the
// activation-memory factors of memory.md §2.4 (Megatron's theoretical_memory_usage), the
// classic bubble fractions, and a tiny event loop that runs all ranks together.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

#include "workload/pipeline_schedule.h"

using namespace stepsim;

namespace {

constexpr auto F = PipelineStep::forward;
constexpr auto B = PipelineStep::backward;
const PipelineSchedule gpipe = PipelineSchedule::gpipe;
const PipelineSchedule one_f_one_b = PipelineSchedule::one_f_one_b;
const PipelineSchedule interleaved = PipelineSchedule::interleaved;

struct Shape {
  PipelineSchedule schedule;
  int p, v, m;
};

// The shapes of the dependency test: p in {1,2,4,8}, v in {1,2,4}, m in {p,2p,4p}; v = 1
// with gpipe and 1F1B, v > 1 with interleaved.
std::vector<Shape> all_shapes() {
  std::vector<Shape> shapes;
  for (int p : {1, 2, 4, 8})
    for (int k : {1, 2, 4}) {
      shapes.push_back({gpipe, p, 1, k * p});
      shapes.push_back({one_f_one_b, p, 1, k * p});
      for (int v : {2, 4}) shapes.push_back({interleaved, p, v, k * p});
    }
  return shapes;
}

std::string describe(const Shape& s) {
  return to_string(s.schedule) + " p=" + std::to_string(s.p) + " v=" + std::to_string(s.v) +
         " m=" + std::to_string(s.m);
}

// Runs every rank's order with forward `tf` and backward `tb` time units per chunk-pass. A
// pass starts when its rank is free and its input exists: forward of micro-batch i on virtual
// stage s needs stage s-1's forward of i; backward needs stage s+1's backward of i (the last
// stage: its own forward). Virtual stage s = chunk·p + rank. Sends are free and buffered.
// Returns the makespan, or -1 when no rank can move (deadlock).
int simulate(const Shape& sh, int tf, int tb) {
  const int stages = sh.p * sh.v;
  std::vector<std::vector<PipelineStep>> orders;
  size_t remaining = 0;
  for (int r = 0; r < sh.p; ++r) {
    orders.push_back(pipeline_order(sh.schedule, sh.p, sh.v, sh.m, r));
    remaining += orders.back().size();
  }
  // End time of each pass, -1 until it has run.
  std::vector<std::vector<int>> fwd_end(stages, std::vector<int>(sh.m, -1)), bwd_end = fwd_end;
  std::vector<size_t> next(sh.p, 0);
  std::vector<int> free_at(sh.p, 0);
  while (remaining > 0) {
    bool moved = false;
    for (int r = 0; r < sh.p; ++r) {
      for (; next[r] < orders[r].size(); ++next[r], --remaining, moved = true) {
        const PipelineStep& st = orders[r][next[r]];
        const int s = st.chunk * sh.p + r, i = st.micro_batch;
        const bool fwd = st.kind == F;
        const int input = fwd ? (s == 0 ? 0 : fwd_end[s - 1][i])
                              : (s == stages - 1 ? fwd_end[s][i] : bwd_end[s + 1][i]);
        if (input < 0) break;
        free_at[r] = std::max(input, free_at[r]) + (fwd ? tf : tb);
        (fwd ? fwd_end : bwd_end)[s][i] = free_at[r];
      }
    }
    if (!moved) return -1;
  }
  return *std::max_element(free_at.begin(), free_at.end());
}

}  // namespace

TEST_CASE("every (micro-batch, chunk) runs forward once, then backward once", "[pipeline]") {
  for (const Shape& sh : all_shapes())
    for (int r = 0; r < sh.p; ++r) {
      INFO(describe(sh) << " rank " << r);
      std::set<std::pair<int, int>> forwarded, backwarded;
      const auto order = pipeline_order(sh.schedule, sh.p, sh.v, sh.m, r);
      CHECK(order.size() == static_cast<size_t>(2 * sh.m * sh.v));
      for (const PipelineStep& st : order) {
        REQUIRE(st.micro_batch >= 0);
        REQUIRE(st.micro_batch < sh.m);
        REQUIRE(st.chunk >= 0);
        REQUIRE(st.chunk < sh.v);
        const std::pair<int, int> key{st.micro_batch, st.chunk};
        if (st.kind == F) {
          CHECK(forwarded.insert(key).second);
        } else {
          CHECK(forwarded.count(key) == 1);  // its forward ran before
          CHECK(backwarded.insert(key).second);
        }
      }
      CHECK(forwarded.size() == static_cast<size_t>(sh.m * sh.v));
      CHECK(backwarded.size() == static_cast<size_t>(sh.m * sh.v));
    }
}

TEST_CASE("1F1B, p = 2, m = 4: Megatron's order written out", "[pipeline]") {
  // Rank 0 warms up with p - 0 - 1 = 1 forward, then F(i+1) B(i), then cools down.
  const std::vector<PipelineStep> rank0 = {{F, 0, 0}, {F, 1, 0}, {B, 0, 0}, {F, 2, 0},
                                           {B, 1, 0}, {F, 3, 0}, {B, 2, 0}, {B, 3, 0}};
  // The last rank has no warm-up: forward and backward alternate.
  const std::vector<PipelineStep> rank1 = {{F, 0, 0}, {B, 0, 0}, {F, 1, 0}, {B, 1, 0},
                                           {F, 2, 0}, {B, 2, 0}, {F, 3, 0}, {B, 3, 0}};
  CHECK(pipeline_order(one_f_one_b, 2, 1, 4, 0) == rank0);
  CHECK(pipeline_order(one_f_one_b, 2, 1, 4, 1) == rank1);
}

TEST_CASE("interleaved, p = 2, v = 2, m = 4: Megatron's order written out", "[pipeline]") {
  // Megatron's schedule table (groups of p = 2 micro-batches through chunk 0, then chunk 1):
  //   k          0 1 2 3 4 5 6 7
  //   micro-batch 0 1 0 1 2 3 2 3
  //   chunk       0 0 1 1 0 0 1 1      (backward k: same micro-batch, chunk 1 - chunk)
  // Rank 0 warm-up: (2 - 0 - 1)·2 + (2 - 1)·2 = 4 chunk-forwards (k = 0..3); then 4 steady
  // pairs F(k+4) B(k); then cool-down B(4..7).
  const std::vector<PipelineStep> rank0 = {
      {F, 0, 0}, {F, 1, 0}, {F, 0, 1}, {F, 1, 1},                         // warm-up
      {F, 2, 0}, {B, 0, 1}, {F, 3, 0}, {B, 1, 1},                         // steady
      {F, 2, 1}, {B, 0, 0}, {F, 3, 1}, {B, 1, 0},                         //
      {B, 2, 1}, {B, 3, 1}, {B, 2, 0}, {B, 3, 0}};                        // cool-down
  CHECK(pipeline_order(interleaved, 2, 2, 4, 0) == rank0);
  // Rank 1 warm-up: 0·2 + 1·2 = 2; then 6 steady pairs F(k+2) B(k); cool-down B(6), B(7).
  const std::vector<PipelineStep> rank1 = {
      {F, 0, 0}, {F, 1, 0},                                               // warm-up
      {F, 0, 1}, {B, 0, 1}, {F, 1, 1}, {B, 1, 1}, {F, 2, 0}, {B, 0, 0},   // steady
      {F, 3, 0}, {B, 1, 0}, {F, 2, 1}, {B, 2, 1}, {F, 3, 1}, {B, 3, 1},   //
      {B, 2, 0}, {B, 3, 0}};                                              // cool-down
  CHECK(pipeline_order(interleaved, 2, 2, 4, 1) == rank1);
}

TEST_CASE("GPipe: all forwards, then all backwards in the same order", "[pipeline]") {
  const std::vector<PipelineStep> order = {{F, 0, 0}, {F, 1, 0}, {F, 2, 0}, {B, 0, 0}, {B, 1, 0}, {B, 2, 0}};
  for (int r = 0; r < 4; ++r) CHECK(pipeline_order(gpipe, 4, 1, 3, r) == order);
}

TEST_CASE("activations in flight: 1F1B min(p, m) on stage 0 and 1 on the last, GPipe m", "[pipeline]") {
  for (int p : {1, 2, 4, 8})
    for (int m : {1, 2, 3, 4, 8, 16, 32}) {
      INFO("p=" << p << " m=" << m);
      CHECK(max_in_flight(pipeline_order(one_f_one_b, p, 1, m, 0)) == std::min(p, m));
      CHECK(max_in_flight(pipeline_order(one_f_one_b, p, 1, m, p - 1)) == 1);
      for (int r = 0; r < p; ++r) {
        // Rank r holds p - r: its warm-up of p - r - 1 plus the steady forward.
        CHECK(max_in_flight(pipeline_order(one_f_one_b, p, 1, m, r)) == std::min(p - r, m));
        CHECK(max_in_flight(pipeline_order(gpipe, p, 1, m, r)) == m);
      }
    }
}

TEST_CASE("interleaved stage 0 holds p·(1 + (p-1)/(p·v)) stages of activations", "[pipeline]") {
  // p = 4, v = 2, m = 8: warm-up 2·3 + 1·4 = 10 chunk-forwards of 16, the first steady forward
  // makes 11 before the first backward, and F/B pairs keep it there. 11 chunks / v = 5.5
  // stages = 4·(1 + 3/8).
  CHECK(max_in_flight(pipeline_order(interleaved, 4, 2, 8, 0)) == 11);
  CHECK(11.0 / 2 == Approx(4 * (1 + 3.0 / 8)));
  // p = 8, v = 4, m = 16: warm-up 2·7 + 3·8 = 38 of 64, peak 39; 39 / 4 = 9.75 = 8·(1 + 7/32).
  CHECK(max_in_flight(pipeline_order(interleaved, 8, 4, 16, 0)) == 39);
  CHECK(39.0 / 4 == Approx(8 * (1 + 7.0 / 32)));
  // In general (m ≥ 2p): 2(p-1) + (v-1)p + 1 = vp + p - 1 chunks.
  for (int p : {2, 4, 8})
    for (int v : {2, 3, 4})
      for (int m : {2 * p, 4 * p}) {
        INFO("p=" << p << " v=" << v << " m=" << m);
        const int chunks = max_in_flight(pipeline_order(interleaved, p, v, m, 0));
        CHECK(chunks == v * p + p - 1);
        CHECK(double(chunks) / v == Approx(p * (1 + (p - 1.0) / (p * v))));
      }
  // m = p: stage 0's warm-up (vp + p - 2 ≥ vp) covers everything, as in GPipe: all m·v alive.
  CHECK(max_in_flight(pipeline_order(interleaved, 4, 2, 4, 0)) == 8);
}

TEST_CASE("all ranks together never deadlock; uniform passes give the textbook bubble", "[pipeline]") {
  // Forward 1 unit, backward 2 units per chunk-pass. GPipe and 1F1B: the first micro-batch's
  // forward reaches the last stage after p-1 forwards and its backward returns after p-1
  // backwards, so the makespan is (m + p - 1)·3 and the bubble (p-1)/(m+p-1).
  // Interleaved: a chunk-pass is 1/v of a stage, so the fill and drain shrink to (p-1)·3
  // chunk units while the work is m·v·3: makespan 3(m·v + p - 1), bubble (p-1)/(m·v + p - 1),
  // exactly (Narayanan et al. 2021's (p-1)/(v·m) bubble-to-work ratio).
  for (const Shape& sh : all_shapes()) {
    INFO(describe(sh));
    const int makespan = simulate(sh, 1, 2);
    REQUIRE(makespan > 0);
    const int work = 3 * sh.m * sh.v;
    CHECK(makespan == 3 * (sh.m * sh.v + sh.p - 1));
    CHECK(double(makespan - work) / makespan == Approx(double(sh.p - 1) / (sh.m * sh.v + sh.p - 1)));
  }
}

TEST_CASE("pipeline_order rejects shapes Megatron does not run", "[pipeline]") {
  CHECK_THROWS_AS(pipeline_order(one_f_one_b, 4, 2, 8, 0), std::invalid_argument);  // vp > 1
  CHECK_THROWS_AS(pipeline_order(gpipe, 4, 2, 8, 0), std::invalid_argument);
  CHECK_THROWS_AS(pipeline_order(interleaved, 4, 2, 6, 0), std::invalid_argument);  // 6 % 4
  CHECK_THROWS_AS(pipeline_order(one_f_one_b, 4, 1, 8, 4), std::invalid_argument);  // rank
  CHECK_THROWS_AS(pipeline_order(one_f_one_b, 4, 1, 0, 0), std::invalid_argument);
  // vp = 1 is no virtual pipeline: interleaved runs 1F1B.
  CHECK(pipeline_order(interleaved, 4, 1, 8, 1) == pipeline_order(one_f_one_b, 4, 1, 8, 1));
}
