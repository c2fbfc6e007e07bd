#include "engine/step_simulation.h"

#include <fmt/format.h>
#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>

#include "cluster/platform.h"
#include "engine/collective_runner.h"
#include "engine/replica_folding.h"
#include "engine/link_usage.h"
#include "engine/simgrid_config.h"
#include "workload/offload_cost.h"

namespace sg4 = simgrid::s4u;

namespace stepsim {

namespace {

std::string group_key(Group g) {
  switch (g) {
    case Group::tp: return "tp";
    case Group::pp_next:
    case Group::pp_prev: return "pp";
    case Group::cp: return "cp";
    case Group::ep: return "ep";
    default: return "dp";
  }
}

struct RankState {
  std::vector<uint8_t> done;
  sg4::MutexPtr mutex;
  sg4::ConditionVariablePtr changed;
  // Sends posted by each stream's actor, awaited by that actor alone at its end: another
  // stream's actor may still be posting while one waits.
  std::array<std::vector<sg4::CommPtr>, kStreamCount> pending;
  bool recorded = false;
};

class Replay {
 public:
  Replay(const Scenario& s, const Workload& w, const ClusterGraph& g, const CollectiveCalibration& c,
         const StepOptions& o)
      : s_(s), w_(w), g_(g), cal_(c), options_(o) {}

  StepResult run() {
    SimgridArguments args;
    sg4::Engine engine(args.argc(), args.argv());
    sg_host_energy_plugin_init();  // before the hosts exist: it reads their wattage when they are sealed
    LinkSampler::enable_plugin();  // before any link exists
    platform_ = build_platform(g_);
    if (!platform_.approximation.empty()) result_.algorithm_note = platform_.approximation;
    if (s_.training.offload != Offload::none && !offloaded_step_timed(s_))
      result_.algorithm_note += std::string(result_.algorithm_note.empty() ? "" : "; ") +
                                "the offloaded optimizer step (gradients and parameters over PCIe, the update on the "
                                "CPU) is not timed, so the step time is a lower bound";
    collectives_ = std::make_unique<CollectiveRunner>(g_, cal_, options_.fidelity, options_.algorithm, options_.protocol);
    find_exclusive_groups();
    index_streams();
    const int world = w_.layout.world_size();
    if (options_.fold_replicas) {
      const FoldingDecision decision = decide_folding(w_, g_);
      result_.folding = decision.reason;
      if (decision.folded)
        folded_ = std::make_unique<FoldedCollectives>(
            w_, g_, cal_, [this](OpKind k, const std::vector<int>& m, double b, int tag) {
              return collectives_->choose(k, m, b, tag);
            });
    }
    ranks_.resize(static_cast<size_t>(world));
    for (int r = 0; r < world; ++r) {
      if (folded_ && w_.layout.coordinates(r).dp != 0) continue;
      ++result_.simulated_ranks;
      RankState& st = ranks_[static_cast<size_t>(r)];
      const RankProgram& p = program_of(r);
      st.done.assign(p.ops.size(), 0);
      st.mutex = sg4::Mutex::create();
      st.changed = sg4::ConditionVariable::create();
      RankCoordinates c = w_.layout.coordinates(r);
      st.recorded = options_.record_all_ranks || (c.tp == 0 && c.cp == 0 && c.dp == 0) ||
                    std::count(options_.extra_recorded_ranks.begin(), options_.extra_recorded_ranks.end(), r) > 0;
      if (st.recorded) result_.recorded_ranks.push_back(r);
      for (int stream = 0; stream < kStreamCount; ++stream) {
        if (streams_[static_cast<size_t>(c.pp)][static_cast<size_t>(stream)].empty()) continue;
        sg4::Actor::create(fmt::format("r{}.{}", r, to_string(static_cast<Stream>(stream))),
                           platform_.gpus[static_cast<size_t>(r)],
                           [this, r, stream] { run_stream(r, static_cast<Stream>(stream)); });
      }
    }
    link_sampler_.start(platform_.gpus[0], longest_stage_compute());
    engine.run();
    result_.step_time = sg4::Engine::get_clock();
    result_.gpu_energy_j = gpu_energy();
    result_.links = link_sampler_.finish(result_.step_time);
    return std::move(result_);
  }

 private:
  const RankProgram& program_of(int rank) const {
    return w_.stages[static_cast<size_t>(w_.layout.coordinates(rank).pp)];
  }

  // A lower bound of the step time, which sets the link sampling period.
  double longest_stage_compute() const {
    double longest = 0;
    for (const RankProgram& p : w_.stages) {
      double sum = 0;
      for (const Op& op : p.ops)
        if (!is_communication(op.kind)) sum += op.seconds;
      longest = std::max(longest, sum);
    }
    return longest;
  }

  // Energy of the simulated GPUs up to now, scaled to the whole cluster when replicas were
  // folded (the hosts of unsimulated replicas sat idle and are not counted).
  double gpu_energy() const {
    double joules = 0;
    for (size_t r = 0; r < ranks_.size(); ++r)
      if (ranks_[r].mutex) joules += sg_host_get_consumed_energy(platform_.gpus[r]);
    const int world = w_.layout.world_size();
    return result_.simulated_ranks > 0 ? joules * world / result_.simulated_ranks : 0.0;
  }

  // Per stage: each stream's ops, which ops wait for another stream (cross_deps) and which
  // another stream waits for (needed_elsewhere). Consecutive compute ops between those points
  // run as one execution: the same simulated time, far fewer SimGrid activities.
  void index_streams() {
    streams_.resize(w_.stages.size());
    cross_deps_.resize(w_.stages.size());
    needed_elsewhere_.resize(w_.stages.size());
    for (size_t stage = 0; stage < w_.stages.size(); ++stage) {
      const auto& ops = w_.stages[stage].ops;
      cross_deps_[stage].resize(ops.size());
      needed_elsewhere_[stage].assign(ops.size(), 0);
      for (uint32_t i = 0; i < ops.size(); ++i) {
        streams_[stage][static_cast<size_t>(ops[i].stream)].push_back(i);
        for (uint32_t d : ops[i].deps)
          if (ops[d].stream != ops[i].stream) {
            cross_deps_[stage][i].push_back(d);
            needed_elsewhere_[stage][d] = 1;
          }
      }
    }
  }

  void run_stream(int rank, Stream stream) {
    RankState& st = ranks_[static_cast<size_t>(rank)];
    const RankProgram& p = program_of(rank);
    const size_t stage = static_cast<size_t>(w_.layout.coordinates(rank).pp);
    const std::vector<uint32_t>& order = streams_[stage][static_cast<size_t>(stream)];
    for (size_t k = 0; k < order.size(); ++k) {
      const uint32_t first = order[k];
      wait_for(st, stage, first);
      const double start = sg4::Engine::get_clock();
      if (stream == Stream::compute) {
        // Extend the segment while the next op waits for nothing else and nobody waits for this one.
        // An offloaded optimizer step runs on the host: its own segment, with the GPU idle (energy).
        const bool host = runs_on_host(p.ops[first]);
        size_t last = k;
        double seconds = p.ops[first].seconds;
        while (!host && last + 1 < order.size() && !needed_elsewhere_[stage][order[last]] &&
               cross_deps_[stage][order[last + 1]].empty() && !runs_on_host(p.ops[order[last + 1]])) {
          ++last;
          seconds += p.ops[order[last]].seconds;
        }
        if (seconds > 0 && host) {
          sg4::this_actor::sleep_for(seconds);
        } else if (seconds > 0) {
          sg4::this_actor::execute(seconds * kHostSpeed);
          ++result_.execs;
        }
        double t = start;
        for (size_t j = k; j <= last; ++j) {
          const uint32_t i = order[j];
          if (st.recorded) result_.records.push_back({rank, i, stream, t, t + p.ops[i].seconds});
          t += p.ops[i].seconds;
          st.done[i] = 1;
        }
        k = last;
        finish(st, stage, order[last]);
        continue;
      }
      execute(rank, p.ops[first]);
      if (st.recorded) result_.records.push_back({rank, first, stream, start, sg4::Engine::get_clock()});
      st.done[first] = 1;
      finish(st, stage, first);
    }
    std::vector<sg4::CommPtr>& posted = st.pending[static_cast<size_t>(stream)];
    for (auto& comm : posted) comm->wait();
    posted.clear();
  }

  static bool runs_on_host(const Op& op) { return op.host_bytes > 0 || op.host_link_bytes > 0; }

  void finish(RankState& st, size_t stage, uint32_t op) {
    if (!needed_elsewhere_[stage][op]) return;
    std::unique_lock<sg4::Mutex> lock(*st.mutex);
    st.changed->notify_all();
  }

  void wait_for(RankState& st, size_t stage, uint32_t op) {
    const std::vector<uint32_t>& deps = cross_deps_[stage][op];
    if (deps.empty()) return;
    std::unique_lock<sg4::Mutex> lock(*st.mutex);
    for (uint32_t d : deps)
      while (!st.done[d]) st.changed->wait(lock);
  }

  void execute(int rank, const Op& op) {
    if (!is_communication(op.kind)) {
      if (op.seconds > 0) {
        sg4::this_actor::execute(op.seconds * kHostSpeed);
        ++result_.execs;
      }
      return;
    }
    if (op.kind == OpKind::send) return send(rank, op);
    if (op.kind == OpKind::recv) return recv(rank, op);
    collective(rank, op);
  }

  // Pipeline transfers: the sender does not wait for the receiver (Megatron posts isend); the
  // receiver blocks until the activation or gradient has arrived.
  void send(int rank, const Op& op) {
    auto peers = w_.layout.group_members(op.group, rank);
    if (peers.empty()) return;
    const std::string tag = op.phase == Phase::forward ? "pf" : "pb";
    ranks_[static_cast<size_t>(rank)].pending[static_cast<size_t>(op.stream)].push_back(
        collectives_->send(rank, peers[0], op.bytes, tag));
    ++result_.comms;
  }

  void recv(int rank, const Op& op) { collectives_->receive(rank, op.phase == Phase::forward ? "pf" : "pb"); }

  void collective(int rank, const Op& op) {
    if (folded_ && (op.group == Group::dp || op.group == Group::dp_shard || op.group == Group::dp_replicate)) {
      const double seconds = folded_->seconds(op.kind, op.group, rank, op.bytes);
      if (seconds > 0) sg4::this_actor::sleep_for(seconds);
      return;
    }
    const Fidelity fidelity = exclusive_.count(op.group) ? Fidelity::analytic : options_.fidelity;
    result_.comms += collectives_->run(op.kind, w_.layout.group_members(op.group, rank), rank, op.bytes,
                                       static_cast<int>(op.group), fidelity);
  }

  // Links used by the ring (or the pipeline pair) of `group` around `rank`.
  std::set<int> links_of(Group group, int rank) const {
    std::set<int> links;
    std::vector<int> members = w_.layout.group_members(group, rank);
    if (group == Group::pp_next || group == Group::pp_prev) members.insert(members.begin(), rank);
    if (members.size() < 2) return links;
    for (size_t i = 0; i < members.size(); ++i)
      for (int l : g_.route(members[i], members[(i + 1) % members.size()])) links.insert(l);
    return links;
  }

  // A group kind whose rings use links that no other group kind's traffic touches cannot be
  // slowed by contention: its collectives run as exact α-β delays (no flows). Checked on the
  // groups around every rank of the first node, where tensor-parallel rings live.
  void find_exclusive_groups() {
    if (options_.fidelity != Fidelity::macro) return;
    const std::vector<Group> kinds = {Group::tp, Group::dp_shard, Group::dp_replicate, Group::cp, Group::ep,
                                      Group::pp_next, Group::pp_prev};
    std::map<Group, std::set<int>> used;
    const int probe = std::min(w_.layout.world_size(), g_.gpus_per_node());
    for (Group k : kinds)
      for (int r = 0; r < probe; ++r) {
        std::set<int> l = links_of(k, r);
        used[k].insert(l.begin(), l.end());
      }
    for (Group k : {Group::tp}) {
      if (used[k].empty()) continue;
      bool alone = true;
      for (Group other : kinds)
        if (other != k)
          for (int l : used[other]) alone = alone && !used[k].count(l);
      if (alone) exclusive_.insert(k);
    }
    if (!exclusive_.empty())
      result_.algorithm_note += std::string(result_.algorithm_note.empty() ? "" : "; ") +
                                "tensor-parallel collectives use links no other traffic shares: timed analytically";
  }

  const Scenario& s_;
  const Workload& w_;
  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  StepOptions options_;
  Platform platform_;
  LinkSampler link_sampler_;
  std::vector<std::array<std::vector<uint32_t>, kStreamCount>> streams_;
  std::vector<std::vector<std::vector<uint32_t>>> cross_deps_;
  std::vector<std::vector<uint8_t>> needed_elsewhere_;
  std::vector<RankState> ranks_;
  std::unique_ptr<CollectiveRunner> collectives_;
  std::set<Group> exclusive_;
  std::unique_ptr<FoldedCollectives> folded_;
  StepResult result_;
};

}  // namespace

double Breakdown::total() const {
  double sum = forward + backward + recompute + optimizer + bubble + idle;
  for (const auto& [kind, seconds] : exposed_comm) sum += seconds;
  return sum;
}

void compute_breakdown(const Workload& w, StepResult& result) {
  // The critical rank: the recorded rank whose last activity ends last.
  std::map<int, double> last_end;
  for (const ActivityRecord& r : result.records) last_end[r.rank] = std::max(last_end[r.rank], r.end);
  double latest = -1;
  for (const auto& [rank, end] : last_end)
    if (end > latest) latest = end, result.critical_rank = rank;
  const int rank = result.critical_rank;
  const RankProgram& program = w.stages[static_cast<size_t>(w.layout.coordinates(rank).pp)];
  std::map<uint32_t, const ActivityRecord*> by_op;
  std::vector<const ActivityRecord*> compute;
  for (const ActivityRecord& r : result.records) {
    if (r.rank != rank) continue;
    by_op[r.op] = &r;
    if (r.stream == Stream::compute) compute.push_back(&r);
  }
  std::sort(compute.begin(), compute.end(), [](auto* a, auto* b) { return a->start < b->start; });
  Breakdown b;
  double previous_end = 0;
  auto attribute_wait = [&](const Op& op, double gap) {
    const ActivityRecord* blocker = nullptr;
    for (uint32_t d : op.deps) {
      auto it = by_op.find(d);
      if (it == by_op.end() || !is_communication(program.ops[d].kind)) continue;
      if (!blocker || it->second->end > blocker->end) blocker = it->second;
    }
    if (!blocker || blocker->end <= previous_end) {
      b.idle += gap;
    } else if (program.ops[blocker->op].kind == OpKind::recv) {
      b.bubble += gap;  // waiting for another pipeline stage
    } else {
      b.exposed_comm[group_key(program.ops[blocker->op].group)] += gap;
    }
  };
  for (const ActivityRecord* r : compute) {
    const Op& op = program.ops[r->op];
    if (r->start > previous_end) attribute_wait(op, r->start - previous_end);
    const double busy = r->end - std::max(r->start, previous_end);
    if (busy > 0) {
      switch (op.phase) {
        case Phase::forward: b.forward += busy; break;
        case Phase::backward: b.backward += busy; break;
        case Phase::recompute: b.recompute += busy; break;
        case Phase::optimizer: b.optimizer += busy; break;
      }
    }
    previous_end = std::max(previous_end, r->end);
  }
  // After the last kernel: communication still running (e.g. the parameter all-gather after the
  // optimizer), or waiting for the other ranks.
  double tail = result.step_time - previous_end;
  if (tail > 0) {
    const ActivityRecord* last_comm = nullptr;
    for (const auto& [op, r] : by_op)
      if (r->stream != Stream::compute && (!last_comm || r->end > last_comm->end)) last_comm = r;
    if (last_comm && last_comm->end > previous_end) {
      const double exposed = std::min(tail, last_comm->end - previous_end);
      b.exposed_comm[group_key(program.ops[last_comm->op].group)] += exposed;
      tail -= exposed;
    }
    b.idle += tail;
  }
  result.breakdown = b;
}

Result<StepResult> simulate_step(const Scenario& s, const Workload& w, const ClusterGraph& cluster,
                                 const CollectiveCalibration& calibration, const StepOptions& options) {
  if (cluster.gpu_count() != w.layout.world_size()) {
    Diagnostics d;
    d.add({"", 0, "", fmt::format("the cluster has {} GPUs but the workload {} ranks", cluster.gpu_count(),
                                  w.layout.world_size()), ""});
    return d;
  }
  StepResult result = Replay(s, w, cluster, calibration, options).run();
  compute_breakdown(w, result);
  return result;
}

}  // namespace stepsim
