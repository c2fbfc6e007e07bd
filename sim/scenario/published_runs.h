// Published runs: the rows of a published-runs CSV (docs/formats/published-runs.md) and the
// scenario each row describes.
//
// read_published_runs() reads RFC 4180 CSV: a header row is required, columns may come in any
// order, quoted fields may hold commas, doubled quotes and line breaks, and unknown extra columns
// are kept in `cells` but ignored. Structural problems (an unterminated quote, a row whose field
// count differs from the header's, a missing id/measured_metric/measured_value column, a
// duplicate id, a measured_value that is not a number) come back as Diagnostics naming file:line.
//
// scenario_for_run() turns one row into the scenario JSON a user would have written and runs it
// through parse_scenario(), so every row gets the same validation as a scenario file. It never
// reads measured_value (nor measured_metric or measured_unit): the predictor must not see the
// answer. Framework recipes (framework_recipes.h) fill training keys the row leaves empty from
// its `source` and the configuration phrases of its `notes`. A row that cannot be modelled gets no scenario and a "skipped: <reason>" text; no
// row is dropped silently. Mapping rules (also in published-runs.md, "How rows become scenarios"):
//
//   model     inline object from the architecture columns, never looked up by name: arch (empty =
//             gpt), layers, hidden, heads, kv_heads (empty = heads), ffn_hidden, vocab, moe_experts
//             + moe_topk -> "moe"; published_parameters = params_b·1e9. tied_embeddings, qkv_bias
//             and position_embedding come from a catalog model with the same architecture numbers
//             when one exists (else the arch defaults); learned positions get max_seq_len = seq_len.
//   cluster   gpu = the row's catalog id. A gpu_mem_gb that differs from the card's capacity picks
//             the catalog card of the same vendor, family and form factor with that capacity, else
//             the card keeps its speeds with gpu_mem_gb as cluster.gpu_memory_gib (a VRAM budget). intra_node_link empty
//             = the card's own box (SXM: NVSwitch generation of its family; PCIe: pcie<gen>).
//             gpus_per_node empty = min(num_gpus, GPUs of that box's largest topology). The
//             topology is looked up in kBoxes (published_runs.cpp): an exact (intra_node_link,
//             gpus_per_node, inter_node_link) entry wins, else the box with its own idealized
//             fabric, except when several nodes need a stated inter link that no topology has
//             (skipped). nodes = num_gpus / gpus_per_node.
//   training  seq_len; global_batch = global_batch_seqs (empty = micro_batch·dp: one micro-batch
//             per step); micro_batch (empty = 1); precision (empty = bf16); tp, pp, cp, ep
//             (empty = 1); dp only when given (else derived, and recorded); vp_interleave > 1 ->
//             vp + pipeline_schedule "interleaved"; sp 1/0 -> true/false (empty = false);
//             sharding, offload, recompute (empty = none); finetune (empty = full); lora_rank
//             (empty with lora/qlora = 8, PEFT's default r); optimizer (empty = adamw). Values
//             pass through as written: an unknown value fails validation and the row is skipped
//             with the parser's message (so is any row the scenario checks reject).
//
// Every default applied is listed in RunScenario::defaults as "column=value (why)".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace stepsim {

struct PublishedRun {                          // one CSV row, raw
  std::string file;                            // the path given to read_published_runs
  int line = 0;                                // 1-based line where the row starts
  std::map<std::string, std::string> cells;    // column -> text (every column, unquoted)
  std::string id, metric;                      // convenience copies of id and measured_metric
  double measured_value = 0;

  const std::string& cell(const std::string& column) const;  // "" when the column is absent
};

Result<std::vector<PublishedRun>> read_published_runs(const std::string& path);
// The same from text in memory; `file` names it in errors and in PublishedRun::file.
Result<std::vector<PublishedRun>> parse_published_runs(const std::string& text, const std::string& file);

// What the mapping reads besides the row: the model catalog (for tied_embeddings, qkv_bias and
// position_embedding of an architecture) and the GPU catalog (form factor, family, memory).
struct RunCatalog {
  std::vector<ModelSpec> models;  // sorted by file name
  std::vector<GpuSpec> gpus;
};
Result<RunCatalog> load_run_catalog();

struct RunScenario {
  std::optional<Scenario> scenario;     // absent when skipped
  std::string skip_reason;              // "skipped: <reason>" when the row cannot be modelled
  std::vector<std::string> defaults;    // each documented default applied, "column=value (why)"
  JsonDocument document;                // the scenario JSON that was built (for --dump / debugging)
};

// Never reads measured_value: changing it leaves the result byte-identical.
RunScenario scenario_for_run(const PublishedRun& row, const RunCatalog& catalog);
RunScenario scenario_for_run(const PublishedRun& row);  // loads the catalog itself

// Metrics the validate command knows how to compare: step_time_s, tflops_per_gpu,
// hw_tflops_per_gpu, mfu, tokens_per_s, tokens_per_s_per_gpu, peak_mem_gib, peak_mem_gb, fits, oom.
bool metric_supported(const std::string& metric);

}  // namespace stepsim
