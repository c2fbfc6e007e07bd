// simgrid_ring_floor: what SimGrid itself costs for a step-wise ring all-reduce, with no stepsim
// code in the loop — the floor under `stepsim collective --fidelity step`.
//
//   simgrid_ring_floor GPUS EDGES [actors|dag]
//
// GPUS hosts hang off one star (each host's own full-duplex link to the centre, so a route is two
// links, like GPU -> NVSwitch -> GPU). A 1 GiB all-reduce runs 2(GPUS-1) steps; in each step every
// rank sends 1 GiB/GPUS split over EDGES distinct right neighbours (rank+1 .. rank+EDGES) and
// receives from as many left ones, then starts its next step once all of them are done (the rule
// of stepsim's `step` fidelity). stepsim's 8-channel ring over DGX nodes has EDGES = 2 per rank
// (one NVLink neighbour carrying 7 channels, one NIC neighbour).
//   actors: one actor per rank, mailbox put_async/get_async and Comm::wait_all (what stepsim does);
//   dag:    no actors, host-to-host Comm::sendto_init started from completion callbacks.
// Prints one JSON line: flows, simulated seconds, the α-β time of the same ring, wall and CPU seconds.
#include <simgrid/s4u.hpp>

#include "engine/simgrid_config.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kBytes = 1073741824.0;
constexpr double kLinkBandwidth = 450e9;  // an H100's NVLink per direction; any value does
constexpr double kLinkLatency = 0.3e-6;
int g_payload = 0;

std::vector<sg4::Host*> star_platform(int hosts) {
  auto* zone = sg4::create_star_zone("star");
  std::vector<sg4::Host*> out;
  for (int h = 0; h < hosts; ++h) {
    auto* host = zone->create_host("h" + std::to_string(h), 1e12)->seal();
    auto* link = zone->create_split_duplex_link("l" + std::to_string(h), kLinkBandwidth)->set_latency(kLinkLatency);
    link->seal();
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                    {sg4::LinkInRoute(link, sg4::LinkInRoute::Direction::UP)}, true);
    out.push_back(host);
  }
  zone->seal();
  return out;
}

struct Ring {
  int ranks, edges, steps;
  uint64_t bytes_per_flow;
  long flows = 0;
};

void run_actors(Ring& ring, const std::vector<sg4::Host*>& hosts) {
  for (int r = 0; r < ring.ranks; ++r) {
    sg4::Actor::create("rank" + std::to_string(r), hosts[r], [&ring, r] {
      std::vector<sg4::Mailbox*> out, in;
      for (int e = 1; e <= ring.edges; ++e) {
        out.push_back(sg4::Mailbox::by_name(std::to_string((r + e) % ring.ranks) + "." + std::to_string(e)));
        in.push_back(sg4::Mailbox::by_name(std::to_string(r) + "." + std::to_string(e)));
      }
      std::vector<int*> received(in.size());
      std::vector<sg4::CommPtr> comms;
      for (int step = 0; step < ring.steps; ++step) {
        for (auto* box : out) comms.push_back(box->put_async(&g_payload, ring.bytes_per_flow));
        for (size_t i = 0; i < in.size(); ++i) comms.push_back(in[i]->get_async<int>(&received[i]));
        sg4::Comm::wait_all(comms);
        comms.clear();
        ring.flows += ring.edges;
      }
    });
  }
}

// Actor-less: a rank starts step s+1 when its sends and receives of step s have completed.
struct DagState {
  Ring* ring;
  const std::vector<sg4::Host*>* hosts;
  std::vector<int> started, pending;  // per rank: steps started, flows of the current step not done
  // Each rank's flows of its last two steps stay referenced: the one whose completion callback
  // starts the next step must outlive that callback.
  std::vector<std::array<std::vector<sg4::ActivityPtr>, 2>> alive;
};

void start_step(DagState& d, int r) {
  Ring& ring = *d.ring;
  auto& alive = d.alive[r][++d.started[r] % 2];
  alive.clear();
  for (int e = 1; e <= ring.edges; ++e) {
    const int to = (r + e) % ring.ranks;
    sg4::CommPtr c = sg4::Comm::sendto_init((*d.hosts)[r], (*d.hosts)[to]);
    c->set_payload_size(ring.bytes_per_flow);
    c->set_data(reinterpret_cast<void*>(static_cast<intptr_t>(r * 64 + e)));  // sender and edge
    alive.push_back(c);
    c->start();
    ++ring.flows;
  }
}

void run_dag(Ring& ring, const std::vector<sg4::Host*>& hosts, DagState& d) {
  d.ring = &ring;
  d.hosts = &hosts;
  d.started.assign(ring.ranks, 0);
  d.pending.assign(ring.ranks, 2 * ring.edges);  // sends + receives of step 0
  d.alive.resize(ring.ranks);
  sg4::Activity::on_completion_cb([&d](sg4::Activity const& a) {
    const auto tag = static_cast<int>(reinterpret_cast<intptr_t>(a.get_data<void>()));
    const int from = tag / 64, to = (from + tag % 64) % d.ring->ranks;
    for (int r : {from, to})
      if (--d.pending[r] == 0 && d.started[r] < d.ring->steps) {
        d.pending[r] = 2 * d.ring->edges;
        start_step(d, r);
      }
  });
  for (int r = 0; r < ring.ranks; ++r) start_step(d, r);
}

}  // namespace

int main(int argc, char** argv) {
  stepsim::SimgridArguments args;  // the settings of every stepsim simulation, nothing else of stepsim
  sg4::Engine engine(args.argc(), args.argv());
  if (argc < 3 || std::stoi(argv[2]) < 1 || std::stoi(argv[2]) > 63) {
    std::fprintf(stderr, "usage: %s GPUS EDGES [actors|dag]\n", argv[0]);
    return 2;
  }
  Ring ring{std::stoi(argv[1]), std::stoi(argv[2]), 0, 0};
  const std::string mode = argc > 3 ? argv[3] : "actors";
  ring.steps = 2 * (ring.ranks - 1);
  ring.bytes_per_flow = static_cast<uint64_t>(kBytes / ring.ranks / ring.edges);
  auto hosts = star_platform(ring.ranks);
  DagState dag;
  if (mode == "dag") run_dag(ring, hosts, dag);
  else run_actors(ring, hosts);
  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  // Every flow crosses the sender's up link and the receiver's down link; EDGES flows share each.
  const double step = 2 * kLinkLatency + ring.edges * static_cast<double>(ring.bytes_per_flow) / kLinkBandwidth;
  std::printf("{\"mode\":\"%s\",\"gpus\":%d,\"edges\":%d,\"flows\":%ld,\"simulated_s\":%.9g,\"alpha_beta_s\":%.9g,"
              "\"wall_s\":%.3f,\"cpu_s\":%.3f,\"us_per_flow\":%.2f}\n",
              mode.c_str(), ring.ranks, ring.edges, ring.flows, sg4::Engine::get_clock(), ring.steps * step, wall, cpu,
              1e6 * cpu / static_cast<double>(ring.flows));
  return 0;
}
