#include "engine/step_simulation.h"

#include <fmt/format.h>
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <memory>

#include "cluster/platform.h"
#include "engine/collective_runner.h"
#include "engine/simgrid_config.h"

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
  std::vector<sg4::CommPtr> pending;
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
    platform_ = build_platform(g_);
    collectives_ = std::make_unique<CollectiveRunner>(g_, cal_, options_.fidelity);
    index_streams();
    const int world = w_.layout.world_size();
    ranks_.resize(static_cast<size_t>(world));
    for (int r = 0; r < world; ++r) {
      RankState& st = ranks_[static_cast<size_t>(r)];
      const RankProgram& p = program_of(r);
      st.done.assign(p.ops.size(), 0);
      st.mutex = sg4::Mutex::create();
      st.changed = sg4::ConditionVariable::create();
      RankCoordinates c = w_.layout.coordinates(r);
      st.recorded = options_.record_all_ranks || (c.tp == 0 && c.cp == 0 && c.dp == 0);
      if (st.recorded) result_.recorded_ranks.push_back(r);
      for (int stream = 0; stream < kStreamCount; ++stream) {
        if (streams_[static_cast<size_t>(c.pp)][static_cast<size_t>(stream)].empty()) continue;
        sg4::Actor::create(fmt::format("r{}.{}", r, to_string(static_cast<Stream>(stream))),
                           platform_.gpus[static_cast<size_t>(r)],
                           [this, r, stream] { run_stream(r, static_cast<Stream>(stream)); });
      }
    }
    engine.run();
    result_.step_time = sg4::Engine::get_clock();
    return std::move(result_);
  }

 private:
  const RankProgram& program_of(int rank) const {
    return w_.stages[static_cast<size_t>(w_.layout.coordinates(rank).pp)];
  }

  void index_streams() {
    streams_.resize(w_.stages.size());
    for (size_t stage = 0; stage < w_.stages.size(); ++stage)
      for (uint32_t i = 0; i < w_.stages[stage].ops.size(); ++i)
        streams_[stage][static_cast<size_t>(w_.stages[stage].ops[i].stream)].push_back(i);
  }

  void run_stream(int rank, Stream stream) {
    RankState& st = ranks_[static_cast<size_t>(rank)];
    const RankProgram& p = program_of(rank);
    for (uint32_t i : streams_[static_cast<size_t>(w_.layout.coordinates(rank).pp)][static_cast<size_t>(stream)]) {
      const Op& op = p.ops[i];
      wait_for(st, op);
      const double start = sg4::Engine::get_clock();
      execute(rank, op);
      const double end = sg4::Engine::get_clock();
      if (st.recorded) result_.records.push_back({rank, i, stream, start, end});
      std::unique_lock<sg4::Mutex> lock(*st.mutex);
      st.done[i] = 1;
      st.changed->notify_all();
    }
    for (auto& comm : st.pending) comm->wait();
    st.pending.clear();
  }

  void wait_for(RankState& st, const Op& op) {
    if (op.deps.empty()) return;
    std::unique_lock<sg4::Mutex> lock(*st.mutex);
    for (uint32_t d : op.deps)
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
    ranks_[static_cast<size_t>(rank)].pending.push_back(collectives_->send(rank, peers[0], op.bytes, tag));
    ++result_.comms;
  }

  void recv(int rank, const Op& op) { collectives_->receive(rank, op.phase == Phase::forward ? "pf" : "pb"); }

  void collective(int rank, const Op& op) {
    result_.comms += collectives_->run(op.kind, w_.layout.group_members(op.group, rank), rank, op.bytes,
                                       static_cast<int>(op.group));
  }

  const Scenario& s_;
  const Workload& w_;
  const ClusterGraph& g_;
  const CollectiveCalibration& cal_;
  StepOptions options_;
  Platform platform_;
  std::vector<std::array<std::vector<uint32_t>, kStreamCount>> streams_;
  std::vector<RankState> ranks_;
  std::unique_ptr<CollectiveRunner> collectives_;
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
