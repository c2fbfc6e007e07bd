#include "engine/replica_folding.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/collective_algorithms.h"
#include "engine/collective_trees.h"
#include "engine/ring_geometry.h"

namespace stepsim {

namespace {

void add_ring_links(const ClusterGraph& g, const std::vector<int>& members, std::set<int>& links) {
  if (members.size() < 2) return;
  for (size_t i = 0; i < members.size(); ++i)
    for (int l : g.route(members[i], members[(i + 1) % members.size()])) links.insert(l);
}

// Links of the traffic that stays inside data-parallel replica `dp`: TP and CP rings, PP pairs.
std::set<int> replica_links(const Workload& w, const ClusterGraph& g, int dp) {
  const ParallelLayout& L = w.layout;
  std::set<int> links;
  for (int pp = 0; pp < L.pp(); ++pp)
    for (int cp = 0; cp < L.cp(); ++cp)
      for (int tp = 0; tp < L.tp(); ++tp) {
        const int rank = L.rank_of({tp, cp, dp, pp});
        if (cp == 0) add_ring_links(g, L.group_members(Group::tp, rank), links);
        if (tp == 0) add_ring_links(g, L.group_members(Group::cp, rank), links);
        if (L.pp() > 1) add_ring_links(g, {rank, L.group_members(Group::pp_next, rank).front()}, links);
      }
  return links;
}

}  // namespace

FoldingDecision decide_folding(const Workload& w, const ClusterGraph& g) {
  const ParallelLayout& L = w.layout;
  if (L.dp() < 2) return {false, "not folded: a single data-parallel replica"};
  for (const RankProgram& p : w.stages)
    for (const Op& op : p.ops)
      if (op.group == Group::ep || op.group == Group::dp_replicate)
        return {false, "not folded: expert-parallel or HSDP groups span replicas"};
  std::set<int> seen;
  for (int dp = 0; dp < L.dp(); ++dp) {
    std::set<int> links = replica_links(w, g, dp);
    for (int l : links)
      if (!seen.insert(l).second)
        return {false, fmt::format("not folded: replicas 0..{} share link {}", dp, g.links()[static_cast<size_t>(l)].name)};
  }
  return {true, fmt::format("folded: simulated 1 of {} data-parallel replicas (route check: their tensor-, context- "
                            "and pipeline-parallel traffic uses disjoint links); data-parallel collectives timed "
                            "with the static max-min share of all concurrent data-parallel rings",
                            L.dp())};
}

const FoldedCollectives::Geometry& FoldedCollectives::geometry(Group group, int stage, int rank) {
  auto key = std::make_pair(static_cast<int>(group), stage);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  const ParallelLayout& L = w_.layout;
  // Every data-parallel group of this stage: one per (tp, cp) position.
  std::map<int, int> flows_on_link;
  std::vector<std::vector<int>> all_flows;  // routes of every ring edge of every channel
  for (int cp = 0; cp < L.cp(); ++cp)
    for (int tp = 0; tp < L.tp(); ++tp) {
      const int r = L.rank_of({tp, cp, 0, stage});
      std::vector<int> members = L.group_members(group, r);
      for (const auto& ring : channel_rings(members, g_.gpus_per_node()))
        for (size_t i = 0; i < ring.size(); ++i) {
          all_flows.push_back(g_.route(ring[i], ring[(i + 1) % ring.size()]));
          for (int l : all_flows.back()) ++flows_on_link[l];
        }
    }
  Geometry geo;
  const std::vector<int> mine = L.group_members(group, rank);
  geo.members = static_cast<int>(mine.size());
  geo.channels = static_cast<double>(channel_rings(mine, g_.gpus_per_node()).size());
  geo.flow_rate = 1e300;
  for (const std::vector<int>& route : all_flows) {
    geo.hop_latency = std::max(geo.hop_latency, g_.route_latency(route));
    double rate = 1e300;
    for (int l : route) rate = std::min(rate, g_.links()[static_cast<size_t>(l)].bandwidth / flows_on_link[l]);
    if (!route.empty()) geo.flow_rate = std::min(geo.flow_rate, rate * route_efficiency(g_, cal_, route));
  }
  return cache_.emplace(key, geo).first->second;
}

const FoldedCollectives::StaticForm& FoldedCollectives::static_form(Algorithm a, Group group, int stage) {
  auto key = std::make_tuple(static_cast<int>(a), static_cast<int>(group), stage);
  auto it = forms_.find(key);
  if (it != forms_.end()) return it->second;
  const ParallelLayout& L = w_.layout;
  StaticForm form;
  std::vector<Transfer> flows;
  HierPhases all;
  for (int cp = 0; cp < L.cp(); ++cp)
    for (int tp = 0; tp < L.tp(); ++tp) {
      const std::vector<int> members = L.group_members(group, L.rank_of({tp, cp, 0, stage}));
      if (a == Algorithm::tree) {
        const TreeSet trees = double_binary_trees(members, g_.gpus_per_node());
        form.latency = std::max(form.latency, tree_path_latency(g_, trees));
        const auto t = tree_transfers(trees, 1.0);
        flows.insert(flows.end(), t.begin(), t.end());
      } else {
        HierPhases h = hier_phases(members, g_.gpus_per_node(), 1.0);
        all.intra_steps = h.intra_steps, all.rail_steps = h.rail_steps;
        all.intra.insert(all.intra.end(), h.intra.begin(), h.intra.end());
        all.rails.insert(all.rails.end(), h.rails.begin(), h.rails.end());
      }
    }
  if (a == Algorithm::tree) form.per_byte = max_link_seconds(g_, cal_, flows);
  else form.latency = hier_latency(g_, all), form.per_byte = hier_load_seconds(g_, cal_, all);
  return forms_.emplace(key, form).first->second;
}

double FoldedCollectives::seconds(OpKind kind, Group group, int rank, double bytes) {
  const Geometry& geo = geometry(group, w_.layout.coordinates(rank).pp, rank);
  if (geo.members < 2 || bytes <= 0) return 0;
  if (choose_) {
    const Algorithm a = choose_(kind, w_.layout.group_members(group, rank), bytes, static_cast<int>(group));
    if (a == Algorithm::tree || a == Algorithm::hierarchical) {
      const StaticForm& f = static_form(a, group, w_.layout.coordinates(rank).pp);
      return cal_.launch_latency + f.latency + f.per_byte * bytes;
    }
  }
  const int steps = ring_steps(kind, geo.members);
  return cal_.launch_latency + steps * geo.hop_latency +
         ring_edge_bytes(kind, geo.members, bytes) / geo.channels / geo.flow_rate;
}

}  // namespace stepsim
