#include "report/critical_path.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <array>

namespace stepsim {

namespace {

bool is_collective(OpKind k) { return is_communication(k) && k != OpKind::send && k != OpKind::recv; }

int direction(const Op& op) { return op.phase == Phase::forward ? 0 : 1; }  // the engine's "pf"/"pb" tags

class Walker {
 public:
  Walker(const Workload& w, const StepResult& r, const ClusterGraph* g) : w_(w), r_(r), g_(g) {
    eps_ = 1e-9 * std::max(r.step_time, 1e-6);
    index_records();
    index_programs();
    for (const LinkUsage& l : r.links) busy_[l.name] = l.busy_fraction;
  }

  CriticalPath run() {
    CriticalPath path;
    path.step_time = r_.step_time;
    const ActivityRecord* cur = last_activity();
    if (!cur) return path;
    std::vector<CriticalStep> back;  // built from the end
    if (r_.step_time > cur->end + eps_) back.push_back(wait_step(*cur, cur->end, r_.step_time));
    // Each iteration moves to an activity that ends no later: bounded by the record count.
    for (size_t guard = 0; cur && guard <= r_.records.size(); ++guard) {
      const ActivityRecord* anchor = last_arrival(*cur);
      const double from = std::max(cur->start, anchor->start);
      if (cur->end > from) back.push_back(piece(*cur, from));
      const ActivityRecord* pred = predecessor(*anchor);
      const double pred_end = pred ? pred->end : 0.0;
      if (anchor->start > pred_end + eps_) back.push_back(wait_step(*anchor, pred_end, anchor->start));
      cur = pred;
    }
    path.steps.assign(back.rbegin(), back.rend());
    return path;
  }

 private:
  const Op& op_of(const ActivityRecord& a) const { return stage_of(a.rank).ops[a.op]; }
  const RankProgram& stage_of(int rank) const {
    return w_.stages[static_cast<size_t>(w_.layout.coordinates(rank).pp)];
  }
  size_t stage_index(int rank) const { return static_cast<size_t>(w_.layout.coordinates(rank).pp); }

  const ActivityRecord* record(int rank, uint32_t op) const {
    if (rank < 0 || static_cast<size_t>(rank) >= by_rank_.size()) return nullptr;
    const auto& ops = by_rank_[static_cast<size_t>(rank)];
    return op < ops.size() ? ops[op] : nullptr;
  }

  void index_records() {
    by_rank_.resize(static_cast<size_t>(w_.layout.world_size()));
    for (const ActivityRecord& a : r_.records) {
      auto& ops = by_rank_[static_cast<size_t>(a.rank)];
      if (ops.empty()) ops.assign(stage_of(a.rank).ops.size(), nullptr);
      if (a.op < ops.size()) ops[a.op] = &a;
    }
  }

  // Per stage: each op's previous op on its stream, and pipeline transfers in program order by
  // direction (the engine's mailboxes are FIFO per receiver and direction).
  void index_programs() {
    prev_in_stream_.resize(w_.stages.size());
    ordinal_.resize(w_.stages.size());
    sends_.resize(w_.stages.size());
    for (size_t s = 0; s < w_.stages.size(); ++s) {
      const auto& ops = w_.stages[s].ops;
      std::vector<int64_t> last(kStreamCount, -1);
      std::array<int, 2> recvs{0, 0};
      prev_in_stream_[s].assign(ops.size(), -1);
      ordinal_[s].assign(ops.size(), -1);
      for (uint32_t i = 0; i < ops.size(); ++i) {
        const size_t stream = static_cast<size_t>(ops[i].stream);
        prev_in_stream_[s][i] = last[stream];
        last[stream] = i;
        if (ops[i].kind == OpKind::recv) ordinal_[s][i] = recvs[static_cast<size_t>(direction(ops[i]))]++;
        if (ops[i].kind == OpKind::send) sends_[s][static_cast<size_t>(direction(ops[i]))].push_back(i);
      }
    }
  }

  const ActivityRecord* last_activity() const {
    const ActivityRecord* best = nullptr;
    for (const ActivityRecord& a : r_.records)
      if (!best || a.end > best->end || (a.end == best->end && (a.rank < best->rank ||
                                                              (a.rank == best->rank && a.op < best->op))))
        best = &a;
    return best;
  }

  // The participant of `a` that arrived last: a peer's copy of a collective, the matching send of
  // a recv, or `a` itself (ties stay on `a`'s rank).
  const ActivityRecord* last_arrival(const ActivityRecord& a) const {
    const Op& op = op_of(a);
    const ActivityRecord* best = &a;
    if (is_collective(op.kind)) {
      for (int peer : w_.layout.group_members(op.group, a.rank)) {
        const ActivityRecord* p = record(peer, a.op);
        if (p && p->start > best->start + eps_) best = p;
      }
    } else if (op.kind == OpKind::recv) {
      const ActivityRecord* send = matching_send(a);
      if (send && send->start > best->start + eps_) best = send;
    }
    return best;
  }

  const ActivityRecord* matching_send(const ActivityRecord& recv) const {
    const Op& op = op_of(recv);
    const std::vector<int> peers = w_.layout.group_members(op.group, recv.rank);
    if (peers.empty()) return nullptr;
    const int sender = peers[0];
    const auto& sends = sends_[stage_index(sender)][static_cast<size_t>(direction(op))];
    const int n = ordinal_[stage_index(recv.rank)][recv.op];
    if (n < 0 || static_cast<size_t>(n) >= sends.size()) return nullptr;
    return record(sender, sends[static_cast<size_t>(n)]);
  }

  // Among the stream predecessor and the dependencies of `a`: the one that ended last, not after
  // `a` started.
  const ActivityRecord* predecessor(const ActivityRecord& a) const {
    const size_t s = stage_index(a.rank);
    const ActivityRecord* best = nullptr;
    auto consider = [&](int64_t op) {
      if (op < 0) return;
      const ActivityRecord* p = record(a.rank, static_cast<uint32_t>(op));
      if (!p || p->end > a.start + eps_) return;
      if (!best || p->end > best->end) best = p;
    };
    for (uint32_t d : op_of(a).deps) consider(d);
    consider(prev_in_stream_[s][a.op]);
    return best;
  }

  CriticalStep piece(const ActivityRecord& a, double from) {
    const Op& op = op_of(a);
    CriticalStep s{a.rank, a.op, a.stream, from, a.end, "", CriticalKind::compute};
    if (!is_communication(op.kind)) {
      s.resource = fmt::format("rank {} compute", a.rank);
    } else {
      s.kind = CriticalKind::communication;
      s.resource = communication_resource(a, op);
    }
    return s;
  }

  CriticalStep wait_step(const ActivityRecord& a, double from, double to) const {
    return {a.rank, a.op, a.stream, from, to, "wait", CriticalKind::wait};
  }

  std::string communication_resource(const ActivityRecord& a, const Op& op) {
    if (!g_) return to_string(op.group) + " communication";
    std::vector<int> ring;
    if (op.kind == OpKind::send || op.kind == OpKind::recv) {
      const std::vector<int> peers = w_.layout.group_members(op.group, a.rank);
      if (peers.empty()) return to_string(op.group) + " communication";
      ring = op.kind == OpKind::send ? std::vector<int>{a.rank, peers[0]} : std::vector<int>{peers[0], a.rank};
    } else {
      ring = w_.layout.group_members(op.group, a.rank);
    }
    const bool pair = op.kind == OpKind::send || op.kind == OpKind::recv;
    auto key = std::make_pair(static_cast<int>(op.group) * 2 + pair, ring);
    auto it = resource_cache_.find(key);
    if (it != resource_cache_.end()) return it->second;
    std::vector<int> links;
    const size_t edges = pair ? 1 : ring.size();
    for (size_t i = 0; i < edges && ring.size() > 1; ++i) {
      const auto route = g_->route(ring[i], ring[(i + 1) % ring.size()]);
      links.insert(links.end(), route.begin(), route.end());
    }
    return resource_cache_.emplace(key, busiest_link(links, op.group)).first->second;
  }

  // The route link with the highest busy fraction; when none carried flows, the slowest one.
  std::string busiest_link(const std::vector<int>& links, Group group) const {
    int best = -1;
    double best_busy = 0;
    for (int l : links) {
      auto it = busy_.find(g_->links()[static_cast<size_t>(l)].name);
      if (it != busy_.end() && (best < 0 || it->second > best_busy || (it->second == best_busy && l < best)))
        best = l, best_busy = it->second;
    }
    if (best < 0) {
      double slowest = std::numeric_limits<double>::infinity();
      for (int l : links) {
        const double bw = g_->links()[static_cast<size_t>(l)].bandwidth;
        if (bw < slowest || (bw == slowest && l < best)) best = l, slowest = bw;
      }
    }
    if (best < 0) return to_string(group) + " communication";
    const ClusterLink& link = g_->links()[static_cast<size_t>(best)];
    return link.kind + " " + link.name;
  }

  const Workload& w_;
  const StepResult& r_;
  const ClusterGraph* g_;
  double eps_ = 0;
  std::vector<std::vector<const ActivityRecord*>> by_rank_;  // [rank][op]
  std::vector<std::vector<int64_t>> prev_in_stream_;         // [stage][op]
  std::vector<std::vector<int>> ordinal_;                    // [stage][recv op]: n-th recv of its direction
  std::vector<std::array<std::vector<uint32_t>, 2>> sends_;  // [stage][direction]: send ops in order
  std::map<std::string, double> busy_;
  std::map<std::pair<int, std::vector<int>>, std::string> resource_cache_;
};

}  // namespace

double CriticalPath::covered() const {
  double sum = 0;
  for (const CriticalStep& s : steps) sum += s.end - s.start;
  return sum;
}

CriticalPath find_critical_path(const Workload& w, const StepResult& result, const ClusterGraph* cluster) {
  return Walker(w, result, cluster).run();
}

CriticalPath find_critical_path(const Workload& w, const StepResult& result) {
  return find_critical_path(w, result, nullptr);
}

std::vector<CriticalSegment> merge_segments(const CriticalPath& path) {
  std::vector<CriticalSegment> out;
  std::map<std::string, double> by_resource;  // of the open segment
  auto close = [&] {
    if (out.empty()) return;
    double most = -1;
    for (const auto& [resource, t] : by_resource)
      if (t > most) most = t, out.back().resource = resource;
    by_resource.clear();
  };
  for (const CriticalStep& s : path.steps) {
    if (out.empty() || out.back().rank != s.rank) {
      close();
      out.push_back({s.rank, s.start, s.end, 0, 0, 0, "", 0});
    }
    CriticalSegment& g = out.back();
    const double t = s.end - s.start;
    g.end = std::max(g.end, s.end);
    (s.kind == CriticalKind::compute ? g.compute : s.kind == CriticalKind::communication ? g.communication : g.wait) += t;
    by_resource[s.resource] += t;
    ++g.steps;
  }
  close();
  return out;
}

nlohmann::ordered_json critical_path_json(const CriticalPath& path, size_t max_segments) {
  const std::vector<CriticalSegment> segments = merge_segments(path);
  double compute = 0, communication = 0, wait = 0;
  for (const CriticalSegment& g : segments) compute += g.compute, communication += g.communication, wait += g.wait;
  // The longest segments, kept in time order.
  std::vector<size_t> order(segments.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return segments[a].end - segments[a].start > segments[b].end - segments[b].start;
  });
  if (order.size() > max_segments) order.resize(max_segments);
  std::sort(order.begin(), order.end());
  double omitted = 0;
  for (const CriticalSegment& g : segments) omitted += g.end - g.start;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t i : order) {
    const CriticalSegment& g = segments[i];
    omitted -= g.end - g.start;
    list.push_back({{"start_s", g.start},
                    {"end_s", g.end},
                    {"rank", g.rank},
                    {"compute_s", g.compute},
                    {"communication_s", g.communication},
                    {"wait_s", g.wait},
                    {"resource", g.resource},
                    {"activities", g.steps}});
  }
  return {{"length_s", path.covered()},
          {"compute_s", compute},
          {"communication_s", communication},
          {"wait_s", wait},
          {"activities", path.steps.size()},
          {"segments", segments.size()},
          {"omitted_segments", segments.size() - order.size()},
          {"omitted_s", order.size() == segments.size() ? 0.0 : omitted},
          {"steps", list}};
}

std::string to_string(CriticalKind k) {
  switch (k) {
    case CriticalKind::compute: return "compute";
    case CriticalKind::communication: return "communication";
    default: return "wait";
  }
}

}  // namespace stepsim
