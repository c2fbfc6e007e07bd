// Scenario: one user question, fully resolved. load_scenario() reads a scenario file, applies
// --set overrides, resolves the topology, the GPU and the model (ids or paths, relative to the
// scenario's folder), and checks the training configuration against them (GPU count, head
// divisibility, pipeline split, batch divisibility, precision support). The returned value
// owns copies of every spec; nothing points back into files.
#pragma once

#include <string>
#include <vector>

#include "scenario/cost_spec.h"
#include "scenario/gpu_spec.h"
#include "scenario/model_spec.h"
#include "scenario/overrides.h"
#include "scenario/topology_spec.h"
#include "scenario/training_config.h"

namespace stepsim {

struct SimulationOptions {
  std::string collective_algorithm = "auto";  // auto, ring, tree, hier, nvls, direct
  std::string collective_protocol = "auto";   // auto, simple, ll128, ll (rings)
  std::string fidelity = "macro";             // macro, step, analytic
  // Simulate one data-parallel replica when a route check allows it (engine/replica_folding.h).
  bool fold_replicas = false;
};

struct OutputOptions {
  std::string report_json;  // when set, `run` also writes the JSON report there
};

struct Scenario {
  std::string file;
  std::string name, description;
  int nodes = 1;
  TopologySpec topology;
  GpuSpec gpu;
  ModelSpec model;
  TrainingConfig training;
  SimulationOptions simulation;
  OutputOptions outputs;
  // Prices, power and electricity (scenario "cost" over catalog over cost-defaults.json). Its
  // gpu_load_w / gpu_idle_w are also written into gpu.tdp_w / gpu.idle_w, which the platform
  // gives the SimGrid energy plugin.
  CostSpec cost;

  int gpus_per_node() const { return topology.gpus_per_node(); }
  int total_gpus() const { return nodes * gpus_per_node(); }
  int dp() const { return training.dp.value_or(1); }  // resolved by load_scenario
  int64_t micro_batches_per_step() const {
    return training.global_batch / (training.micro_batch * dp());
  }
  int64_t tokens_per_step() const { return training.global_batch * training.seq_len; }
};

Result<Scenario> parse_scenario(JsonDocument doc, const std::vector<Override>& overrides);
Result<Scenario> load_scenario(const std::string& path, const std::vector<Override>& overrides = {});

// The balanced pipeline split: layers / pp per stage, the remainder spread over the middle
// stages first (the first and last stages also hold the embedding and the output layer).
std::vector<int> balanced_layer_split(int64_t layers, int stages);

std::string default_scenario_path();

}  // namespace stepsim
