// Memory accuracy on real measurements: the peak-memory and fits/oom rows of the published-runs
// file (tests/data/published-runs.csv, docs/formats/published-runs.md). The goal is a median
// absolute error of at most 10 % and every verdict right; it is NOT reached yet (not modelled:
// caching-allocator growth that fills a card, FSDP CPU-offload gathers with QLoRA, per-framework
// kernel fusion; see docs/validation.md). Until it is, this test guards against regressions from the
// recorded figures (kRecorded*) and prints every row. Predictions never read measured_value
// (published_runs.h); it is read here only to score. Framework recipes (framework_recipes.h:
// pure bf16, the loss kernel, checkpoint offload, optimizer in backward) took the median from
// 27.8 % to 15.3 % and the wrong verdicts from 7 of 9 scored to 5 of 23 (the VRAM-budget rows of
// Unsloth's table now count, with the budget as the card's capacity). Gradients set to None,
// the FSDP root unit, torchtitan's per-op checkpointing, compiled chunked cross-entropy, fused
// optimizer steps, LoRA dropout and the allocated-memory units took them to 13.0 % and 3 of 23.
// Unsloth's 8-bit AdamW and pre-CCE loss, fp32 LoRA bases (PEFT scripts), torchtune's chunked CE
// and separately sharded embeddings, and paged optimizers took them to 11.3 % and 1 of 23; FSDP's
// fp32 sharded parameters as the master copy and torchtitan's compiled loss to 9.1 % and 2 of 23;
// LitGPT's multi-GPU FSDP (frozen weights with gradients, no_sync accumulation) to 9.0 % and 1 of 23.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "report/validation_summary.h"
#include "scenario/published_runs.h"
#include "workload/memory_verdict.h"

using namespace stepsim;

namespace {

struct Scored {
  std::string id, metric;
  double measured = 0, predicted = 0;
  bool verdict_right = true;
};

std::vector<Scored> score_memory_rows() {
  auto rows = read_published_runs(STEPSIM_TEST_DATA_DIR "/published-runs.csv");
  REQUIRE(rows.ok());
  auto catalog = load_run_catalog();
  REQUIRE(catalog.ok());
  std::vector<Scored> scored;
  for (const PublishedRun& row : rows.value()) {
    const bool peak = row.metric == "peak_mem_gib" || row.metric == "peak_mem_gb";
    const bool verdict = row.metric == "fits" || row.metric == "oom";
    if (!peak && !verdict) continue;
    RunScenario rs = scenario_for_run(row, catalog.value());
    if (!rs.scenario) continue;  // skipped rows are listed by the validate command
    auto v = evaluate_memory(*rs.scenario, false);
    REQUIRE(v.ok());
    Scored s{row.id, row.metric, row.measured_value, 0, true};
    const bool allocated = measures_allocated_memory(row.cell("measured_unit"));
    const RankMemory& worst = v.value().worst;
    if (row.metric == "peak_mem_gib")
      s.predicted = (allocated ? worst.peak_tensor_bytes : worst.peak_reserved_bytes) / (1024.0 * 1024 * 1024);
    if (row.metric == "peak_mem_gb") s.predicted = (allocated ? worst.peak_tensor_bytes : worst.peak_device_bytes) / 1e9;
    if (verdict) s.verdict_right = v.value().oom == (row.metric == "oom");
    scored.push_back(s);
  }
  return scored;
}

}  // namespace

TEST_CASE("peak memory and fits/oom verdicts against published runs", "[accuracy][memory]") {
  const std::vector<Scored> scored = score_memory_rows();
  std::vector<double> errors;
  std::string table;
  int wrong = 0;
  for (const Scored& s : scored) {
    if (s.metric == "fits" || s.metric == "oom") {
      wrong += !s.verdict_right;
      if (!s.verdict_right) table += fmt::format("  {:<28} {:<6} WRONG verdict\n", s.id, s.metric);
      continue;
    }
    const double e = (s.predicted - s.measured) / s.measured;
    errors.push_back(std::fabs(e));
    table += fmt::format("  {:<28} {:<13} measured {:7.1f} predicted {:7.1f} error {:+6.1f} %\n", s.id, s.metric,
                         s.measured, s.predicted, 100 * e);
  }
  REQUIRE(errors.size() >= 60);
  std::sort(errors.begin(), errors.end());
  const double median = errors[errors.size() / 2];
  WARN(fmt::format("{} peak rows, median |error| {:.1f} %; {} verdict rows wrong\n{}", errors.size(), 100 * median,
                   wrong, table));
  constexpr double kRecordedMedian = 0.090;  // 2026-12-08; target 0.10 (reached)
  // liger-r1 ("HF models start to OOM at 4K") predicted to fit with 2 % headroom. Target 0.
  constexpr int kRecordedWrongVerdicts = 1;
  CHECK(median <= kRecordedMedian + 0.01);
  CHECK(wrong <= kRecordedWrongVerdicts);
}
