#include "report/perfetto_trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "report/trace_json.h"
#include "workload/memory_timeline.h"

namespace stepsim {

std::vector<PipelineTransfer> match_pipeline_transfers(const Workload& w, const StepResult& result) {
  using Key = std::tuple<int, int, bool>;  // (sender, receiver, forward tag)
  std::map<Key, std::vector<const ActivityRecord*>> sends;
  std::map<std::pair<int, bool>, std::vector<const ActivityRecord*>> recvs;  // (receiver, forward tag)
  for (const ActivityRecord& r : result.records) {
    const Op& op = w.stages[static_cast<size_t>(w.layout.coordinates(r.rank).pp)].ops[r.op];
    const bool forward = op.phase == Phase::forward;  // the engine's "pf"/"pb" mailbox tags
    if (op.kind == OpKind::send) {
      const std::vector<int> peers = w.layout.group_members(op.group, r.rank);
      if (!peers.empty()) sends[{r.rank, peers[0], forward}].push_back(&r);
    } else if (op.kind == OpKind::recv) {
      recvs[{r.rank, forward}].push_back(&r);
    }
  }
  auto by_start = [](const ActivityRecord* a, const ActivityRecord* b) {
    return std::tie(a->start, a->op) < std::tie(b->start, b->op);
  };
  std::vector<PipelineTransfer> out;
  for (auto& [key, receives] : recvs) {
    std::vector<std::vector<const ActivityRecord*>*> senders;
    for (auto& [skey, list] : sends)
      if (std::get<1>(skey) == key.first && std::get<2>(skey) == key.second) senders.push_back(&list);
    // One sender per mailbox (the pipeline neighbour); anything else cannot be paired reliably.
    if (senders.size() != 1 || senders[0]->size() != receives.size()) continue;
    std::sort(senders[0]->begin(), senders[0]->end(), by_start);
    std::sort(receives.begin(), receives.end(), by_start);
    for (size_t k = 0; k < receives.size(); ++k) out.push_back({(*senders[0])[k], receives[k]});
  }
  std::sort(out.begin(), out.end(), [](const PipelineTransfer& a, const PipelineTransfer& b) {
    return std::tie(a.send->start, a.send->rank, a.send->op) < std::tie(b.send->start, b.send->rank, b.send->op);
  });
  return out;
}

namespace {

const Op& op_of(const Workload& w, int rank, uint32_t index) {
  return w.stages[static_cast<size_t>(w.layout.coordinates(rank).pp)].ops[index];
}

int tid_of(Stream s) { return static_cast<int>(s) + 1; }  // tid 0 would be rewritten to the pid

std::string slice_name(const Op& op) {
  if (is_communication(op.kind)) {
    if (op.kind == OpKind::send || op.kind == OpKind::recv) return to_string(op.kind);
    return to_string(op.kind) + " " + to_string(op.group);
  }
  switch (op.phase) {
    case Phase::backward: return to_string(op.kind) + " bwd";
    case Phase::recompute: return to_string(op.kind) + " recompute";
    default: return to_string(op.kind);
  }
}

std::string op_args(const Workload& w, int rank, uint32_t index, double seconds) {
  const Op& op = op_of(w, rank, index);
  JsonObject a;
  a.add("rank", rank);
  a.add_string("op", to_string(op.kind));
  a.add("op_index", index);
  a.add_string("phase", to_string(op.phase));
  if (op.layer >= 0) a.add("layer", op.layer);
  if (op.micro_batch >= 0) a.add("micro_batch", op.micro_batch);
  if (op.chunk > 0) a.add("chunk", op.chunk);
  if (is_communication(op.kind)) {
    a.add_string("group", to_string(op.group));
    if (op.kind == OpKind::send || op.kind == OpKind::recv) {
      const std::vector<int> peers = w.layout.group_members(op.group, rank);
      if (!peers.empty()) a.add("peer", peers[0]);
    }
    a.add_fixed("bytes", op.bytes, 0);
    if (seconds > 0) a.add_fixed("achieved GB/s", op.bytes / seconds / 1e9, 3);
  } else {
    a.add_fixed("flops", op.flops, 0);
    a.add_fixed("model_flops", op.model_flops, 0);
    a.add_fixed("bytes", op.bytes, 0);
    if (seconds > 0) a.add_fixed("achieved TFLOP/s", op.flops / seconds / 1e12, 3);
  }
  return a.str();
}

class TraceBuilder {
 public:
  explicit TraceBuilder(const TraceInputs& in) : in_(in), w_(in.workload) {
    const std::set<int> recorded(in.result.recorded_ranks.begin(), in.result.recorded_ranks.end());
    ranks_ = in.ranks.empty() ? std::vector<int>(recorded.begin(), recorded.end()) : in.ranks;
    world_ = w_.layout.world_size();
    for (int r : ranks_) record_of_[r].assign(op_count(r), nullptr);
    for (const ActivityRecord& r : in.result.records) {
      auto it = record_of_.find(r.rank);
      if (it == record_of_.end() || r.op >= it->second.size()) continue;
      it->second[r.op] = &r;
      by_rank_[r.rank].push_back(&r);
    }
  }

  // One rank at a time, so memory holds one rank's slices, not the whole trace.
  void write(TraceSink& sink) {
    TraceWriter out(sink);
    declare_metadata(out);
    plan_critical_chain();
    plan_pipeline_transfers();
    out.begin_events();
    for (int rank : ranks_) {
      write_rank(out, rank);
      out.flush_slices();
    }
    write_critical_path(out);
    out.flush_slices();
    write_fabric(out);
    out.finish(metadata(out));
  }

 private:
  struct Arrival {
    int64_t ts;
    std::string args;
    int64_t flow;
  };
  struct Transfer {
    int64_t start, dur;
    std::string args;
  };

  int pid_of(int rank) const { return rank + 1; }
  int critical_path_pid() const { return world_ + 1; }
  int fabric_pid() const { return world_ + 2; }
  uint32_t op_count(int rank) const {
    return static_cast<uint32_t>(w_.stages[static_cast<size_t>(w_.layout.coordinates(rank).pp)].ops.size());
  }
  const ActivityRecord* record(int rank, uint32_t op) const {
    auto it = record_of_.find(rank);
    return it == record_of_.end() || op >= it->second.size() ? nullptr : it->second[op];
  }
  bool has_fabric() const {
    for (const LinkUsage& link : in_.result.links)
      if (!link.utilization.empty()) return true;
    return false;
  }

  void declare_metadata(TraceWriter& out) const {
    const int per_node = in_.scenario.gpus_per_node();
    for (int rank : ranks_) {
      out.process(pid_of(rank), fmt::format("node {} · GPU {} · {}", rank / per_node, rank % per_node, in_.scenario.gpu.id),
                  rank + 1);
      auto it = by_rank_.find(rank);
      if (it == by_rank_.end()) continue;
      std::set<Stream> streams;
      for (const ActivityRecord* r : it->second) streams.insert(r->stream);
      for (Stream s : streams) out.thread(pid_of(rank), tid_of(s), to_string(s), tid_of(s));
    }
    if (!in_.critical_path.steps.empty()) {
      out.process(critical_path_pid(), "critical path", 0);
      out.thread(critical_path_pid(), 1, "critical path", 1);
    }
    if (has_fabric()) out.process(fabric_pid(), "fabric", world_ + 1);
  }

  // One flow chain through the GPU slices where the critical path enters and leaves each (rank,
  // stream) run: arrows where the path hops, not between every op.
  void plan_critical_chain() {
    const auto& steps = in_.critical_path.steps;
    std::vector<std::pair<int, uint32_t>> chain;
    int64_t last_ts = -1;
    for (size_t i = 0; i < steps.size(); ++i) {
      const bool run_start = i == 0 || steps[i - 1].rank != steps[i].rank || steps[i - 1].stream != steps[i].stream;
      const bool run_end = i + 1 == steps.size() || steps[i + 1].rank != steps[i].rank ||
                           steps[i + 1].stream != steps[i].stream;
      const ActivityRecord* r = record(steps[i].rank, steps[i].op);
      if ((!run_start && !run_end) || !r) continue;
      // Strictly later than the previous link: the importer binds flow steps in time order.
      if (to_ns(r->start) <= last_ts) continue;
      last_ts = to_ns(r->start);
      chain.push_back({r->rank, r->op});
    }
    if (chain.size() < 2) return;
    const int64_t id = ++flows_;
    for (size_t k = 0; k < chain.size(); ++k) bindings_[chain[k]] = {id, k > 0, k + 1 < chain.size()};
  }

  // Transfers in flight overlap on the sender (async slices, send → arrival). Each pair also gets
  // a send→recv arrow unless the send carries the critical path's flow. The arrow ends on a
  // zero-length "arrived" slice at the recv's end: the recv itself was usually posted before the
  // send, and the importer binds flows in time order.
  void plan_pipeline_transfers() {
    for (const PipelineTransfer& t : match_pipeline_transfers(w_, in_.result)) {
      if (!record(t.send->rank, t.send->op) || !record(t.recv->rank, t.recv->op)) continue;
      const int64_t start = to_ns(t.send->start), end = std::max(to_ns(t.recv->end), start);
      const Op& op = op_of(w_, t.send->rank, t.send->op);
      JsonObject a;
      a.add("from_rank", t.send->rank);
      a.add("to_rank", t.recv->rank);
      a.add_string("phase", to_string(op.phase));
      if (op.micro_batch >= 0) a.add("micro_batch", op.micro_batch);
      a.add_fixed("bytes", op.bytes, 0);
      transfers_[t.send->rank].push_back({start, end - start, a.str()});
      if (end <= start || bindings_.count({t.send->rank, t.send->op})) continue;
      const int64_t id = ++flows_;
      bindings_[{t.send->rank, t.send->op}] = {id, false, true};
      arrivals_[t.recv->rank].push_back({end, a.str(), id});
    }
  }

  void write_rank(TraceWriter& out, int rank) {
    const int pid = pid_of(rank);
    for (const ActivityRecord* r : by_rank_[rank]) {
      const Op& op = op_of(w_, rank, r->op);
      const std::string cat = is_communication(op.kind) ? "comm-" + group_family(op.group) : to_string(op.phase);
      auto bound = bindings_.find({rank, r->op});
      const int64_t ts = to_ns(r->start);
      out.slice(pid, tid_of(r->stream), ts, to_ns(r->end) - ts, slice_name(op), cat,
                op_args(w_, rank, r->op, r->end - r->start), bound == bindings_.end() ? FlowBinding{} : bound->second);
    }
    for (const Arrival& a : arrivals_[rank])
      out.slice(pid, tid_of(Stream::pp), a.ts, 0, "arrived", "comm-pp", a.args, {a.flow, true, false});
    for (const Transfer& t : transfers_[rank]) out.async(pid, tid_of(Stream::pp), t.start, t.dur, "pp transfer", "pp", t.args);
    write_memory_counters(out, rank);
  }

  static std::string group_family(Group g) {
    const std::string s = to_string(stream_of_group(g));
    return s.substr(s.find('-') + 1);
  }

  // The chain of critical steps on its own track, named after the resource each occupied.
  void write_critical_path(TraceWriter& out) const {
    int64_t previous_end = 0;
    for (const CriticalStep& s : in_.critical_path.steps) {
      const int64_t start = std::max(to_ns(s.start), previous_end);
      const int64_t end = std::max(to_ns(s.end), start);
      previous_end = end;
      JsonObject a;
      a.add("rank", s.rank);
      a.add_string("stream", to_string(s.stream));
      if (s.rank >= 0 && s.rank < world_ && s.op < op_count(s.rank)) {
        const Op& op = op_of(w_, s.rank, s.op);
        a.add_string("op", to_string(op.kind));
        a.add("op_index", s.op);
        a.add_string("phase", to_string(op.phase));
        if (op.layer >= 0) a.add("layer", op.layer);
        if (op.micro_batch >= 0) a.add("micro_batch", op.micro_batch);
      }
      const std::string name = s.resource.empty() ? fmt::format("rank {} {}", s.rank, to_string(s.stream)) : s.resource;
      out.slice(critical_path_pid(), 1, start, end - start, name, "critical_path", a.str());
    }
  }

  // Memory in use on the GPU: each op's allocations at its recorded start and frees at its end,
  // in time order (program order at equal times); "framework" is what memory_timeline() adds on
  // top of the tensors (CUDA context, NCCL buffers, allocator reserve), so "total" is the device
  // figure whose peak the report shows.
  void write_memory_counters(TraceWriter& out, int rank) {
    const RankProgram& program = w_.stages[static_cast<size_t>(w_.layout.coordinates(rank).pp)];
    const RankMemory fixed = memory_timeline(program, in_.overheads, communicator_count(in_.scenario));
    struct Change {
      int64_t ns;
      uint32_t op;
      int at_end;
      const std::vector<MemoryEffect>* effects;
    };
    std::vector<Change> changes;
    std::set<size_t> used = {static_cast<size_t>(MemCategory::framework)};
    for (const ActivityRecord* r : by_rank_[rank]) {
      const Op& op = program.ops[r->op];
      if (!op.at_start.empty()) changes.push_back({to_ns(r->start), r->op, 0, &op.at_start});
      if (!op.at_end.empty()) changes.push_back({to_ns(r->end), r->op, 1, &op.at_end});
      for (const auto* list : {&op.at_start, &op.at_end})
        for (const MemoryEffect& e : *list) used.insert(static_cast<size_t>(e.category));
    }
    std::sort(changes.begin(), changes.end(),
              [](const Change& a, const Change& b) { return std::tie(a.ns, a.op, a.at_end) < std::tie(b.ns, b.op, b.at_end); });
    std::array<double, kMemCategoryCount> now{};
    auto emit = [&](int64_t ns) {
      double tensors = 0;
      for (double v : now) tensors += v;
      JsonObject a;
      double total = 0;
      for (size_t c : used) {
        double bytes = now[c];
        if (c == static_cast<size_t>(MemCategory::framework))
          bytes += fixed.framework_bytes + tensors * in_.overheads.allocator_reserve_fraction;
        total += bytes;
        a.add_fixed(to_string(static_cast<MemCategory>(c)), std::max(0.0, bytes) / kGiB, 6);
      }
      a.add_fixed("total", std::max(0.0, total) / kGiB, 6);
      out.counter(pid_of(rank), ns, "memory GiB", a.str());
    };
    if (changes.empty() || changes.front().ns > 0) emit(0);
    for (size_t i = 0; i < changes.size(); ++i) {
      for (const MemoryEffect& e : *changes[i].effects) now[static_cast<size_t>(e.category)] += e.bytes;
      if (i + 1 == changes.size() || changes[i + 1].ns != changes[i].ns) emit(changes[i].ns);
    }
  }

  // Link utilization as a percentage of its bandwidth: each sample is the mean since the
  // previous one, so its value holds from the previous sample's time.
  void write_fabric(TraceWriter& out) const {
    for (const LinkUsage& link : in_.result.links) {
      if (link.utilization.empty()) continue;
      int64_t from = 0;
      std::string last;
      for (const auto& [time, fraction] : link.utilization) {
        JsonObject a;
        a.add_fixed("utilization %", fraction * 100, 3);
        if (a.str() != last) out.counter(fabric_pid(), from, link.name, a.str());
        last = a.str();
        from = std::max(from, to_ns(time));
      }
      JsonObject zero;
      zero.add_fixed("utilization %", 0, 3);
      if (zero.str() != last) out.counter(fabric_pid(), from, link.name, zero.str());
    }
  }

  std::string metadata(const TraceWriter& out) const {
    JsonObject m;
    m.add_string("schema", kTraceSchema);
    m.add_string("scenario", in_.scenario.name);
    m.add_fixed("step_time_us", in_.result.step_time * 1e6, 3);
    std::string ranks = "[";
    for (size_t i = 0; i < ranks_.size(); ++i) ranks += (i ? "," : "") + std::to_string(ranks_[i]);
    m.add_raw("ranks", ranks + "]");
    m.add_raw("counts", out.counts_json(flows_));
    JsonObject top;
    top.add_raw("stepsim", m.str());
    return top.str();
  }

  static constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  const TraceInputs& in_;
  const Workload& w_;
  std::vector<int> ranks_;
  int world_ = 0;
  std::map<int, std::vector<const ActivityRecord*>> record_of_;  // traced rank → record per op index
  std::map<int, std::vector<const ActivityRecord*>> by_rank_;    // traced rank → records, in record order
  std::map<std::pair<int, uint32_t>, FlowBinding> bindings_;
  std::map<int, std::vector<Arrival>> arrivals_;    // on the receiving rank
  std::map<int, std::vector<Transfer>> transfers_;  // on the sending rank
  int64_t flows_ = 0;
};

}  // namespace

std::string perfetto_trace_json(const TraceInputs& in) {
  StringSink sink;
  TraceBuilder(in).write(sink);
  return sink.text();
}

Diagnostics write_perfetto_trace(const TraceInputs& in, const std::string& path, const std::string& option) {
  FileSink sink(path);
  TraceBuilder(in).write(sink);
  Diagnostics d;
  const std::string error = sink.close();
  if (!error.empty())
    d.add({"", 0, option, fmt::format("cannot write {}: {}", path, error), "give a path in an existing, writable folder"});
  return d;
}


namespace {

Diagnostic option_error(const std::string& option, std::string message, std::string fix) {
  return {"", 0, option, std::move(message), std::move(fix)};
}

}  // namespace

Diagnostics write_output_file(const std::string& path, const std::string& bytes, const std::string& option) {
  FileSink sink(path);
  sink.write(bytes);
  Diagnostics d;
  const std::string error = sink.close();
  if (!error.empty())
    d.add(option_error(option, fmt::format("cannot write {}: {}", path, error), "give a path in an existing, writable folder"));
  return d;
}

Result<std::vector<int>> parse_rank_list(const std::string& text, int world_size, const std::string& option) {
  Diagnostics d;
  std::set<int> ranks;
  auto bad = [&](const std::string& part, const std::string& why) {
    d.add(option_error(option, fmt::format("\"{}\" in \"{}\": {}", part, text, why),
                       fmt::format("list ranks and ranges of ranks in [0, {}], e.g. 0-7,64", world_size - 1)));
  };
  auto number = [](const std::string& s) -> long {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(s);
  };
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string part = text.substr(begin, comma - begin);
    begin = comma + 1;
    const size_t dash = part.find('-');
    const long first = number(part.substr(0, dash));
    const long last = dash == std::string::npos ? first : number(part.substr(dash + 1));
    if (first < 0 || last < 0) bad(part, "not a rank (N) or a range of ranks (A-B)");
    else if (first > last) bad(part, "the range runs backwards");
    else if (last >= world_size) bad(part, fmt::format("the scenario has ranks 0 to {} only", world_size - 1));
    else
      for (long r = first; r <= last; ++r) ranks.insert(static_cast<int>(r));
  }
  if (!d.ok()) return d;
  return std::vector<int>(ranks.begin(), ranks.end());
}

Result<std::vector<int>> select_traced_ranks(const StepResult& result, const std::vector<int>& chosen, size_t limit,
                                             const std::string& option) {
  std::vector<int> recorded = result.recorded_ranks;
  std::sort(recorded.begin(), recorded.end());
  if (chosen.empty()) {
    if (limit > 0 && recorded.size() > limit) recorded.resize(limit);
    return recorded;
  }
  Diagnostics d;
  for (int r : chosen)
    if (!std::binary_search(recorded.begin(), recorded.end(), r))
      d.add(option_error(option, fmt::format("rank {} was not simulated (data-parallel replica folding simulates "
                                             "replica 0 only)", r),
                         "choose ranks of data-parallel replica 0, or --set simulation.fold_replicas=false"));
  if (!d.ok()) return d;
  return chosen;
}

}  // namespace stepsim
