#include "workload/parallel_layout.h"

#include "workload/model_state_memory.h"

namespace stepsim {

ParallelLayout::ParallelLayout(const Scenario& s)
    : tp_(s.training.tp),
      cp_(s.training.cp),
      dp_(s.dp()),
      pp_(s.training.pp),
      ep_(s.training.ep),
      shard_(s.training.sharding == Sharding::hsdp ? s.training.hsdp_shard_size : s.dp()),
      dp_outermost_(s.training.data_parallel_outermost) {}

RankCoordinates ParallelLayout::coordinates(int rank) const {
  RankCoordinates c;
  c.tp = rank % tp_;
  rank /= tp_;
  c.cp = rank % cp_;
  rank /= cp_;
  if (dp_outermost_) {
    c.pp = rank % pp_;
    c.dp = rank / pp_;
  } else {
    c.dp = rank % dp_;
    c.pp = rank / dp_;
  }
  return c;
}

int ParallelLayout::rank_of(const RankCoordinates& c) const {
  const int outer = dp_outermost_ ? c.pp + pp_ * c.dp : c.dp + dp_ * c.pp;
  return c.tp + tp_ * (c.cp + cp_ * outer);
}

std::vector<int> ParallelLayout::group_members(Group group, int rank) const {
  const RankCoordinates me = coordinates(rank);
  std::vector<int> members;
  auto vary = [&](int count, auto set) {
    for (int i = 0; i < count; ++i) {
      RankCoordinates c = me;
      set(c, i);
      members.push_back(rank_of(c));
    }
  };
  switch (group) {
    case Group::none: members.push_back(rank); break;
    case Group::tp: vary(tp_, [](RankCoordinates& c, int i) { c.tp = i; }); break;
    case Group::cp: vary(cp_, [](RankCoordinates& c, int i) { c.cp = i; }); break;
    case Group::dp: vary(dp_, [](RankCoordinates& c, int i) { c.dp = i; }); break;
    case Group::dp_shard: {  // ZeRO/FSDP shards over the data-parallel and context-parallel ranks
      const int first = me.dp / shard_ * shard_;
      vary(shard_ * cp_, [first, this](RankCoordinates& c, int i) {
        c.cp = i % cp_;
        c.dp = first + i / cp_;
      });
      break;
    }
    case Group::dp_replicate: {
      const int offset = me.dp % shard_;
      vary(dp_ / shard_, [offset, this](RankCoordinates& c, int i) { c.dp = offset + i * shard_; });
      break;
    }
    case Group::ep: {
      // ep consecutive (dp, cp) positions: index = cp + CP·dp.
      const int flat = me.cp + cp_ * me.dp;
      const int first = flat / ep_ * ep_;
      vary(ep_, [first, this](RankCoordinates& c, int i) {
        c.cp = (first + i) % cp_;
        c.dp = (first + i) / cp_;
      });
      break;
    }
    case Group::pp_next:  // wraps: interleaved chunks go from the last rank back to the first
      if (pp_ > 1) members.push_back(rank_of({me.tp, me.cp, me.dp, (me.pp + 1) % pp_}));
      break;
    case Group::pp_prev:
      if (pp_ > 1) members.push_back(rank_of({me.tp, me.cp, me.dp, (me.pp + pp_ - 1) % pp_}));
      break;
  }
  return members;
}

}  // namespace stepsim
