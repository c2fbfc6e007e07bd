#include "engine/collective_runner.h"

#include <fmt/format.h>

#include <algorithm>

namespace sg4 = simgrid::s4u;

namespace stepsim {

namespace {
int g_payload = 0;  // SimGrid transfers need a payload pointer; the bytes are what matters
long long ring_key(const std::vector<int>& members) { return members.front() * 1000003LL + members.back(); }
}  // namespace

sg4::Mailbox* CollectiveRunner::mailbox(const std::string& tag, int rank) {
  return sg4::Mailbox::by_name(fmt::format("{}:{}", tag, rank));
}

const Ring& CollectiveRunner::ring_of(const std::vector<int>& members, int tag) {
  auto key = std::make_pair(tag, ring_key(members));
  auto it = rings_.find(key);
  if (it != rings_.end()) return it->second;
  Ring ring;
  ring.members = members;
  ring.bandwidth = 1e300;
  const size_t n = members.size();
  for (size_t i = 0; i < n; ++i) {
    std::vector<int> route = g_.route(members[i], members[(i + 1) % n]);
    ring.hop_latency = std::max(ring.hop_latency, g_.route_latency(route));
    ring.bandwidth = std::min(ring.bandwidth, g_.route_bandwidth(route));
    for (int link : route)
      ring.efficiency = std::min(ring.efficiency, cal_.efficiency(g_.links()[static_cast<size_t>(link)].kind));
    if (n == 2) break;
  }
  return rings_.emplace(key, std::move(ring)).first->second;
}

sg4::BarrierPtr CollectiveRunner::barrier(const std::vector<int>& members, int tag) {
  auto key = std::make_pair(tag, ring_key(members));
  auto it = barriers_.find(key);
  if (it == barriers_.end())
    it = barriers_.emplace(key, sg4::Barrier::create(static_cast<unsigned>(members.size()))).first;
  return it->second;
}

sg4::CommPtr CollectiveRunner::send(int from, int to, double bytes, const std::string& tag) {
  const Ring& ring = ring_of({from, to}, -1);
  return mailbox(tag, to)->put_async(&g_payload, static_cast<uint64_t>(bytes / ring.efficiency));
}

void CollectiveRunner::receive(int rank, const std::string& tag) { mailbox(tag, rank)->get<int>(); }

size_t CollectiveRunner::run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag) {
  const int p = static_cast<int>(members.size());
  if (p <= 1 || bytes <= 0) return 0;
  const Ring& ring = ring_of(members, tag);
  const size_t pos = static_cast<size_t>(std::find(members.begin(), members.end(), rank) - members.begin());
  const std::string box = "c" + std::to_string(tag);
  if (fidelity_ == Fidelity::analytic) {
    barrier(members, tag)->wait();
    sg4::this_actor::sleep_for(
        ring_time(kind, p, bytes, ring.hop_latency, ring.bandwidth * ring.efficiency, cal_.launch_latency));
    return 0;
  }
  sg4::this_actor::sleep_for(cal_.launch_latency);
  if (kind == OpKind::all_to_all) {
    std::vector<sg4::CommPtr> comms;
    const double per_peer = ring_edge_bytes(kind, p, bytes) / ring.efficiency;
    for (int peer : members)
      if (peer != rank) comms.push_back(mailbox(box, peer)->put_async(&g_payload, static_cast<uint64_t>(per_peer)));
    for (int i = 0; i < p - 1; ++i) mailbox(box, rank)->get<int>();
    for (auto& c : comms) c->wait();
    return comms.size();
  }
  const int right = members[(pos + 1) % members.size()];
  const int steps = ring_steps(kind, p);
  const bool stepwise = fidelity_ == Fidelity::step;
  const int rounds = stepwise ? steps : 1;
  const double edge = (stepwise ? bytes / p : ring_edge_bytes(kind, p, bytes)) / ring.efficiency;
  for (int round = 0; round < rounds; ++round) {
    sg4::CommPtr out = mailbox(box, right)->put_async(&g_payload, static_cast<uint64_t>(edge));
    mailbox(box, rank)->get<int>();
    out->wait();
  }
  // A macro flow carries every step's bytes at once; the other steps' latencies remain.
  if (!stepwise && steps > 1) sg4::this_actor::sleep_for((steps - 1) * ring.hop_latency);
  return static_cast<size_t>(rounds);
}

}  // namespace stepsim
