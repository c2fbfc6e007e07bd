// How the model's parameters are spread over one rank: which layers its pipeline stage holds
// (all virtual stages for interleaved schedules), whether it holds the embedding (first stage)
// and the output layer (last stage; with tied embeddings and pp > 1 it keeps its own copy, as
// Megatron does), and what tensor and expert parallelism leave on it.
#pragma once

#include <cstdint>
#include <vector>

#include "scenario/scenario.h"
#include "workload/model_math.h"

namespace stepsim {

struct RankParameters {
  int pipeline_rank = 0;
  int layers = 0;                 // transformer blocks held by this rank
  double parameters = 0;          // all parameters on the rank after TP/EP splitting
  double linear_weights = 0;      // block weight matrices (LoRA/NF4 targets) on the rank
  double lora_parameters = 0;     // adapters on the rank (LoRA/QLoRA only)
};

// One transformer block's share on a rank: matrices and biases split over TP, experts also over
// EP, norms and the router replicated.
struct BlockParameters {
  double parameters = 0;      // all of the block on the rank
  double linear_weights = 0;  // its weight matrices (LoRA/NF4 targets)
  double lora_parameters = 0; // its adapters (LoRA/QLoRA only)
};
BlockParameters block_parameters(const Scenario& s);

// Layers of each pipeline rank (summing virtual stages).
std::vector<int> layers_per_pipeline_rank(const Scenario& s);
RankParameters rank_parameters(const Scenario& s, int pipeline_rank);

}  // namespace stepsim
