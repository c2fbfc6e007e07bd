// stepsim command line: parses arguments with CLI11 and dispatches to cli/commands.h.
// Exit codes: 0 ok, 1 internal error, 2 bad input or usage, 3 OOM with --fail-on-oom.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"stepsim: a discrete-event simulator of distributed LLM training steps"};
  app.require_subcommand(1);
  app.fallthrough();  // --data-dir is accepted after the subcommand too
  std::string data_dir;
  app.add_option("--data-dir", data_dir, "folder with models/, topologies/, scenarios/ (default: the source tree)");

  stepsim::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "simulate one training step of a scenario");
  run_cmd->add_option("scenario", run.scenario, "scenario file (default: scenarios/llama3-70b-full-zero3-rtx-pro-6000.json)");
  run_cmd->add_option("--set", run.overrides, "override a scenario field, e.g. --set training.tp=4 (repeatable)")
      ->allow_extra_args(false);  // one PATH=VALUE per --set, so the scenario may follow it
  run_cmd->add_flag("--json", run.json, "print the report as JSON (schema stepsim.report/1)");
  run_cmd->add_flag("--csv", run.csv, "print the report as a CSV header line and one row (columns: docs/report-schema.md)");
  run_cmd->add_flag("--fail-on-oom", run.fail_on_oom, "exit with status 3 when the verdict is out-of-memory");
  run_cmd->add_flag("--no-engine", run.no_engine, "skip the simulation: memory verdict and compute time only");
  run_cmd->add_flag("--skip-engine-on-oom", run.skip_engine_on_oom,
                    "skip the simulation when the memory verdict is out of memory (sweeps use it)");
  run_cmd->add_option("--trace", run.trace, "write a Perfetto trace (Chrome JSON; gzip when FILE ends in .gz)");
  run_cmd->add_option("--trace-ranks", run.trace_ranks, "ranks in the trace and timeline, e.g. 0-7,64 (default: all recorded)");
  run_cmd->add_option("--timeline-svg", run.timeline_svg, "write an SVG timeline of the step (up to 16 ranks)");

  stepsim::SweepOptions sweep;
  stepsim::SweepMergeOptions merge;
  auto* sweep_cmd = app.add_subcommand("sweep", "run every point of a sweep spec, resumable (docs/formats/sweep.md)");
  sweep_cmd->add_option("spec", sweep.spec, "sweep spec file");
  sweep_cmd->add_option("-j,--jobs", sweep.jobs, "points run in parallel (default: the number of cores)")->check(CLI::Range(1, 4096));
  sweep_cmd->add_option("--timeout", sweep.timeout_s, "seconds per point; a point still running is killed and recorded as failed (default: none)")
      ->check(CLI::Range(0.0, 1e6));
  sweep_cmd->add_option("--out", sweep.out, "results folder (default: sweep-<spec name>); re-running resumes");
  sweep_cmd->add_option("--shard", sweep.shard, "run the I-th of N deterministic shares, e.g. --shard 2/4");
  sweep_cmd->add_flag("--dry-run", sweep.dry_run, "list the points (id, axes, skip reason) without running them");
  auto* merge_cmd = sweep_cmd->add_subcommand("merge", "join the result folders of shards into one");
  merge_cmd->add_option("dirs", merge.dirs, "result folders of `stepsim sweep --shard`")->required();
  merge_cmd->add_option("--out", merge.out, "folder for the merged results")->required();

  stepsim::CompareOptions compare;
  auto* compare_cmd = app.add_subcommand("compare", "side-by-side comparison of scenarios, variants, reports or sweep results");
  compare_cmd->add_option("inputs", compare.inputs, "scenario files, report JSON files, sweep results (DIR or results.jsonl)")
      ->required();
  compare_cmd->add_option("--set", compare.overrides, "override a field of every scenario input (repeatable)")
      ->allow_extra_args(false);
  compare_cmd->add_option("--variant", compare.variants, "a variant of the one scenario: \"[label:] path=value, path=value\" (repeatable)")
      ->allow_extra_args(false);
  compare_cmd->add_option("--html", compare.html, "also write a self-contained HTML page with SVG charts");
  compare_cmd->add_option("--title", compare.title, "title of the HTML page");
  compare_cmd->add_flag("--markdown", compare.markdown, "print a Markdown table (one row per run)");
  compare_cmd->add_option("-j,--jobs", compare.jobs, "scenarios simulated in parallel (default: the number of cores)")
      ->check(CLI::Range(1, 4096));

  stepsim::CollectiveOptions coll;
  auto* coll_cmd = app.add_subcommand("collective", "nccl-tests-like microbenchmark of one collective on a topology");
  coll_cmd->add_option("topology", coll.topology, "topology id or file")->required();
  coll_cmd->add_option("--nodes", coll.nodes, "number of nodes (default: the topology's)")->check(CLI::Range(1, 1 << 20));
  coll_cmd->add_option("--gpu", coll.gpu, "GPU catalog id (default: the topology's)");
  coll_cmd->add_option("--op", coll.op, "operation")
      ->check(CLI::IsMember({"allreduce", "reducescatter", "allgather", "alltoall", "broadcast", "sendrecv"}));
  coll_cmd->add_option("--algo", coll.algo, "algorithm")->check(CLI::IsMember({"auto", "ring", "tree", "hier", "nvls", "direct"}));
  coll_cmd->add_option("--proto", coll.proto, "NCCL protocol of rings (auto chooses by NCCL's tuning model)")
      ->check(CLI::IsMember({"auto", "simple", "ll128", "ll"}));
  coll_cmd->add_option("--fidelity", coll.fidelity, "macro | step | analytic")
      ->check(CLI::IsMember({"macro", "step", "analytic"}));
  coll_cmd->add_option("-b,--minbytes", coll.min_bytes, "smallest size (e.g. 8, 32M, 1G)");
  coll_cmd->add_option("-e,--maxbytes", coll.max_bytes, "largest size");
  coll_cmd->add_option("-f,--stepfactor", coll.factor, "multiplication factor between sizes");
  coll_cmd->add_flag("--json", coll.json, "print a JSON list of {bytes, time_s, algbw_gbps, busbw_gbps, algo, protocol}");

  std::vector<std::string> check_files;
  bool check_all = false;
  auto* check_cmd = app.add_subcommand("check", "validate scenario, model, topology or GPU files without simulating");
  check_cmd->add_option("files", check_files, "files to validate (the format is recognised from the content)");
  check_cmd->add_flag("--all", check_all, "validate every shipped file in models/, topologies/ and scenarios/");

  std::string catalog_what;
  bool catalog_json = false;
  auto* catalog_cmd = app.add_subcommand("catalog", "list the shipped GPUs, models, topologies or scenarios");
  catalog_cmd->add_option("what", catalog_what, "gpus | models | topologies | scenarios (default: all)")
      ->check(CLI::IsMember({"gpus", "models", "topologies", "scenarios", "all"}));
  catalog_cmd->add_flag("--json", catalog_json, "print as JSON");

  stepsim::ValidateOptions validate;
  auto* validate_cmd = app.add_subcommand("validate", "simulate every row of a published-runs CSV and score the predictions");
  validate_cmd->add_option("file", validate.file, "published-runs CSV (docs/formats/published-runs.md)")->required();
  validate_cmd->add_option("-j,--jobs", validate.jobs, "simulations run in parallel (default: the number of cores)")
      ->check(CLI::Range(1, 1024));
  validate_cmd->add_flag("--json", validate.json, "print {rows, summary} as JSON");
  validate_cmd->add_option("--rows", validate.rows, "only these row ids, comma-separated");
  validate_cmd->add_option("--timeout", validate.timeout_s, "seconds per row; a row still running is skipped (default: none)")
      ->check(CLI::Range(0.0, 1e6));
  validate_cmd->add_option("--dump", validate.dump_dir, "also write each row's scenario to DIR/<id>.json (to rerun it with `run`)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);
    return status == 0 ? 0 : stepsim::kExitBadInput;
  }
  try {
    if (!data_dir.empty()) setenv("STEPSIM_DATA_DIR", data_dir.c_str(), 1);
    if (*run_cmd) return stepsim::run_command(run);
    if (*check_cmd) return stepsim::check_command(check_files, check_all);
    if (*catalog_cmd) return stepsim::catalog_command(catalog_what, catalog_json);
    if (*coll_cmd) return stepsim::collective_command(coll);
    if (*validate_cmd) return stepsim::validate_command(validate);
    if (*merge_cmd) return stepsim::sweep_merge_command(merge);
    if (*sweep_cmd) return stepsim::sweep_command(sweep);
    if (*compare_cmd) return stepsim::compare_command(compare);
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n(please report this with the command line that caused it)\n";
    return stepsim::kExitInternal;
  }
  return stepsim::kExitBadInput;
}
