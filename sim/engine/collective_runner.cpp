#include "engine/collective_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "engine/collective_tuning.h"
#include "engine/ring_geometry.h"

namespace sg4 = simgrid::s4u;

namespace stepsim {

namespace {
int g_payload = 0;
}  // namespace

// Comm::wait_all waits for each comm in turn, and every wait on an unfinished comm adds a CPU
// sleep action in SimGrid 3.32; wait_any registers on all of them at once without one.
void wait_every(std::vector<sg4::CommPtr>& comms) {
  sg4::Comm::wait_all(comms);  // ~8 % faster at step fidelity than a loop of wait_any
  comms.clear();
}

namespace {  // SimGrid transfers need a payload pointer; the bytes are what matters
long long ring_key(const std::vector<int>& members) {
  return (members.front() * 1000003LL + members.back()) * 131071LL + static_cast<long long>(members.size());
}
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
  ring.bandwidth = ring.rate = 1e300;
  const size_t n = members.size();
  for (size_t i = 0; i < n; ++i) {
    std::vector<int> route = g_.route(members[i], members[(i + 1) % n]);
    const double efficiency = route_efficiency(g_, cal_, route);
    ring.hop_latency = std::max(ring.hop_latency, g_.route_latency(route));
    ring.bandwidth = std::min(ring.bandwidth, g_.route_bandwidth(route));
    ring.efficiency = std::min(ring.efficiency, efficiency);
    ring.rate = std::min(ring.rate, g_.route_bandwidth(route) * efficiency);
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
  const Choice choice = decide(kind, members, bytes, tag);
  const Algorithm algorithm = choice.algorithm;
  if (algorithm == Algorithm::nvls) return run_nvls(members, rank, bytes, tag, fidelity);
  // A ring or tree with LL or LL128: more bytes on the wire, the protocol's own base latency.
  const double launch = protocol_base_latency(cal_, algorithm, choice.protocol);
  if (fidelity == Fidelity::analytic) {
    barrier(members, tag)->wait();
    const double seconds =
        algorithm == Algorithm::tree ? tree_analytic_time(members, bytes * choice.wire_factor, tag, launch)
        : algorithm == Algorithm::hierarchical ? hier_analytic_time(members, bytes)
                                               : analytic_time(kind, members, bytes * choice.wire_factor, tag) -
                                                     cal_.launch_latency + launch;
    sg4::this_actor::sleep_for(seconds);
    return 0;
  }
  const bool stepwise = fidelity == Fidelity::step;
  switch (algorithm) {
    case Algorithm::direct: return run_all_to_all(members, rank, bytes, tag);
    case Algorithm::tree: return run_tree(members, rank, bytes * choice.wire_factor, tag, launch);
    case Algorithm::hierarchical: return run_hier(members, rank, bytes, tag, stepwise);
    default: return run_ring(kind, members, rank, bytes * choice.wire_factor, tag, stepwise, launch);
  }
}

size_t CollectiveRunner::run_nvls(const std::vector<int>& members, int rank, double bytes, int tag,
                                  Fidelity fidelity) {
  // In-switch reduction: every GPU sends its buffer up once and receives the result once, so
  // each NVLink direction carries M at the measured NVLS rate (a flow to the next GPU loads one
  // uplink and one downlink, like the switch's reduce and multicast).
  const Ring& ring = ring_of(members, tag);
  if (fidelity == Fidelity::analytic) {
    barrier(members, tag)->wait();
    sg4::this_actor::sleep_for(nvls_time(bytes, ring));
    return 0;
  }
  const std::string box = "c" + std::to_string(tag);
  const size_t at = static_cast<size_t>(std::find(members.begin(), members.end(), rank) - members.begin());
  const int right = members[(at + 1) % members.size()];
  int* received = nullptr;
  sg4::CommPtr out =
      mailbox(box + ".nvls", right)->put_async(&g_payload, static_cast<uint64_t>(bytes / cal_.nvls_algbw_fraction));
  sg4::CommPtr in = mailbox(box + ".nvls", rank)->get_async<int>(&received);
  out->wait();
  in->wait();
  sg4::this_actor::sleep_for(cal_.launch_latency + cal_.nvls_latency);
  return 1;
}

size_t CollectiveRunner::run_all_to_all(const std::vector<int>& members, int rank, double bytes, int tag) {
  const int p = static_cast<int>(members.size());
  const std::string box = "c" + std::to_string(tag);
  sg4::this_actor::sleep_for(cal_.launch_latency);
  std::vector<sg4::CommPtr> comms;
  const double per_peer = ring_edge_bytes(OpKind::all_to_all, p, bytes);
  for (int peer : members)
    if (peer != rank)
      comms.push_back(mailbox(box, peer)->put_async(
          &g_payload, static_cast<uint64_t>(per_peer / route_efficiency(g_, cal_, g_.route(rank, peer)))));
  // Post every receive before waiting: a transfer only starts once both sides are posted.
  std::vector<int*> received(static_cast<size_t>(p - 1));
  for (auto& slot : received) comms.push_back(mailbox(box, rank)->get_async<int>(&slot));
  const size_t sent = comms.size() / 2;
  wait_every(comms);
  return sent;
}

size_t CollectiveRunner::run_ring(OpKind kind, const std::vector<int>& members, int rank, double bytes, int tag,
                                  bool stepwise, double launch) {
  const int p = static_cast<int>(members.size());
  const int steps = ring_steps(kind, p);
  return ring_pass(channel_orders(members), rank, steps, ring_edge_bytes(kind, p, bytes) / steps, stepwise,
                   "c" + std::to_string(tag), tag, launch);
}

bool CollectiveRunner::merge_channels(const std::vector<std::vector<int>>& orders, int ring_tag) {
  if (orders.size() < 2) return false;
  auto key = std::make_pair(ring_tag, ring_key(orders.front()));
  auto it = merge_.find(key);
  if (it != merge_.end()) return it->second;
  // Distinct edges, how many channels use each, and how many distinct edges use each link.
  std::map<std::pair<int, int>, int> channels_on_edge;
  for (const auto& order : orders)
    for (size_t i = 0; i < order.size(); ++i) ++channels_on_edge[{order[i], order[(i + 1) % order.size()]}];
  std::unordered_map<int, int> edges_on_link;
  for (const auto& [edge, count] : channels_on_edge)
    for (int l : g_.route(edge.first, edge.second)) ++edges_on_link[l];
  bool safe = true;
  for (const auto& [edge, count] : channels_on_edge)
    if (count > 1)
      for (int l : g_.route(edge.first, edge.second)) safe = safe && edges_on_link[l] == 1;
  return merge_.emplace(key, safe).first->second;
}

std::vector<CollectiveRunner::RingPeer> CollectiveRunner::ring_peers(const std::vector<std::vector<int>>& orders, int rank,
                                                                     double step_bytes, int ring_tag, bool sends,
                                                                     double* worst_hop) {
  const double channels = static_cast<double>(orders.size());
  const bool merge = merge_channels(orders, ring_tag);
  std::vector<RingPeer> peers;
  for (size_t c = 0; c < orders.size(); ++c) {
    const std::vector<int>& order = orders[c];
    const Ring& ring = ring_of(order, ring_tag * 64 + static_cast<int>(c));
    if (worst_hop) *worst_hop = std::max(*worst_hop, ring.hop_latency);
    const size_t n = order.size(), at = static_cast<size_t>(std::find(order.begin(), order.end(), rank) - order.begin());
    const int peer = sends ? order[(at + 1) % n] : order[(at + n - 1) % n];
    const double bytes = sends ? step_bytes / channels / route_efficiency(g_, cal_, g_.route(rank, peer)) : 0;
    // Merged channels share one mailbox: that of the first channel on the edge (both ends agree).
    auto same = std::find_if(peers.begin(), peers.end(), [&](const RingPeer& p) { return p.peer == peer; });
    if (merge && same != peers.end()) same->bytes += bytes;
    else peers.push_back({peer, bytes, static_cast<int>(c)});
  }
  return peers;
}

size_t CollectiveRunner::ring_pass(const std::vector<std::vector<int>>& orders, int rank, int steps, double step_bytes,
                                   bool stepwise, const std::string& box, int ring_tag, double tail_delay) {
  struct Peer {
    double bytes;
    sg4::Mailbox* mailbox;
  };
  double worst_hop = 0;
  std::vector<Peer> sends, receives;
  for (const RingPeer& s : ring_peers(orders, rank, step_bytes, ring_tag, true, &worst_hop))
    sends.push_back({s.bytes, mailbox(box + "." + std::to_string(s.channel), s.peer)});
  for (const RingPeer& r : ring_peers(orders, rank, step_bytes, ring_tag, false, nullptr))
    receives.push_back({0, mailbox(box + "." + std::to_string(r.channel), rank)});
  const int rounds = stepwise ? steps : 1;
  const double per_message = stepwise ? 1 : steps;
  std::vector<sg4::CommPtr> comms;
  std::vector<int*> received(receives.size());
  size_t transfers = 0;
  for (int round = 0; round < rounds; ++round) {
    comms.clear();
    for (const Peer& s : sends) comms.push_back(s.mailbox->put_async(&g_payload, static_cast<uint64_t>(s.bytes * per_message)));
    for (size_t r = 0; r < receives.size(); ++r) comms.push_back(receives[r].mailbox->get_async<int>(&received[r]));
    wait_every(comms);
    transfers += sends.size();
  }
  // Macro flows carry every step's bytes at once: the other steps' hop latencies come here.
  const double delay = tail_delay + (stepwise ? 0 : (steps - 1) * worst_hop);
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
  return decide(kind, members, bytes, tag).algorithm;
}

Protocol CollectiveRunner::protocol(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  return decide(kind, members, bytes, tag).protocol;
}

// The algorithm a forced `algorithm_` gives this operation (auto: ring, refined by decide()).
Algorithm CollectiveRunner::forced_algorithm(OpKind kind, const std::vector<int>& members) const {
  if (kind == OpKind::all_to_all) return Algorithm::direct;
  const std::string& a = algorithm_;
  if (a == "nvls") return nvls_eligible(kind, members) ? Algorithm::nvls : Algorithm::ring;
  if (a == "tree") return kind == OpKind::all_reduce ? Algorithm::tree : Algorithm::ring;
  if (a == "hier")
    return kind == OpKind::all_reduce && hierarchical_eligible(members_by_node(members, g_.gpus_per_node()))
               ? Algorithm::hierarchical
               : Algorithm::ring;
  return Algorithm::ring;
}

TuningInputs CollectiveRunner::tuning_inputs(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  const auto by_node = members_by_node(members, g_.gpus_per_node());
  TuningInputs in;
  in.kind = kind;
  in.ranks = static_cast<int>(members.size());
  in.nodes = static_cast<int>(by_node.size());
  in.per_node = static_cast<int>(by_node.front().size());
  if (in.per_node > 1) {
    const auto route = g_.route(by_node.front()[0], by_node.front()[1]);
    in.nvlink_inside = std::all_of(route.begin(), route.end(),
                                   [&](int l) { return g_.links()[static_cast<size_t>(l)].kind == "nvlink"; });
  }
  const auto& families = cal_.tuning.ll128_families;
  in.ll128_enabled = in.nvlink_inside && std::find(families.begin(), families.end(), g_.gpu().family) != families.end();
  in.bus_bytes = bytes * bus_bandwidth_factor(kind, in.ranks);
  // ring_time is affine in the bytes: the bandwidth part is the difference with an empty message.
  in.ring_seconds = analytic_time(kind, members, bytes, tag) - analytic_time(kind, members, 0, tag);
  if (kind == OpKind::all_reduce) in.tree_seconds = tree_of(members, tag).seconds_per_byte * bytes;
  if (nvls_eligible(kind, members))
    in.nvls_seconds = bytes / (ring_of(members, tag).bandwidth * cal_.nvls_algbw_fraction);
  return in;
}

CollectiveRunner::Choice CollectiveRunner::decide(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  Choice c;
  c.algorithm = forced_algorithm(kind, members);
  const bool auto_algorithm = algorithm_ == "auto" && kind == OpKind::all_reduce;
  const bool has_protocols = c.algorithm == Algorithm::ring || c.algorithm == Algorithm::tree;
  if (!has_protocols || (protocol_ == "simple" && !auto_algorithm)) return c;
  auto key = std::make_tuple(static_cast<int>(kind), tag, ring_key(members), static_cast<int>(members.size()), bytes);
  auto it = choices_.find(key);
  if (it != choices_.end()) return it->second;
  TuningInputs in = tuning_inputs(kind, members, bytes, tag);
  if (!auto_algorithm) {  // the algorithm is given: only its protocol is chosen
    in.nvls_seconds = -1;
    if (c.algorithm == Algorithm::ring) in.tree_seconds = -1;
    else in.ring_candidate = false;
  }
  const TuningChoice t = nccl_choice(cal_, in, protocol_named(protocol_));
  c.algorithm = t.algorithm;
  c.protocol = t.protocol;
  if (c.protocol != Protocol::simple) {
    if (c.algorithm == Algorithm::ring && in.ring_seconds > 0)
      c.wire_factor = nccl_ring_bandwidth_seconds(cal_, in, c.protocol) / in.ring_seconds;
    if (c.algorithm == Algorithm::tree && in.tree_seconds > 0)
      c.wire_factor = nccl_tree_bandwidth_seconds(cal_, in, c.protocol) /
                      nccl_tree_bandwidth_seconds(cal_, in, Protocol::simple);
  }
  return choices_.emplace(key, c).first->second;
}

double CollectiveRunner::analytic_time(OpKind kind, const std::vector<int>& members, double bytes, int tag) {
  const int p = static_cast<int>(members.size());
  const std::vector<std::vector<int>> orders = channel_orders(members);
  if (orders.size() == 1) {
    const Ring& ring = ring_of(members, tag);
    return ring_time(kind, p, bytes, ring.hop_latency, ring.rate, cal_.launch_latency);
  }
  // Channels: each carries 1/k of the data on its own NICs, but all share each GPU's in-node
  // links; the rate is the smaller of k channel rings and the in-node ring.
  const Ring& channel = ring_of(orders[0], tag * 64);
  std::vector<int> in_node(members.begin(), members.begin() + static_cast<long>(orders.size()));
  const Ring& local = ring_of(in_node, tag * 64 + 63);
  const double rate = std::min(orders.size() * channel.rate, local.rate);
  return ring_time(kind, p, bytes, channel.hop_latency, rate, cal_.launch_latency);
}

std::vector<std::vector<int>> CollectiveRunner::channel_orders(const std::vector<int>& members) const {
  return channel_rings(members, g_.gpus_per_node());
}

}  // namespace stepsim
