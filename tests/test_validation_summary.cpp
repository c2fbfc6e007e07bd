// The comparison step of `stepsim validate` (report/validation_summary.h): metric extraction from
// a report, signed errors, verdict checks and the statistics, against hand-computed numbers.
#include <catch2/catch.hpp>

#include "report/validation_summary.h"

using namespace stepsim;


namespace {

PublishedRun make_run(const std::string& id, const std::string& metric, double measured,
                      const std::string& source = "paper A") {
  PublishedRun r;
  r.id = id;
  r.metric = metric;
  r.measured_value = measured;
  r.cells["id"] = id;
  r.cells["source"] = source;
  r.cells["measured_metric"] = metric;
  return r;
}

// A stepsim.report/1 object with the fields validate reads, values chosen for easy arithmetic.
nlohmann::json fake_report(bool oom = false, bool host_oom = false) {
  return nlohmann::json{{"gpus", 8},
                        {"flops_per_step", 1.2e16},
                        {"hardware_flops_per_step", 1.6e16},
                        {"step_time_s", 2.0},
                        {"tokens_per_s", 4096.0},
                        {"tokens_per_s_per_gpu", 512.0},
                        {"model_tflops_per_gpu", 750.0},
                        {"mfu", 0.4},
                        {"memory",
                         {{"peak_bytes", 5e9},
                          {"peak_reserved_bytes", 3.0 * 1024 * 1024 * 1024},
                          {"peak_allocated_bytes", 2.0 * 1024 * 1024 * 1024},
                          {"oom", oom},
                          {"host", {{"oom", host_oom}}}}}};
}

ValidationRow scored(const std::string& id, const std::string& metric, double measured, double error_pct,
                     const std::string& source = "paper A") {
  ValidationRow r = skipped_row(make_run(id, metric, measured, source), {}, "");
  r.skipped = false;
  r.predicted = measured * (1 + error_pct / 100);
  r.error_pct = error_pct;
  return r;
}

}  // namespace

TEST_CASE("each metric is read from the report in the row's unit", "[validate]") {
  const auto report = fake_report();
  CHECK(*predicted_metric("step_time_s", report) == Approx(2.0));
  CHECK(*predicted_metric("tokens_per_s", report) == Approx(4096.0));
  CHECK(*predicted_metric("tokens_per_s_per_gpu", report) == Approx(512.0));
  CHECK(*predicted_metric("tflops_per_gpu", report) == Approx(750.0));
  CHECK(*predicted_metric("mfu", report) == Approx(40.0));  // percent, as the CSV writes it
  // 1.6e16 FLOP / 2 s / 8 GPUs = 1e15 FLOP/s = 1000 TFLOP/s per GPU, recompute included.
  CHECK(*predicted_metric("hw_tflops_per_gpu", report) == Approx(1000.0));
  CHECK(*predicted_metric("peak_mem_gib", report) == Approx(3.0));  // reserved bytes / 2^30
  CHECK(*predicted_metric("peak_mem_gb", report) == Approx(5.0));   // device bytes / 1e9
  CHECK(*predicted_metric("fits", report) == Approx(5.0));
  // A unit that names the allocated (active) peak is read as torch.cuda.max_memory_allocated().
  CHECK(*predicted_metric("peak_mem_gib", report, nullptr, "GiB (peak active)") == Approx(2.0));
  CHECK(*predicted_metric("peak_mem_gb", report, nullptr, "GB (max_memory_allocated)") ==
        Approx(2.0 * 1024 * 1024 * 1024 / 1e9));
  CHECK(metric_kind("mfu") == MetricKind::throughput);
  CHECK(metric_kind("peak_mem_gb") == MetricKind::memory);
  CHECK(metric_kind("oom") == MetricKind::verdict);
  CHECK_FALSE(metric_kind("energy_j"));
  CHECK(metric_needs_engine("tokens_per_s"));
  CHECK_FALSE(metric_needs_engine("peak_mem_gib"));
}

TEST_CASE("a report without the simulated step cannot answer a throughput metric", "[validate]") {
  auto report = fake_report();
  report.erase("step_time_s");  // what `run --no-engine` leaves out
  std::string why;
  CHECK_FALSE(predicted_metric("hw_tflops_per_gpu", report, &why));
  CHECK(why == "the report has no step_time_s");
  const ValidationRow row = compare_run(make_run("r", "hw_tflops_per_gpu", 137), {}, report);
  CHECK(row.skipped);
  CHECK(row.failed);
  CHECK(row.reason == "the report has no step_time_s");
}

TEST_CASE("the error is signed: (predicted - measured) / measured", "[validate]") {
  const ValidationRow slow = compare_run(make_run("a", "step_time_s", 2.5), {"micro_batch=1 (empty)"}, fake_report());
  CHECK_FALSE(slow.skipped);
  CHECK(*slow.predicted == Approx(2.0));
  CHECK(*slow.error_pct == Approx(-20.0));  // (2 - 2.5) / 2.5
  CHECK(slow.defaults == std::vector<std::string>{"micro_batch=1 (empty)"});
  CHECK_FALSE(slow.correct);
  const ValidationRow high = compare_run(make_run("b", "tokens_per_s_per_gpu", 400), {}, fake_report());
  CHECK(*high.error_pct == Approx(28.0));  // (512 - 400) / 400
}

TEST_CASE("fits/oom rows check the verdict, device or host", "[validate]") {
  const ValidationRow fits_right = compare_run(make_run("a", "fits", 80), {}, fake_report(false));
  CHECK(*fits_right.correct);
  CHECK_FALSE(fits_right.error_pct);
  CHECK(*fits_right.predicted == Approx(5.0));
  CHECK_FALSE(*compare_run(make_run("b", "fits", 80), {}, fake_report(true)).correct);
  CHECK(*compare_run(make_run("c", "oom", 80), {}, fake_report(true)).correct);
  CHECK_FALSE(*compare_run(make_run("d", "oom", 80), {}, fake_report(false)).correct);
  CHECK(*compare_run(make_run("e", "oom", 80), {}, fake_report(false, /*host_oom=*/true)).correct);
}

TEST_CASE("statistics: MAPE, median, max and bias of the errors", "[validate]") {
  std::vector<ValidationRow> rows = {scored("a", "step_time_s", 1, +10), scored("b", "step_time_s", 1, -20),
                                     scored("c", "mfu", 40, +30, "paper B")};
  rows.push_back(skipped_row(make_run("d", "mfu", 40, "paper B"), {}, "skipped: no topology"));
  ValidationRow verdict = compare_run(make_run("e", "oom", 80, "paper B"), {}, fake_report(false));
  rows.push_back(verdict);
  const ValidationSummary s = summarize(rows);
  CHECK(s.rows == 5);
  CHECK(s.skipped == 1);
  CHECK(s.compared == 4);
  CHECK(s.throughput.count == 3);
  CHECK(s.throughput.mape == Approx(20.0));         // (10 + 20 + 30) / 3
  CHECK(s.throughput.median == Approx(20.0));
  CHECK(s.throughput.max == Approx(30.0));
  CHECK(s.throughput.bias == Approx(20.0 / 3));     // (10 - 20 + 30) / 3
  CHECK(s.throughput.skipped == 1);
  CHECK(s.verdict.verdicts == 1);
  CHECK(s.verdict.correct == 0);
  CHECK(s.by_metric.at("step_time_s").median == Approx(15.0));  // even count: mean of the middle two
  CHECK(s.by_source.at("paper A").count == 2);
  CHECK(s.by_source.at("paper B").count == 1);
  CHECK(s.by_source.at("paper B").verdicts == 1);
  CHECK(rows[3].reason == "no topology");  // the "skipped: " prefix is not repeated
}

TEST_CASE("the JSON rows carry exactly the documented keys, in order", "[validate]") {
  std::vector<ValidationRow> rows = {scored("a", "step_time_s", 2, -20)};
  rows.push_back(skipped_row(make_run("b", "mfu", 40), {"tp=1 (empty)"}, "skipped: no topology"));
  const auto j = validation_json(rows, summarize(rows));
  std::vector<std::string> keys;
  for (auto it = j["rows"][0].begin(); it != j["rows"][0].end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"id", "metric", "measured", "predicted", "error_pct", "correct", "tight", "status",
                                         "reason", "defaults"});
  CHECK(j["rows"][0]["status"] == "ok");
  CHECK(j["rows"][0]["correct"].is_null());
  CHECK(j["rows"][1]["status"] == "skipped");
  CHECK(j["rows"][1]["predicted"].is_null());
  CHECK(j["rows"][1]["reason"] == "no topology");
  CHECK(j["rows"][1]["defaults"][0] == "tp=1 (empty)");
  CHECK(j["summary"]["throughput"]["count"] == 1);
  CHECK(j["summary"]["skipped"] == 1);
}
