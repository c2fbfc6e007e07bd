#include "workload/layer_lowering.h"

#include "workload/activation_memory.h"
#include "workload/model_math.h"
#include "workload/model_state_memory.h"
#include "workload/stage_partition.h"

namespace stepsim {

namespace {
constexpr double kActivationBytes = 2;  // bf16/fp16 activations and gradients
}  // namespace

LayerLowering::LayerLowering(const Scenario& s, double tokens, double optimizer_temporaries)
    : s_(s), t_(s.training), tokens_(tokens), tp_(s.training.tp), optimizer_temporaries_(optimizer_temporaries) {
  const ModelSpec& m = s.model;
  hidden_bytes_ = tokens * m.hidden * kActivationBytes;
  sp_divisor_ = t_.sp ? tp_ : 1;
  if (t_.recompute == Recompute::full) saved_per_layer_ = checkpoint_bytes_per_layer(m, t_, tokens);
  else saved_per_layer_ = saved_activations_per_layer(m, t_, tokens).total();
  backward_transient_ = layer_backward_transient_bytes(m, t_, tokens);
  if (t_.activation_offload) {
    // The saved tensors wait in host memory and come back for their layer's backward only.
    backward_transient_ += saved_per_layer_;
    saved_per_layer_ = 0;
  }
  const BlockParameters block = block_parameters(s);
  trainable_base_ = t_.finetune == Finetune::full;
  gathered_layer_bytes_ = t_.finetune == Finetune::qlora
                              ? block.linear_weights * kNf4BytesPerParameter + (block.parameters - block.linear_weights) * 2
                              : block.parameters * 2;
  trainable_layer_bytes_ = gradient_parameters_per_layer(s) * 2;
  dequantized_bytes_ = t_.finetune == Finetune::qlora ? 2.0 * m.hidden * m.ffn_hidden / tp_ : 0;
}

double LayerLowering::embedding_gradient_bytes() const {
  return trainable_base_ ? 2.0 * count_parameters(s_.model).token_embedding / tp_ : 0;
}

double LayerLowering::head_gradient_bytes() const {
  const ParameterCounts c = count_parameters(s_.model);
  return trainable_base_ ? 2.0 * (c.lm_head > 0 ? c.lm_head : c.token_embedding) / tp_ : 0;
}

std::vector<LayerLowering::Gemm> LayerLowering::attention_gemms_in() const {
  const ModelSpec& m = s_.model;
  const double h = m.hidden, kv = static_cast<double>(m.kv_heads * m.head_dim()), r = t_.lora_rank, T = tokens_;
  const bool lora = t_.finetune != Finetune::full;
  // Adapter FLOPs per pass: 2·T·r·(d_in + d_out) per adapted matrix.
  const double adapted = t_.lora_targets == LoraTargets::qv ? (h + h) + (h + kv) : (h + h) + 2 * (h + kv);
  const double qkv_adapter = lora ? 2 * T * r * adapted / tp_ : 0;
  return {{OpKind::qkv_proj, T, (h + 2 * kv) / tp_, h, qkv_adapter}};
}

double LayerLowering::output_adapter_flops() const {
  const double h = s_.model.hidden;
  const bool adapted = t_.finetune != Finetune::full && t_.lora_targets != LoraTargets::qv;
  return adapted ? 2 * tokens_ * t_.lora_rank * (h + h) / tp_ : 0;
}

std::vector<LayerLowering::Gemm> LayerLowering::mlp_gemms() const {
  const ModelSpec& m = s_.model;
  const double h = m.hidden, i = m.ffn_hidden, T = tokens_, r = t_.lora_rank;
  const bool lora = t_.finetune != Finetune::full && t_.lora_targets == LoraTargets::all_linear;
  const double adapter_in = lora ? 2 * T * r * (h + i) / tp_ : 0;
  if (m.arch == Arch::llama)
    return {{OpKind::mlp_gate, T, i / tp_, h, adapter_in},
            {OpKind::mlp_up, T, i / tp_, h, adapter_in},
            {OpKind::mlp_down, T, h, i / tp_, adapter_in}};
  return {{OpKind::mlp_up, T, i / tp_, h, adapter_in}, {OpKind::mlp_down, T, h, i / tp_, adapter_in}};
}

uint32_t LayerLowering::gemm(RankProgram& p, const Gemm& g, Phase phase, int layer, int mb,
                             std::vector<uint32_t> deps) {
  Op op;
  op.kind = g.kind;
  op.phase = phase;
  op.layer = layer;
  op.micro_batch = mb;
  op.work = WorkClass::gemm;
  op.precision = t_.precision;
  op.gemm_m = g.m;
  op.gemm_n = g.n;
  op.gemm_k = g.k;
  op.flops = 2 * g.m * g.n * g.k + g.adapter_flops;
  op.model_flops = phase == Phase::recompute ? 0 : op.flops;
  op.bytes = kActivationBytes * (g.m * g.k + g.k * g.n + g.m * g.n);
  op.deps = std::move(deps);
  return p.add(std::move(op));
}

uint32_t LayerLowering::elementwise(RankProgram& p, OpKind kind, Phase phase, int layer, int mb, double bytes,
                                    std::vector<uint32_t> deps) {
  Op op;
  op.kind = kind;
  op.phase = phase;
  op.layer = layer;
  op.micro_batch = mb;
  op.work = WorkClass::memory_bound;
  op.bytes = bytes;
  op.deps = std::move(deps);
  return p.add(std::move(op));
}

uint32_t LayerLowering::collective(RankProgram& p, OpKind kind, Group group, Phase phase, int layer, int mb,
                                   double bytes, std::vector<uint32_t> deps) {
  Op op;
  op.kind = kind;
  op.group = group;
  op.stream = stream_of_group(group);
  op.phase = phase;
  op.layer = layer;
  op.micro_batch = mb;
  op.bytes = bytes;
  op.deps = std::move(deps);
  return p.add(std::move(op));
}

// Scores and weighted values: 2·T·S·h/tp FLOPs each by the non-causal convention; the causal
// FlashAttention kernel skips the masked half.
uint32_t LayerLowering::attention(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep) {
  const ModelSpec& m = s_.model;
  const double S = static_cast<double>(t_.seq_len), T = tokens_, h = m.hidden;
  const double kv = static_cast<double>(m.kv_heads * m.head_dim());
  const double passes = phase == Phase::backward ? 2 : 1;
  Op op;
  op.kind = OpKind::attention;
  op.phase = phase;
  op.layer = layer;
  op.micro_batch = mb;
  op.work = WorkClass::attention;
  op.model_flops = phase == Phase::recompute ? 0 : passes * 4 * T * S * h / tp_;
  op.flops = passes * 4 * T * S * h / tp_ * 0.5;
  op.bytes = passes * kActivationBytes * T * (2 * h + 2 * kv) / tp_;
  op.deps = {dep};
  return p.add(std::move(op));
}

// Megatron's f/g operators: without SP an all-reduce after the row-parallel GEMM (forward) or
// after the column-parallel input gradient (backward); with SP a reduce-scatter there and an
// all-gather before the column-parallel GEMM.
uint32_t LayerLowering::tp_after_block(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep) {
  if (tp_ == 1) return dep;
  OpKind kind = t_.sp ? OpKind::reduce_scatter : OpKind::all_reduce;
  uint32_t c = collective(p, kind, Group::tp, phase, layer, mb, hidden_bytes_, {dep});
  return c;
}

uint32_t LayerLowering::tp_before_block(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep) {
  if (tp_ == 1 || !t_.sp) return dep;
  return collective(p, OpKind::all_gather, Group::tp, phase, layer, mb, hidden_bytes_, {dep});
}

uint32_t LayerLowering::moe_forward(RankProgram& p, Phase phase, int layer, int mb, uint32_t dep) {
  const ModelSpec& m = s_.model;
  const double T = tokens_, h = m.hidden, k = static_cast<double>(m.moe->top_k);
  uint32_t router = gemm(p, {OpKind::router, T, static_cast<double>(m.moe->experts), h, 0}, phase, layer, mb, {dep});
  uint32_t dispatch = t_.ep > 1 ? collective(p, OpKind::all_to_all, Group::ep, phase, layer, mb,
                                             T * k * h * kActivationBytes, {router})
                                : router;
  const double mats = m.arch == Arch::llama ? 3 : 2;
  const double local_experts = static_cast<double>(m.moe->experts) / t_.ep;
  Gemm experts{OpKind::expert_mlp, T * k / local_experts, m.ffn_hidden / tp_, h, 0};
  uint32_t e = gemm(p, experts, phase, layer, mb, {dispatch});
  p.ops[e].flops *= mats * local_experts;
  p.ops[e].model_flops *= mats * local_experts;
  p.ops[e].bytes *= mats * local_experts;
  return t_.ep > 1 ? collective(p, OpKind::all_to_all, Group::ep, phase, layer, mb, T * k * h * kActivationBytes, {e})
                   : e;
}

uint32_t LayerLowering::layer_forward(RankProgram& p, int layer, int mb, Phase phase,
                                      const std::vector<uint32_t>& deps) {
  const ModelSpec& m = s_.model;
  const double x = hidden_bytes_ / sp_divisor_;  // one elementwise pass over the hidden state
  std::vector<uint32_t> start = deps;
  if (dequantized_bytes_ > 0) {
    uint32_t dq = elementwise(p, OpKind::dequantize, phase, layer, mb, dequantized_bytes_ * 1.25, start);
    p.ops[dq].at_start.push_back({MemCategory::transient, dequantized_bytes_});
    start = {dq};
  }
  uint32_t last = elementwise(p, OpKind::norm, phase, layer, mb, 2 * x, start);
  last = tp_before_block(p, phase, layer, mb, last);
  for (const Gemm& g : attention_gemms_in()) last = gemm(p, g, phase, layer, mb, {last});
  last = elementwise(p, OpKind::rope, phase, layer, mb, 2 * kActivationBytes * tokens_ * 2 * m.hidden / tp_, {last});
  if (t_.cp > 1) {
    const double kv_bytes = tokens_ * t_.cp * 2.0 * m.kv_heads * m.head_dim() * kActivationBytes / tp_;
    last = collective(p, OpKind::all_gather, Group::cp, phase, layer, mb, kv_bytes, {last});
  }
  last = attention(p, phase, layer, mb, last);
  const double h = m.hidden;
  const double o_adapter = output_adapter_flops();
  last = gemm(p, {OpKind::out_proj, tokens_, h, h / tp_, o_adapter}, phase, layer, mb, {last});
  last = tp_after_block(p, phase, layer, mb, last);
  last = elementwise(p, OpKind::residual, phase, layer, mb, 3 * x, {last});
  last = elementwise(p, OpKind::norm, phase, layer, mb, 2 * x, {last});
  last = tp_before_block(p, phase, layer, mb, last);
  if (m.moe) {
    last = moe_forward(p, phase, layer, mb, last);
  } else {
    std::vector<Gemm> mlp = mlp_gemms();
    uint32_t gate = last;
    for (size_t i = 0; i + 1 < mlp.size(); ++i) gate = gemm(p, mlp[i], phase, layer, mb, {last});
    const double inner = tokens_ * m.ffn_hidden / tp_ * kActivationBytes;
    last = elementwise(p, OpKind::activation, phase, layer, mb, (m.arch == Arch::llama ? 3 : 2) * inner, {gate});
    last = gemm(p, mlp.back(), phase, layer, mb, {last});
  }
  last = tp_after_block(p, phase, layer, mb, last);
  last = elementwise(p, OpKind::residual, phase, layer, mb, 3 * x, {last});
  Op& end = p.ops[last];
  if (phase == Phase::forward) end.at_end.push_back({MemCategory::activations, saved_per_layer_});
  if (dequantized_bytes_ > 0) end.at_end.push_back({MemCategory::transient, -dequantized_bytes_});
  if (t_.shards_parameters() && phase == Phase::forward)
    end.at_end.push_back({MemCategory::gathered_parameters, -gathered_layer_bytes_});
  return last;
}

void LayerLowering::gemm_backward(RankProgram& p, const Gemm& g, int layer, int mb, uint32_t& last) {
  // Data gradient: same FLOPs as the forward GEMM (plus the adapters' data gradient).
  last = gemm(p, g, Phase::backward, layer, mb, {last});
  // Weight gradient: only for trained weights; with LoRA only the adapters', unless the block's
  // FSDP unit computes its frozen weights' too (fsdp_frozen_gradients; the output layer sits in the
  // root unit, which holds no adapters): work the model does not need, so no model FLOPs.
  const bool in_adapted_unit = layer >= 0;
  if (trainable_base_ || (t_.frozen_weights_get_gradients() && in_adapted_unit)) {
    last = gemm(p, {g.kind, g.k, g.n, g.m, 0}, Phase::backward, layer, mb, {last});
    if (!trainable_base_) p.ops[last].model_flops = 0;
  }
  if (!trainable_base_ && g.adapter_flops > 0)
    last = gemm(p, {g.kind, 0, 0, 0, g.adapter_flops}, Phase::backward, layer, mb, {last});
}

namespace {
OpKind op_kind(Projection projection) {
  switch (projection) {
    case Projection::o: return OpKind::out_proj;
    case Projection::gate: return OpKind::mlp_gate;
    case Projection::up: return OpKind::mlp_up;
    case Projection::down: return OpKind::mlp_down;
    case Projection::q:
    case Projection::k:
    case Projection::v:
    case Projection::qkv: return OpKind::qkv_proj;
  }
  return OpKind::qkv_proj;
}
}  // namespace

uint32_t LayerLowering::recompute_unsaved_matmuls(RankProgram& p, int layer, int mb, uint32_t last) {
  const std::vector<BlockMatmul> matmuls = block_matmuls(s_.model);
  for (size_t i = 0; i < matmuls.size(); ++i) {
    if (per_op_checkpoint_saves(i)) continue;
    const BlockMatmul& mm = matmuls[i];
    const OpKind kind = op_kind(mm.projection);
    const Gemm g = mm.row_parallel ? Gemm{kind, tokens_, mm.out, mm.in / tp_, 0} : Gemm{kind, tokens_, mm.out / tp_, mm.in, 0};
    last = gemm(p, g, Phase::recompute, layer, mb, {last});
  }
  return last;
}

uint32_t LayerLowering::layer_backward(RankProgram& p, int layer, int mb, const std::vector<uint32_t>& deps) {
  const ModelSpec& m = s_.model;
  const double x = hidden_bytes_ / sp_divisor_;
  std::vector<uint32_t> start = deps;
  if (dequantized_bytes_ > 0) {
    uint32_t dq = elementwise(p, OpKind::dequantize, Phase::backward, layer, mb, dequantized_bytes_ * 1.25, start);
    p.ops[dq].at_start.push_back({MemCategory::transient, dequantized_bytes_});
    start = {dq};
  }
  uint32_t last = elementwise(p, OpKind::residual, Phase::backward, layer, mb, 2 * x, start);
  Op& first = p.ops[last];
  first.at_start.push_back({MemCategory::transient, backward_transient_});
  if (t_.shards_parameters() && trainable_layer_bytes_ > 0)
    first.at_start.push_back({MemCategory::gradient_buffers, trainable_layer_bytes_});
  if (t_.recompute == Recompute::selective_op) last = recompute_unsaved_matmuls(p, layer, mb, last);
  last = tp_before_block(p, Phase::backward, layer, mb, last);
  std::vector<Gemm> mlp = mlp_gemms();
  if (m.moe) {
    // Same traffic as the forward; the experts' GEMMs run twice (data and weight gradients).
    const size_t before = p.ops.size();
    last = moe_forward(p, Phase::backward, layer, mb, last);
    for (size_t i = before; i < p.ops.size(); ++i)
      if (p.ops[i].kind == OpKind::expert_mlp || p.ops[i].kind == OpKind::router) {
        p.ops[i].flops *= 2;
        p.ops[i].model_flops *= 2;
        p.ops[i].bytes *= 2;
      }
  } else {
    gemm_backward(p, mlp.back(), layer, mb, last);
    last = elementwise(p, OpKind::activation, Phase::backward, layer, mb,
                       2 * tokens_ * m.ffn_hidden / tp_ * kActivationBytes * 2, {last});
    for (size_t i = mlp.size() - 1; i-- > 0;) gemm_backward(p, mlp[i], layer, mb, last);
  }
  last = tp_after_block(p, Phase::backward, layer, mb, last);
  last = elementwise(p, OpKind::norm, Phase::backward, layer, mb, 3 * x, {last});
  last = elementwise(p, OpKind::residual, Phase::backward, layer, mb, 2 * x, {last});
  last = tp_before_block(p, Phase::backward, layer, mb, last);
  const double h = m.hidden;
  const double o_adapter = output_adapter_flops();
  gemm_backward(p, {OpKind::out_proj, tokens_, h, h / tp_, o_adapter}, layer, mb, last);
  if (t_.recompute == Recompute::selective) last = attention(p, Phase::recompute, layer, mb, last);
  last = attention(p, Phase::backward, layer, mb, last);
  if (t_.cp > 1) {
    const double kv_bytes = tokens_ * t_.cp * 2.0 * m.kv_heads * m.head_dim() * kActivationBytes / tp_;
    last = collective(p, OpKind::reduce_scatter, Group::cp, Phase::backward, layer, mb, kv_bytes, {last});
  }
  last = elementwise(p, OpKind::rope, Phase::backward, layer, mb, 2 * kActivationBytes * tokens_ * 2 * h / tp_, {last});
  for (const Gemm& g : attention_gemms_in()) gemm_backward(p, g, layer, mb, last);
  last = tp_after_block(p, Phase::backward, layer, mb, last);
  last = elementwise(p, OpKind::norm, Phase::backward, layer, mb, 3 * x, {last});
  Op& end = p.ops[last];
  end.at_end.push_back({MemCategory::activations, -saved_per_layer_});
  end.at_end.push_back({MemCategory::transient, -backward_transient_});
  if (dequantized_bytes_ > 0) end.at_end.push_back({MemCategory::transient, -dequantized_bytes_});
  if (t_.shards_parameters()) end.at_end.push_back({MemCategory::gathered_parameters, -gathered_layer_bytes_});
  return last;
}

// DeepSpeed ZeRO-3 fetches the embedding and the output layer when they run and releases them
// after (FSDP keeps them in the root unit instead: gather_root_parameters).
std::vector<uint32_t> LayerLowering::fetch_on_use(RankProgram& p, Phase phase, int mb, double bytes,
                                                  std::vector<uint32_t> deps) {
  if (!t_.fetches_root_on_use() || !(bytes > 0)) return deps;
  uint32_t id = collective(p, OpKind::all_gather, Group::dp_shard, phase, -1, mb, bytes, {});
  p.ops[id].at_start.push_back({MemCategory::gathered_parameters, bytes});
  deps.push_back(id);
  return deps;
}

void LayerLowering::release_after(RankProgram& p, uint32_t op, double bytes) {
  if (t_.fetches_root_on_use() && bytes > 0) p.ops[op].at_end.push_back({MemCategory::gathered_parameters, -bytes});
}

double LayerLowering::embedding_parameter_bytes() const {
  return 2.0 * static_cast<double>(count_parameters(s_.model).token_embedding) / tp_;
}

double LayerLowering::head_parameter_bytes() const {
  const ParameterCounts c = count_parameters(s_.model);
  const double head = static_cast<double>(c.lm_head > 0 ? c.lm_head : c.token_embedding);
  return 2.0 * (head / tp_ + static_cast<double>(c.final_norm));
}

uint32_t LayerLowering::embedding_forward(RankProgram& p, int mb) {
  uint32_t e = elementwise(p, OpKind::embedding, Phase::forward, -1, mb, 2 * hidden_bytes_,
                           fetch_on_use(p, Phase::forward, mb, embedding_parameter_bytes(), {}));
  release_after(p, e, embedding_parameter_bytes());
  p.ops[e].at_end.push_back({MemCategory::activations, embedding_activation_bytes(s_.model, t_, tokens_)});
  if (tp_ > 1) e = collective(p, OpKind::all_reduce, Group::tp, Phase::forward, -1, mb, hidden_bytes_, {e});
  return e;
}

void LayerLowering::embedding_backward(RankProgram& p, int mb, uint32_t dep) {
  uint32_t e = elementwise(p, OpKind::embedding, Phase::backward, -1, mb, trainable_base_ ? 3 * hidden_bytes_ : 0,
                           fetch_on_use(p, Phase::backward, mb, embedding_parameter_bytes(), {dep}));
  release_after(p, e, embedding_parameter_bytes());
  p.ops[e].at_end.push_back({MemCategory::activations, -embedding_activation_bytes(s_.model, t_, tokens_)});
}

void LayerLowering::head_forward(RankProgram& p, int mb, const std::vector<uint32_t>& deps) {
  const ModelSpec& m = s_.model;
  const double V = static_cast<double>(m.vocab), h = m.hidden;
  uint32_t last = elementwise(p, OpKind::norm, Phase::forward, -1, mb, 2 * hidden_bytes_ / sp_divisor_,
                              fetch_on_use(p, Phase::forward, mb, head_parameter_bytes(), deps));
  last = tp_before_block(p, Phase::forward, -1, mb, last);
  last = gemm(p, {OpKind::lm_head, tokens_, V / tp_, h, 0}, Phase::forward, -1, mb, {last});
  release_after(p, last, head_parameter_bytes());
  p.ops[last].at_end.push_back({MemCategory::logits, loss_activation_bytes(m, t_, tokens_)});
  last = elementwise(p, OpKind::loss, Phase::forward, -1, mb, 3 * 4 * tokens_ * V / tp_, {last});
  if (tp_ > 1) collective(p, OpKind::all_reduce, Group::tp, Phase::forward, -1, mb, 8 * tokens_, {last});
}

uint32_t LayerLowering::head_backward(RankProgram& p, int mb) {
  const ModelSpec& m = s_.model;
  const double V = static_cast<double>(m.vocab), h = m.hidden;
  uint32_t last = elementwise(p, OpKind::loss, Phase::backward, -1, mb, 3 * 4 * tokens_ * V / tp_,
                              fetch_on_use(p, Phase::backward, mb, head_parameter_bytes(), {}));
  // The gradient of the logits lives while the output layer's backward runs (memory.md §2.3).
  const double logit_gradient = loss_gradient_bytes(m, t_, tokens_);
  p.ops[last].at_start.push_back({MemCategory::logits, logit_gradient});
  gemm_backward(p, {OpKind::lm_head, tokens_, V / tp_, h, 0}, -1, mb, last);
  release_after(p, last, head_parameter_bytes());
  p.ops[last].at_end.push_back({MemCategory::logits, -logit_gradient});
  // The output layer's input gradient is a partial sum over the vocabulary shards.
  last = tp_after_block(p, Phase::backward, -1, mb, last);
  p.ops[last].at_end.push_back({MemCategory::logits, -loss_activation_bytes(m, t_, tokens_)});
  return elementwise(p, OpKind::norm, Phase::backward, -1, mb, 3 * hidden_bytes_ / sp_divisor_, {last});
}

uint32_t LayerLowering::pipeline_recv(RankProgram& p, int mb, int chunk, Phase phase) {
  const Group from = phase == Phase::forward ? Group::pp_prev : Group::pp_next;
  uint32_t id = collective(p, OpKind::recv, from, phase, -1, mb, hidden_bytes_ / sp_divisor_, {});
  p.ops[id].chunk = chunk;
  return id;
}

void LayerLowering::pipeline_send(RankProgram& p, int mb, int chunk, Phase phase, uint32_t dep) {
  const Group to = phase == Phase::forward ? Group::pp_next : Group::pp_prev;
  uint32_t id = collective(p, OpKind::send, to, phase, -1, mb, hidden_bytes_ / sp_divisor_, {dep});
  p.ops[id].chunk = chunk;
}

uint32_t LayerLowering::gather_parameters(RankProgram& p, int layer, int mb, Phase phase) {
  uint32_t id = collective(p, OpKind::all_gather, Group::dp_shard, phase, layer, mb, gathered_layer_bytes_, {});
  p.ops[id].at_start.push_back({MemCategory::gathered_parameters, gathered_layer_bytes_});
  return id;
}

// Parameters outside the blocks (embedding, output layer, final norm) on this pipeline rank.
double LayerLowering::root_parameters(int pipeline_rank) const {
  const RankParameters r = rank_parameters(s_, pipeline_rank);
  return std::max(0.0, r.parameters - r.layers * block_parameters(s_).parameters);
}

uint32_t LayerLowering::gather_root_parameters(RankProgram& p, int pipeline_rank) {
  const double bytes = 2 * root_parameters(pipeline_rank);
  uint32_t id = collective(p, OpKind::all_gather, Group::dp_shard, Phase::forward, -1, 0, bytes, {});
  p.ops[id].at_start.push_back({MemCategory::gathered_parameters, bytes});
  return id;
}

uint32_t LayerLowering::reduce_root_gradients(RankProgram& p, int pipeline_rank, int mb, uint32_t producer) {
  const double bytes = trainable_base_ ? 2 * root_parameters(pipeline_rank) : 0;
  uint32_t id = collective(p, OpKind::reduce_scatter, Group::dp_shard, Phase::backward, -1, mb, bytes,
                           {producer});
  if (t_.keeps_root_unit_gathered())
    p.ops[id].at_end.push_back({MemCategory::gathered_parameters, -2 * root_parameters(pipeline_rank)});
  return id;
}

uint32_t LayerLowering::reduce_gradients(RankProgram& p, int layer, int mb, uint32_t producer, double bytes,
                                         bool replicate) {
  uint32_t id = collective(p, OpKind::reduce_scatter, Group::dp_shard, Phase::backward, layer, mb, bytes, {producer});
  p.ops[id].at_end.push_back({MemCategory::gradient_buffers, -bytes});
  if (replicate && t_.hsdp_shard_size > 0 && s_.dp() / t_.hsdp_shard_size > 1)
    id = collective(p, OpKind::all_reduce, Group::dp_replicate, Phase::backward, layer, mb,
                    bytes / (t_.hsdp_shard_size * t_.cp), {id});
  return id;
}

uint32_t LayerLowering::bucket_collective(RankProgram& p, OpKind kind, double bytes, int mb, uint32_t producer) {
  return collective(p, kind, Group::dp_shard, Phase::backward, -1, mb, bytes, {producer});
}

namespace {

// Host-memory traffic of DeepSpeed's CPU-Adam per parameter of the rank's shard. It keeps the fp32
// master weight, the fp32 gradient (the bf16 gradient upcast on arrival) and fp32 m and v in host
// memory: it reads master, gradient, m, v (4 x 4 B), writes master, m, v (3 x 4 B) and writes the
// bf16 copy that goes back to the GPU (2 B): 16 + 12 + 2 = 30 bytes.
constexpr double kCpuAdamReadBytes = 4 * 4;
constexpr double kCpuAdamWriteBytes = 3 * 4;
constexpr double kCpuAdamCopyBackBytes = 2;
constexpr double kCpuAdamHostBytesPerParameter = kCpuAdamReadBytes + kCpuAdamWriteBytes + kCpuAdamCopyBackBytes;

// Host-link traffic per parameter of the shard: its gradient goes down to the host; the updated
// parameter comes back, except with params_optimizer, where the weights live on the host and
// cross the link when they are gathered (not timed here).
double offloaded_link_bytes_per_parameter(const TrainingConfig& t, const BytesPerParameter& b) {
  return b.gradients + (t.offload == Offload::params_optimizer ? 0 : b.weights);
}

}  // namespace

uint32_t LayerLowering::optimizer_step(RankProgram& p, int pipeline_rank, const std::vector<uint32_t>& deps) {
  const RankParameters r = rank_parameters(s_, pipeline_rank);
  const double trainable = trainable_base_ ? r.parameters : r.lora_parameters;
  const double shard = t_.shards_optimizer() ? sharding_group_size(s_) : 1;
  const BytesPerParameter b = trainable_bytes_per_parameter(t_);
  Op op;
  op.kind = OpKind::optimizer_step;
  op.phase = Phase::optimizer;
  op.work = WorkClass::memory_bound;
  // Read gradient, states and master; write states, master and the compute copy.
  op.bytes = trainable / shard * (b.gradients + 2 * b.optimizer + b.weights);
  op.deps = deps;
  // The update's temporaries follow the states' dtype (bf16 in pure-bf16 training) and, when the
  // step runs in backward, only one update group is in flight at a time.
  const double updated_together = t_.optimizer_in_backward ? largest_update_group(s_, pipeline_rank) : trainable;
  const double dtype_scale = t_.fp32_master_weights || t_.precision == Precision::fp32 ? 1.0 : 0.5;
  const double temporaries =
      t_.offload == Offload::none && !t_.fused_optimizer_step && !t_.paged_optimizer  // bitsandbytes: one fused kernel
          ? updated_together / shard * optimizer_temporaries_ * dtype_scale
          : 0;
  op.at_start.push_back({MemCategory::transient, temporaries});
  op.at_end.push_back({MemCategory::transient, -temporaries});
  if (t_.paged_optimizer) op.paged_state_bytes = model_state_bytes(s_, pipeline_rank).paged;
  if (t_.offload != Offload::none) {
    // The step runs on the host: no device-memory traffic; op_costs times the host side.
    op.bytes = 0;
    op.host_bytes = trainable / shard * kCpuAdamHostBytesPerParameter;
    op.host_link_bytes = trainable / shard * offloaded_link_bytes_per_parameter(t_, b);
  }
  return p.add(std::move(op));
}

void LayerLowering::gather_updated_parameters(RankProgram& p, int pipeline_rank, uint32_t dep) {
  const RankParameters r = rank_parameters(s_, pipeline_rank);
  collective(p, OpKind::all_gather, Group::dp_shard, Phase::optimizer, -1, -1,
             2 * (trainable_base_ ? r.parameters : r.lora_parameters), {dep});
}

}  // namespace stepsim
