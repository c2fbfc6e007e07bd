#include "workload/pipeline_schedule.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace stepsim {

namespace {

using Kind = PipelineStep::Kind;

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("pipeline_order: " + what);
}

std::vector<PipelineStep> gpipe_order(int m) {
  std::vector<PipelineStep> order;
  for (int i = 0; i < m; ++i) order.push_back({Kind::forward, i, 0});
  // Backwards in forward order, as PyTorch's ScheduleGPipe runs them; the in-flight peak (m)
  // and the makespan are the same in either order.
  for (int i = 0; i < m; ++i) order.push_back({Kind::backward, i, 0});
  return order;
}

// Megatron's forward_backward_pipelining_without_interleaving.
std::vector<PipelineStep> one_f_one_b_order(int pp, int m, int rank) {
  const int warmup = std::min(pp - rank - 1, m);
  std::vector<PipelineStep> order;
  for (int i = 0; i < warmup; ++i) order.push_back({Kind::forward, i, 0});
  for (int i = 0; i < m - warmup; ++i) {
    order.push_back({Kind::forward, i + warmup, 0});
    order.push_back({Kind::backward, i, 0});
  }
  for (int i = m - warmup; i < m; ++i) order.push_back({Kind::backward, i, 0});
  return order;
}

// Megatron's get_schedule_table with group size pp: the k-th chunk-forward of a rank. Groups
// of pp micro-batches go through chunk 0, then chunk 1, ... before the next group starts.
PipelineStep interleaved_forward(int pp, int vp, int k) {
  const int group = k / (pp * vp);
  const int in_group = k % (pp * vp);
  return {Kind::forward, group * pp + in_group % pp, in_group / pp};
}

// The k-th chunk-backward mirrors the k-th chunk-forward with the chunk order reversed
// (Megatron's get_model_chunk_id(k, forward=False)); each chunk pops its oldest forward, so the
// micro-batch is the table's.
PipelineStep interleaved_backward(int pp, int vp, int k) {
  PipelineStep s = interleaved_forward(pp, vp, k);
  return {Kind::backward, s.micro_batch, vp - 1 - s.chunk};
}

// Megatron's forward_backward_pipelining_with_interleaving (get_pp_rank_microbatches for the
// warm-up count). Later ranks warm up less: their first chunk-forward arrives later.
std::vector<PipelineStep> interleaved_order(int pp, int vp, int m, int rank) {
  const int total = m * vp;
  const int warmup = std::min((pp - rank - 1) * 2 + (vp - 1) * pp, total);
  std::vector<PipelineStep> order;
  for (int k = 0; k < warmup; ++k) order.push_back(interleaved_forward(pp, vp, k));
  for (int k = 0; k < total - warmup; ++k) {
    order.push_back(interleaved_forward(pp, vp, k + warmup));
    order.push_back(interleaved_backward(pp, vp, k));
  }
  for (int k = total - warmup; k < total; ++k) order.push_back(interleaved_backward(pp, vp, k));
  return order;
}

}  // namespace

std::vector<PipelineStep> pipeline_order(PipelineSchedule schedule, int pp, int vp, int micro_batches,
                                         int rank) {
  require(pp >= 1 && vp >= 1 && micro_batches >= 1, "pp, vp and micro-batches must be >= 1");
  require(rank >= 0 && rank < pp, "rank must be in 0..pp-1");
  const bool interleaved = schedule == PipelineSchedule::interleaved && vp > 1;
  require(interleaved || vp == 1, "vp > 1 needs the interleaved schedule");
  if (interleaved) {
    // Megatron raises for a last micro-batch group smaller than pp: such a group would
    // leave dependency bubbles. We refuse it too rather than invent a schedule.
    require(micro_batches % pp == 0, "the interleaved schedule needs micro-batches divisible by pp");
    return interleaved_order(pp, vp, micro_batches, rank);
  }
  if (schedule == PipelineSchedule::gpipe) return gpipe_order(micro_batches);
  return one_f_one_b_order(pp, micro_batches, rank);
}

int max_in_flight(const std::vector<PipelineStep>& order) {
  int alive = 0, peak = 0;
  for (const PipelineStep& s : order) {
    alive += s.kind == PipelineStep::forward ? 1 : -1;
    peak = std::max(peak, alive);
  }
  return peak;
}

}  // namespace stepsim
