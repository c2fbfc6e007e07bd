#include "workload/program_builder.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "workload/activation_memory.h"
#include "workload/layer_lowering.h"
#include "workload/model_state_memory.h"
#include "workload/pipeline_schedule.h"
#include "workload/stage_partition.h"

namespace stepsim {

namespace {

// Builds the program of one pipeline rank. Holds the bookkeeping that crosses layers: ZeRO-3
// parameter gathers in flight, gradient buckets, and the ops the optimizer must wait for.
class StageBuilder {
 public:
  StageBuilder(const Scenario& s, int rank, int micro_batches, double tokens, double optimizer_temporaries)
      : s_(s), t_(s.training), rank_(rank), m_(micro_batches), lowering_(s, tokens, optimizer_temporaries) {
    program_.pipeline_rank = rank;
    const auto& split = t_.layers_per_stage;
    for (int chunk = 0; chunk < t_.vp; ++chunk) {
      const int stage = chunk * t_.pp + rank;
      int first = 0;
      for (int v = 0; v < stage; ++v) first += split[static_cast<size_t>(v)];
      chunks_.push_back({first, split[static_cast<size_t>(stage)]});
    }
  }

  RankProgram build() {
    add_static_memory();
    if (t_.keeps_root_unit_gathered())
      root_gather_ = lowering_.gather_root_parameters(program_, rank_);
    for (const PipelineStep& step : pipeline_order(t_.schedule, t_.pp, t_.vp, m_, rank_)) {
      if (step.kind == PipelineStep::forward) forward(step.micro_batch, step.chunk);
      else backward(step.micro_batch, step.chunk);
    }
    finish_gradients();
    optimizer();
    return std::move(program_);
  }

 private:
  struct Chunk {
    int first_layer, layers;
  };

  bool first_stage(int chunk) const { return chunk == 0 && rank_ == 0; }
  bool last_stage(int chunk) const { return chunk == t_.vp - 1 && rank_ == t_.pp - 1; }
  bool shards_params() const { return t_.shards_parameters(); }

  void add_static_memory() {
    const ModelStateBytes states = model_state_bytes(s_, rank_);
    Op start;
    start.kind = OpKind::norm;  // a zero-cost marker that carries the resident state
    start.phase = Phase::forward;
    const bool per_step_gradients = t_.gradients_set_to_none && !t_.optimizer_in_backward;
    start.at_start = {{MemCategory::weights, states.weights},
                      {MemCategory::gradients, per_step_gradients ? 0 : states.gradients},
                      {MemCategory::optimizer, states.optimizer}};
    program_.add(start);
    if (per_step_gradients) plan_per_step_gradients(states.gradients);
  }

  // zero_grad(set_to_none=True): each block's (sharded) gradients appear when its first backward
  // of the step ends; embedding, head and final norm share the rest, which appears with the
  // stage's first backward. All of them are freed after the optimizer step.
  void plan_per_step_gradients(double total) {
    const RankParameters r = rank_parameters(s_, rank_);
    const double per_layer = gradient_parameters_per_layer(s_);
    const double with_gradients = t_.finetune == Finetune::full ? r.parameters : r.layers * per_layer;
    if (!(total > 0) || !(with_gradients > 0)) return;
    gradients_per_layer_ = total * per_layer / with_gradients;
    gradients_outside_layers_ = std::max(0.0, total - gradients_per_layer_ * r.layers);
  }

  void allocate_layer_gradients(int layer, uint32_t op) {
    if (gradients_per_layer_ <= 0 && gradients_outside_layers_ <= 0) return;
    double bytes = 0;
    if (gradients_outside_layers_ > 0) bytes += std::exchange(gradients_outside_layers_, 0.0);
    if (layers_with_gradients_.insert(layer).second) bytes += gradients_per_layer_;
    if (bytes <= 0) return;
    program_.ops[op].at_end.push_back({MemCategory::gradients, bytes});
    allocated_gradients_ += bytes;
  }

  // ZeRO-3/FSDP: gather a layer's parameters before use; one layer of prefetch ahead.
  std::optional<uint32_t> gather(int layer, int micro_batch, Phase phase) {
    if (!shards_params()) return std::nullopt;
    auto key = std::make_pair(layer, static_cast<int>(phase == Phase::backward));
    auto it = gathers_.find(key);
    if (it != gathers_.end()) {
      uint32_t id = it->second;
      gathers_.erase(it);
      return id;
    }
    return lowering_.gather_parameters(program_, layer, micro_batch, phase);
  }

  void prefetch(int layer, int micro_batch, Phase phase) {
    if (!shards_params() || layer < 0 || layer >= s_.model.layers) return;
    auto key = std::make_pair(layer, static_cast<int>(phase == Phase::backward));
    if (!gathers_.count(key)) gathers_[key] = lowering_.gather_parameters(program_, layer, micro_batch, phase);
  }

  void forward(int mb, int chunk) {
    const Chunk& c = chunks_[static_cast<size_t>(chunk)];
    std::vector<uint32_t> input;
    if (root_gather_) input.push_back(*std::exchange(root_gather_, std::nullopt));
    if (!first_stage(chunk)) input.push_back(lowering_.pipeline_recv(program_, mb, chunk, Phase::forward));
    if (first_stage(chunk)) input.push_back(lowering_.embedding_forward(program_, mb));
    for (int l = c.first_layer; l < c.first_layer + c.layers; ++l) {
      std::optional<uint32_t> params = gather(l, mb, Phase::forward);
      prefetch(l + 1 < c.first_layer + c.layers ? l + 1 : -1, mb, Phase::forward);
      if (params) input.push_back(*params);
      uint32_t last = lowering_.layer_forward(program_, l, mb, Phase::forward, input);
      input = {last};
    }
    if (last_stage(chunk)) lowering_.head_forward(program_, mb, input);
    else lowering_.pipeline_send(program_, mb, chunk, Phase::forward, input.back());
  }

  void backward(int mb, int chunk) {
    const Chunk& c = chunks_[static_cast<size_t>(chunk)];
    std::vector<uint32_t> input;
    // The backward's pre-hook on the stage's outputs prefetches the first block to run backward
    // (FSDP1 BACKWARD_PRE, FSDP2's backward prefetch): on the last stage its parameters are
    // gathered while the loss and the output layer run backward, the moment logits peak; on the
    // others while the gradient from the next stage arrives.
    prefetch(c.first_layer + c.layers - 1, mb, Phase::backward);
    if (last_stage(chunk)) input.push_back(lowering_.head_backward(program_, mb));
    else input.push_back(lowering_.pipeline_recv(program_, mb, chunk, Phase::backward));
    const bool last_micro_batch = ++backward_count_[chunk] == m_;
    for (int l = c.first_layer + c.layers - 1; l >= c.first_layer; --l) {
      std::optional<uint32_t> params = gather(l, mb, Phase::backward);
      prefetch(l - 1 >= c.first_layer ? l - 1 : -1, mb, Phase::backward);
      if (params) input.push_back(*params);
      if (t_.recompute == Recompute::full) input = {lowering_.layer_forward(program_, l, mb, Phase::recompute, input)};
      uint32_t last = lowering_.layer_backward(program_, l, mb, input);
      if (!t_.accumulates_unsharded_gradients()) allocate_layer_gradients(l, last);
      input = {last};
      gradients_ready(l, mb, last, last_micro_batch);
    }
    if (first_stage(chunk)) lowering_.embedding_backward(program_, mb, input.back());
    else lowering_.pipeline_send(program_, mb, chunk, Phase::backward, input.back());
  }

  // Gradient reduction: ZeRO-3/FSDP reduce-scatter every layer of every micro-batch (FSDP under
  // no_sync: only in the last one); ZeRO-2 reduce-scatters buckets every micro-batch; DDP and ZeRO-1
  // reduce buckets once, overlapping the last micro-batch's backward (gradient accumulation runs
  // without communication). A bucket holds at least dp_bucket_mb and never splits a layer:
  // gradients that become ready at the same moment travel as one collective, which keeps the flow
  // count low at scale.
  void gradients_ready(int layer, int mb, uint32_t producer, bool last_micro_batch) {
    if (t_.finetune != Finetune::full && lowering_.trainable_bytes_per_layer() == 0) return;
    if (shards_params()) {
      if (t_.accumulates_unsharded_gradients() && !hold_unsharded_gradient(layer, producer, last_micro_batch)) return;
      const uint32_t reduced = lowering_.reduce_gradients(program_, layer, mb, producer, layer_grad_bytes(),
                                                          t_.sharding == Sharding::hsdp && last_micro_batch);
      grad_ops_.push_back(reduced);
      if (t_.accumulates_unsharded_gradients()) allocate_layer_gradients(layer, reduced);
      return;
    }
    if (t_.sharding != Sharding::zero2 && !last_micro_batch) return;
    if (!dp_sync()) return;
    bucket_bytes_ += layer_grad_bytes();
    bucket_producer_ = producer;
    if (bucket_bytes_ >= t_.dp_bucket_bytes) flush_bucket(mb);
  }

  // FSDP no_sync(): the first micro-batch's gradient of a layer stays as its unsharded
  // accumulator; later micro-batches add into it and free their own. True when the accumulator
  // is to be reduce-scattered now (the step's last micro-batch), which frees it.
  bool hold_unsharded_gradient(int layer, uint32_t producer, bool last_micro_batch) {
    const bool held = !unsynced_layers_.insert(layer).second;
    if (held) program_.ops[producer].at_end.push_back({MemCategory::gradient_buffers, -layer_grad_bytes()});
    if (last_micro_batch) unsynced_layers_.erase(layer);
    return last_micro_batch;
  }

  bool dp_sync() const { return s_.dp() * t_.cp > 1; }
  double layer_grad_bytes() const { return lowering_.trainable_bytes_per_layer(); }

  void flush_bucket(int mb) {
    if (bucket_bytes_ <= 0) return;
    const OpKind kind = t_.sharding == Sharding::none ? OpKind::all_reduce : OpKind::reduce_scatter;
    grad_ops_.push_back(lowering_.bucket_collective(program_, kind, bucket_bytes_, mb, bucket_producer_));
    bucket_bytes_ = 0;
  }

  // Embedding and output-layer gradients join the last bucket (they are ready last in DDP's
  // reverse order). ZeRO-3's root unit (embedding and head) is not modelled separately yet.
  void finish_gradients() {
    if (shards_params()) {
      const uint32_t last = static_cast<uint32_t>(program_.ops.size() - 1);
      grad_ops_.push_back(lowering_.reduce_root_gradients(program_, rank_, m_ - 1, last));
    }
    if (!shards_params() && dp_sync()) {
      if (rank_ == 0) bucket_bytes_ += lowering_.embedding_gradient_bytes();
      if (rank_ == t_.pp - 1) bucket_bytes_ += lowering_.head_gradient_bytes();
      bucket_producer_ = static_cast<uint32_t>(program_.ops.size() - 1);
    }
    flush_bucket(m_ - 1);
  }

  void optimizer() {
    uint32_t step = lowering_.optimizer_step(program_, rank_, grad_ops_);
    if (allocated_gradients_ > 0) program_.ops[step].at_end.push_back({MemCategory::gradients, -allocated_gradients_});
    if ((t_.sharding == Sharding::zero1 || t_.sharding == Sharding::zero2) && dp_sync())
      lowering_.gather_updated_parameters(program_, rank_, step);
  }

  const Scenario& s_;
  const TrainingConfig& t_;
  int rank_;
  int m_;
  LayerLowering lowering_;
  RankProgram program_;
  std::vector<Chunk> chunks_;
  std::map<std::pair<int, int>, uint32_t> gathers_;
  std::map<int, int> backward_count_;
  std::vector<uint32_t> grad_ops_;
  double bucket_bytes_ = 0;
  uint32_t bucket_producer_ = 0;
  double gradients_per_layer_ = 0, gradients_outside_layers_ = 0, allocated_gradients_ = 0;
  std::set<int> layers_with_gradients_;
  std::set<int> unsynced_layers_;  // layers whose unsharded gradient accumulates (FSDP no_sync)
  std::optional<uint32_t> root_gather_;
};

}  // namespace

Workload build_workload(const Scenario& s, const MemoryOverheads& overheads) {
  Workload w{ParallelLayout(s), static_cast<int>(s.micro_batches_per_step()),
             static_cast<double>(s.training.micro_batch * s.training.seq_len) / s.training.cp, {},
             overheads};
  for (int rank = 0; rank < s.training.pp; ++rank)
    w.stages.push_back(StageBuilder(s, rank, w.micro_batches, w.tokens_per_micro_batch,
                                    overheads.optimizer_step_bytes_per_parameter)
                           .build());
  return w;
}

}  // namespace stepsim
