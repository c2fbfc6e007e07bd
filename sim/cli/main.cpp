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
  run_cmd->add_flag("--fail-on-oom", run.fail_on_oom, "exit with status 3 when the verdict is out-of-memory");
  run_cmd->add_flag("--no-engine", run.no_engine, "skip the simulation: memory verdict and compute time only");

  stepsim::CollectiveOptions coll;
  auto* coll_cmd = app.add_subcommand("collective", "nccl-tests-like microbenchmark of one collective on a topology");
  coll_cmd->add_option("topology", coll.topology, "topology id or file")->required();
  coll_cmd->add_option("--nodes", coll.nodes, "number of nodes (default: the topology's)")->check(CLI::Range(1, 1 << 20));
  coll_cmd->add_option("--gpu", coll.gpu, "GPU catalog id (default: the topology's)");
  coll_cmd->add_option("--op", coll.op, "operation")
      ->check(CLI::IsMember({"allreduce", "reducescatter", "allgather", "alltoall", "broadcast", "sendrecv"}));
  coll_cmd->add_option("--algo", coll.algo, "algorithm")->check(CLI::IsMember({"auto", "ring", "tree", "hier", "nvls", "direct"}));
  coll_cmd->add_option("--fidelity", coll.fidelity, "macro | step | analytic")
      ->check(CLI::IsMember({"macro", "step", "analytic"}));
  coll_cmd->add_option("-b,--minbytes", coll.min_bytes, "smallest size (e.g. 8, 32M, 1G)");
  coll_cmd->add_option("-e,--maxbytes", coll.max_bytes, "largest size");
  coll_cmd->add_option("-f,--stepfactor", coll.factor, "multiplication factor between sizes");
  coll_cmd->add_flag("--json", coll.json, "print a JSON list of {bytes, time_s, algbw_gbps, busbw_gbps, algo}");

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
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n(please report this with the command line that caused it)\n";
    return stepsim::kExitInternal;
  }
  return stepsim::kExitBadInput;
}
