// ParallelLayout: where each global rank sits in the 4-D grid of parallel degrees, and which
// ranks form each communication group. By default ranks are laid out as Megatron-LM does, TP
// fastest, then CP, then DP, then PP: rank = tp + TP·(cp + CP·(dp + DP·pp)), so TP groups stay
// inside a node; training.rank_order "tp-cp-pp-dp" swaps the outer two (the Llama 3 order), so
// that a data-parallel replica occupies consecutive nodes. Expert parallel groups are consecutive DP·CP ranks of one pipeline stage and TP rank.
// ZeRO/FSDP shard over all DP·CP ranks of a stage; HSDP over a shard group of consecutive DP
// ranks (times CP) and replicates across the groups.
#pragma once

#include <vector>

#include "scenario/scenario.h"
#include "workload/program.h"

namespace stepsim {

struct RankCoordinates {
  int tp = 0, cp = 0, dp = 0, pp = 0;
};

class ParallelLayout {
 public:
  explicit ParallelLayout(const Scenario& s);

  int world_size() const { return tp_ * cp_ * dp_ * pp_; }
  RankCoordinates coordinates(int rank) const;
  int rank_of(const RankCoordinates& c) const;
  // The ranks of `group` that contain `rank`, in ring order (pp_next/pp_prev: the one peer on the
  // pipeline ring, which wraps for interleaved schedules; none when pp = 1).
  std::vector<int> group_members(Group group, int rank) const;
  int tp() const { return tp_; }
  int cp() const { return cp_; }
  int dp() const { return dp_; }
  int pp() const { return pp_; }

 private:
  int tp_, cp_, dp_, pp_, ep_, shard_;
  bool dp_outermost_;
};

}  // namespace stepsim
