#include "engine/collective_runner.h"
#include "engine/ring_geometry.h"

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
    ring.efficiency = std::min(ring.efficiency, route_efficiency(g_, cal_, route));
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
  return run(kind, members, rank, bytes, tag, fidelity_);
}

size_t CollectiveRunner::run(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag,
                             Fidelity fidelity) {
  const int p = static_cast<int>(members.size());
  if (p <= 1 || bytes <= 0) return 0;
  const Ring& ring = ring_of(members, tag);
  const std::string box = "c" + std::to_string(tag);
  if (choose(kind, members, bytes, tag) == Algorithm::nvls) {
    // In-switch reduction: every GPU sends its buffer up once and receives the result once, so
    // each NVLink direction carries M at the measured NVLS rate (a flow to the next GPU loads one
    // uplink and one downlink, like the switch's reduce and multicast).
    if (fidelity == Fidelity::analytic) {
      barrier(members, tag)->wait();
      sg4::this_actor::sleep_for(nvls_time(bytes, ring));
      return 0;
    }
    const size_t at = static_cast<size_t>(std::find(members.begin(), members.end(), rank) - members.begin());
    const int right = members[(at + 1) % members.size()];
    std::vector<int*> received(1);
    sg4::CommPtr out = mailbox(box + ".nvls", right)->put_async(&g_payload, static_cast<uint64_t>(bytes / cal_.nvls_algbw_fraction));
    sg4::CommPtr in = mailbox(box + ".nvls", rank)->get_async<int>(&received[0]);
    out->wait();
    in->wait();
    sg4::this_actor::sleep_for(cal_.launch_latency + cal_.nvls_latency);
    return 1;
  }
  if (fidelity == Fidelity::analytic) {
    barrier(members, tag)->wait();
    sg4::this_actor::sleep_for(analytic_time(kind, members, bytes, tag));
    return 0;
  }
  if (kind == OpKind::all_to_all) {
    sg4::this_actor::sleep_for(cal_.launch_latency);
    std::vector<sg4::CommPtr> comms;
    const double per_peer = ring_edge_bytes(kind, p, bytes) / ring.efficiency;
    for (int peer : members)
      if (peer != rank) comms.push_back(mailbox(box, peer)->put_async(&g_payload, static_cast<uint64_t>(per_peer)));
    // Post every receive before waiting: a transfer only starts once both sides are posted.
    std::vector<int*> received(static_cast<size_t>(p - 1));
    for (auto& slot : received) comms.push_back(mailbox(box, rank)->get_async<int>(&slot));
    for (auto& c : comms) c->wait();
    return comms.size() / 2;
  }
  const std::vector<std::vector<int>> orders = channel_orders(members);
  const double channels = static_cast<double>(orders.size());
  const int steps = ring_steps(kind, p);
  const bool stepwise = fidelity == Fidelity::step;
  const int rounds = stepwise ? steps : 1;
  double worst_hop = 0;
  std::vector<const Ring*> rings;
  for (size_t c = 0; c < orders.size(); ++c) {
    rings.push_back(&ring_of(orders[c], tag * 64 + static_cast<int>(c)));
    worst_hop = std::max(worst_hop, rings.back()->hop_latency);
  }
  size_t transfers = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<sg4::CommPtr> out;
    for (size_t c = 0; c < orders.size(); ++c) {
      const std::vector<int>& order = orders[c];
      const size_t at = static_cast<size_t>(std::find(order.begin(), order.end(), rank) - order.begin());
      const int right = order[(at + 1) % order.size()];
      const double edge = (stepwise ? bytes / p : ring_edge_bytes(kind, p, bytes)) / channels / rings[c]->efficiency;
      out.push_back(mailbox(box + "." + std::to_string(c), right)->put_async(&g_payload, static_cast<uint64_t>(edge)));
    }
    const size_t sent = out.size();
    std::vector<int*> received(orders.size());
    for (size_t c = 0; c < orders.size(); ++c)
      out.push_back(mailbox(box + "." + std::to_string(c), rank)->get_async<int>(&received[c]));
    for (auto& comm : out) comm->wait();
    transfers += sent;
  }
  // The launch latency, and with macro flows (which carry every step's bytes at once) the other
  // steps' hop latencies, in one delay.
  const double delay = cal_.launch_latency + (stepwise ? 0 : (steps - 1) * worst_hop);
  if (delay > 0) sg4::this_actor::sleep_for(delay);
  return transfers;
}

bool CollectiveRunner::nvls_eligible(OpKind kind, const std::vector<int>& members) const {
  if (kind != OpKind::all_reduce || g_.nvswitch_generation() < 3 || members.size() < 2) return false;
  const int node = members.front() / g_.gpus_per_node();
  for (int m : members)
    if (m / g_.gpus_per_node() != node) return false;
  return true;
}

double CollectiveRunner::nvls_time(double bytes, const Ring& ring) const {
  return cal_.launch_latency + cal_.nvls_latency + bytes / (ring.bandwidth * cal_.nvls_algbw_fraction);
}

Algorithm CollectiveRunner::choose(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  if (algorithm_ == "ring" || !nvls_eligible(kind, members)) return Algorithm::ring;
  if (algorithm_ == "nvls") return Algorithm::nvls;
  const Ring& ring = ring_of(members, tag);
  const double ring_s = ring_time(kind, static_cast<int>(members.size()), bytes, ring.hop_latency,
                                  ring.bandwidth * ring.efficiency, cal_.launch_latency);
  return nvls_time(bytes, ring) < ring_s ? Algorithm::nvls : Algorithm::ring;
}

double CollectiveRunner::analytic_time(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  const int p = static_cast<int>(members.size());
  const std::vector<std::vector<int>> orders = channel_orders(members);
  if (orders.size() == 1) {
    const Ring& ring = ring_of(members, tag);
    return ring_time(kind, p, bytes, ring.hop_latency, ring.bandwidth * ring.efficiency, cal_.launch_latency);
  }
  // Channels: each carries 1/k of the data on its own NICs, but all share each GPU's in-node
  // links; the rate is the smaller of k channel rings and the in-node ring.
  const Ring& channel = ring_of(orders[0], tag * 64);
  std::vector<int> in_node(members.begin(), members.begin() + static_cast<long>(orders.size()));
  const Ring& local = ring_of(in_node, tag * 64 + 63);
  const double rate = std::min(orders.size() * channel.bandwidth * channel.efficiency, local.bandwidth * local.efficiency);
  return ring_time(kind, p, bytes, channel.hop_latency, rate, cal_.launch_latency);
}

std::vector<std::vector<int>> CollectiveRunner::channel_orders(const std::vector<int>& members) const {
  return channel_rings(members, g_.gpus_per_node());
}

}  // namespace stepsim
