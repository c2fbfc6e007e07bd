// Framework recipes of published runs: what a training framework does by default that changes
// device memory but that a published-runs row does not state in its own columns (pure bf16
// weights, how the loss holds the logits, activation checkpointing and its offload, the optimizer
// step in backward). scenario_for_run() applies a recipe's settings only to the training keys the
// row leaves empty, and lists each as a default with the recipe's reason and source.
//
// The framework is recognised from the row's `source` column; the configuration phrases that some
// sources print per row in `notes` ("implementation Unsloth", "active techniques: chunked CE, …",
// "unpacked") are read too. Nothing is read from measured_value, measured_metric or measured_unit.
// A row whose sequence lengths are not known (an unpacked, padding-dependent dataset) is skipped.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stepsim {

struct PublishedRun;

struct RecipeSetting {
  std::string key;        // training key, e.g. "master_weights"
  nlohmann::json value;   // e.g. "none"
  std::string why;        // reason and source, shown in the row's defaults
  // Non-empty: the setting also replaces the row's own column when the column holds exactly
  // this value, which the framework's phrase in `notes` makes precise ("selective" ->
  // torchtitan's "selective-op").
  std::string refines;
};

struct FrameworkRecipe {
  std::string framework;              // "torchtune", "litgpt", "hf", "unsloth", … ("" = none known)
  std::vector<RecipeSetting> settings;
  std::string skip_reason;            // non-empty: the row cannot be modelled
};

// `num_gpus` and `finetune` are the row's (already read) values; torchtune's single-device full
// fine-tuning recipe differs from its distributed one.
FrameworkRecipe framework_recipe(const PublishedRun& row, long num_gpus, const std::string& finetune);

}  // namespace stepsim
