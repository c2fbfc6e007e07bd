#include "scenario/framework_recipes.h"

#include <algorithm>
#include <cctype>

#include "scenario/published_runs.h"

namespace stepsim {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Sources of the recipe facts (docs/reference/memory.md, "Sources").
constexpr const char* kTorchtuneBf16 =
    "torchtune recipes train in pure bf16 (dtype: bf16, no fp32 master copy): memory.md §1 'Pure bf16'";
constexpr const char* kTorchtuneUpcast =
    "torchtune's TransformerDecoder returns fp32 logits (output(h).float()) before the cross-entropy: memory.md §2.3";
constexpr const char* kTorchtuneChunkedCompiled =
    "notes: chunked CE (named, or the llama3_1 configs at torchtune commit 0031bfb, whose 8B_lora.yaml and "
    "70B_full.yaml set loss: CEWithChunkedOutputLoss) with torch.compile (CEWithChunkedOutputLoss: 'The CE "
    "and upcasting have to be compiled together'; each compiled chunk saves only its bf16 logits)";
constexpr const char* kTorchtuneOptimizerStep =
    "torchtune configs build torch.optim.AdamW with foreach: False (llama3_1 configs, 2024-07) or fused: True "
    "(later configs): no full-size multi-tensor temporaries";
constexpr const char* kTorchtuneCheckpointing =
    "torchtune configs set enable_activation_checkpointing: True";
constexpr const char* kTorchtuneSingleDevice =
    "torchtune llama3_1/8B_full_single_device.yaml: PagedAdamW8bit with optimizer_in_bwd: True";
constexpr const char* kTorchtune70bFull =
    "torchtune recipes/configs/llama3_1/70B_full.yaml (commit 0031bfb, the README with this table): "
    "custom_sharded_layers: ['tok_embeddings', 'output']";
constexpr const char* kLitgptBf16 = "LitGPT --precision bf16-true: bf16 weights and optimizer states, no master copy";
constexpr const char* kLitgptNoCheckpointing =
    "LitGPT finetune scripts of 2023 run without activation checkpointing";
constexpr const char* kLitgptChunked =
    "LitGPT runs the output layer with lm_head_chunk_size=128 and chunked_cross_entropy";
constexpr const char* kLitgptLora =
    "LitGPT finetune/lora.py (2023): lora_query and lora_value only, lora_dropout = 0.05";
constexpr const char* kLitgptFsdp =
    "LitGPT finetune/lora.py (2023) with devices > 1: FSDPStrategy(auto_wrap_policy={Block}, "
    "activation_checkpointing_policy={Block}), so each block is an FSDP unit and is recomputed";
constexpr const char* kLitgptFrozenGradients =
    "Lightning Fabric's FSDPStrategy sets use_orig_params=True (since 2.1.0, joint model/optimizer setup); "
    "each block's unit then mixes frozen weights and LoRA adapters, and PyTorch's FSDP documentation warns "
    "that gradient memory is then as if the frozen parameters were not frozen";
constexpr const char* kLitgptNoSync =
    "LitGPT finetune/lora.py (2023) accumulates under fabric.no_backward_sync(model, enabled=is_accumulating), "
    "FSDP's no_sync(): unsharded gradients until the last micro-batch";
constexpr const char* kHfUpcast =
    "Hugging Face models upcast the logits to fp32 and keep them with the fp32 log-softmax: memory.md §2.3";
constexpr const char* kHfCheckpointing = "the recipe enables gradient_checkpointing, as fine-tuning recipes do";
constexpr const char* kUnslothFused =
    "Unsloth computes the loss with a fused chunked cross-entropy (Apple CCE): memory.md §2.3";
constexpr const char* kUnslothAdam8bit =
    "Unsloth's benchmarks run its Alpaca notebook settings (batch 2, accumulation 4, rank 32), whose "
    "TrainingArguments set optim = \"adamw_8bit\" (unslothai/unsloth README benchmark settings: 'bsz = 2, ga = 4, "
    "... optim = \"adamw_8bit\"')";
constexpr const char* kUnslothInplace =
    "Unsloth before Apple CCE (its README's context table came with CCE, memory.md §2.3; this table is of "
    "2024-04): Fast_CrossEntropyLoss (unsloth/kernels/cross_entropy_loss.py) saves the bf16 logits and its "
    "backward kernel stores the gradient into them (returns logits as their gradient)";
constexpr const char* kUnslothOffload = "Unsloth offloads the gradient-checkpoint activations to CPU memory";

constexpr const char* kPeftFp32Base =
    "huggingface/peft examples/sft/utils.py (the docs' run_peft_fsdp.sh): create_and_prepare_model loads with "
    "torch_dtype = the 4-bit quant_storage dtype, else torch.float32; FSDP keeps that dtype in its shards (mixed "
    "precision gathers bf16), DeepSpeed casts the model to bf16";

constexpr const char* kAxolotlPaged =
    "notes: paged_adamw_8bit (axolotl examples/llama-3/fft-8b.yaml: optimizer: paged_adamw_8bit): bitsandbytes "
    "PagedAdamW8bit, states in managed memory, one fused update kernel per parameter";
constexpr const char* kAxolotlBf16 =
    "axolotl loads the model in torch_dtype bfloat16 when bf16 is set (fft-8b.yaml: bf16: auto) and the Trainer "
    "updates those bf16 parameters: no fp32 master copy";

constexpr const char* kTorchtitanCompiledLoss =
    "notes: torch.compile; torchtitan's build_cross_entropy_loss compiles cross_entropy(pred.float(), labels) when "
    "compile is on ('Compiling the loss function with torch.compile'), so the graph keeps the bf16 logits only";

constexpr const char* kSetToNone =
    "PyTorch's optimizer.zero_grad() sets gradients to None (set_to_none=True since PyTorch 2.0): they are "
    "allocated during backward and freed after the step";
constexpr const char* kTorchtitanPerOp =
    "notes: per-op selective AC (torchtitan selective_ac_option 'op': matmul outputs saved except every "
    "second one, attention outputs saved)";

void add(FrameworkRecipe& r, const std::string& key, nlohmann::json value, const std::string& why,
         const std::string& refines = "") {
  r.settings.push_back({key, std::move(value), why, refines});
}

// torchtune's chunked cross-entropy, compiled together with its upcast when the run compiles.
// The Llama 3.1 configs of the README's memory table (commit 0031bfb: 8B_lora.yaml, 70B_full.yaml)
// build CEWithChunkedOutputLoss even where the notes do not say so.
void add_torchtune_loss(FrameworkRecipe& r, const std::string& notes) {
  const bool llama3_1_configs = contains(notes, "recipes/configs/llama3_1");
  if (!contains(notes, "chunked ce") && !llama3_1_configs) return add(r, "loss", "upcast", kTorchtuneUpcast);
  if (contains(notes, "compile")) return add(r, "loss", "chunked-compiled", kTorchtuneChunkedCompiled);
  add(r, "loss", "chunked", "notes: chunked CE (torchtune CEWithChunkedOutputLoss)");
}

// torchtune's README optimisation table lists, per row, the techniques on top of the baseline.
void torchtune_techniques(FrameworkRecipe& r, const std::string& notes) {
  const size_t at = notes.find("active techniques:");
  const std::string techniques = notes.substr(at);
  if (contains(techniques, "unpacked")) {
    r.skip_reason = "unpacked dataset: the tokens per sequence depend on padding and are not stated";
    return;
  }
  add_torchtune_loss(r, techniques);
  if (contains(techniques, "optimizer step fused into backward") && !contains(techniques, "no optimizer-in-backward"))
    add(r, "optimizer_in_backward", true, "notes: optimizer step fused into backward");
  if (contains(techniques, "activation offloading")) add(r, "activation_offload", true, "notes: activation offloading");
}

void torchtune(FrameworkRecipe& r, const std::string& notes, long num_gpus, const std::string& finetune) {
  r.framework = "torchtune";
  add(r, "master_weights", "none", kTorchtuneBf16);
  add(r, "optimizer_step", "fused", kTorchtuneOptimizerStep);
  if (contains(notes, "active techniques:")) return torchtune_techniques(r, notes);
  add_torchtune_loss(r, notes);
  add(r, "recompute", "full", kTorchtuneCheckpointing);
  if (contains(notes, "70b_full.yaml")) add(r, "fsdp_units", "layers+embeddings", kTorchtune70bFull);
  if (num_gpus == 1 && finetune == "full") {
    add(r, "optimizer", "adamw8bit", kTorchtuneSingleDevice);
    add(r, "optimizer_in_backward", true, kTorchtuneSingleDevice);
    add(r, "paged_optimizer", true, kTorchtuneSingleDevice);
  }
}

// `with_cce`: Unsloth's own tables (CCE since late 2024); LLaMA-Factory's wiki table is older.
void unsloth_kernels(FrameworkRecipe& r, bool with_cce) {
  r.framework = "unsloth";
  if (with_cce) {
    add(r, "loss", "fused", kUnslothFused);
    add(r, "optimizer", "adamw8bit", kUnslothAdam8bit);
  } else {
    add(r, "loss", "inplace", kUnslothInplace);
  }
  add(r, "recompute", "full", kHfCheckpointing);
  add(r, "activation_offload", true, kUnslothOffload);
}

void hugging_face(FrameworkRecipe& r) {
  r.framework = "hf";
  add(r, "loss", "upcast", kHfUpcast);
  add(r, "recompute", "full", kHfCheckpointing);
}

}  // namespace

FrameworkRecipe framework_recipe(const PublishedRun& row, long num_gpus, const std::string& finetune) {
  const std::string source = lower(row.cell("source"));
  const std::string notes = lower(row.cell("notes"));
  FrameworkRecipe r;
  if (contains(source, "torchtitan")) {
    r.framework = "torchtitan";
    if (contains(notes, "per-op selective ac")) add(r, "recompute", "selective-op", kTorchtitanPerOp, "selective");
    if (contains(notes, "torch.compile")) add(r, "loss", "compiled", kTorchtitanCompiledLoss);
  } else if (contains(source, "torchtune")) {
    torchtune(r, notes, num_gpus, finetune);
  } else if (contains(source, "litgpt")) {
    r.framework = "litgpt";
    add(r, "master_weights", "none", kLitgptBf16);
    add(r, "loss", "chunked", kLitgptChunked);
    if (finetune != "full") {
      add(r, "lora_targets", "qv", kLitgptLora);
      add(r, "lora_dropout", 0.05, kLitgptLora);
    }
    if (num_gpus > 1 && finetune == "lora") {
      add(r, "sharding", "fsdp", kLitgptFsdp);
      add(r, "recompute", "full", kLitgptFsdp);
      add(r, "fsdp_frozen_gradients", true, kLitgptFrozenGradients);
      add(r, "fsdp_gradient_sync", "last_micro_batch", kLitgptNoSync);
    } else {
      add(r, "recompute", "none", kLitgptNoCheckpointing);
    }
  } else if (contains(source, "unsloth") || contains(source, "llama-factory")) {
    // Both compare Unsloth's kernels with Hugging Face + FlashAttention-2 row by row.
    if (contains(notes, "implementation unsloth")) unsloth_kernels(r, contains(source, "unsloth"));
    else hugging_face(r);
  } else if (contains(source, "peft")) {
    hugging_face(r);
    const std::string sharding = lower(row.cell("sharding"));
    if (finetune == "lora" && (sharding == "fsdp" || sharding == "none" || sharding.empty()))
      add(r, "base_weights", "fp32", kPeftFp32Base);
  } else if (contains(source, "axolotl")) {
    hugging_face(r);
    if (finetune == "full") add(r, "master_weights", "none", kAxolotlBf16);
    if (contains(notes, "paged_adamw") && lower(row.cell("offload")).empty()) {
      add(r, "paged_optimizer", true, kAxolotlPaged);
      add(r, "optimizer_step", "fused", kAxolotlPaged);
    }
  } else if (contains(source, "philschmid") ||
             contains(source, "answer.ai") || contains(source, "liger")) {
    hugging_face(r);
  }
  // Every framework above runs PyTorch's own training loop (no persistent gradient buffer).
  if (!r.framework.empty() && r.skip_reason.empty()) add(r, "zero_grad", "set_to_none", kSetToNone);
  return r;
}

}  // namespace stepsim
