#include "engine/collective_benchmark.h"

#include <simgrid/s4u.hpp>

#include <memory>

#include "cluster/platform.h"
#include "engine/collective_runner.h"
#include "engine/simgrid_config.h"

namespace sg4 = simgrid::s4u;

namespace stepsim {

std::vector<CollectivePoint> run_collective_benchmark(const ClusterGraph& cluster,
                                                      const CollectiveCalibration& calibration,
                                                      const CollectiveBenchmark& bench) {
  SimgridArguments args;
  sg4::Engine engine(args.argc(), args.argv());
  Platform platform = build_platform(cluster);
  CollectiveRunner runner(cluster, calibration, bench.fidelity, bench.algorithm_choice, bench.protocol_choice);
  const int p = cluster.gpu_count();
  std::vector<int> all(static_cast<size_t>(p));
  for (int r = 0; r < p; ++r) all[static_cast<size_t>(r)] = r;
  std::vector<CollectivePoint> points(bench.sizes.size());
  sg4::BarrierPtr start = sg4::Barrier::create(static_cast<unsigned>(p));
  sg4::BarrierPtr end = sg4::Barrier::create(static_cast<unsigned>(p));
  for (int r = 0; r < p; ++r) {
    sg4::Actor::create("bench" + std::to_string(r), platform.gpus[static_cast<size_t>(r)], [&, r] {
      for (size_t i = 0; i < bench.sizes.size(); ++i) {
        start->wait();
        const double t0 = sg4::Engine::get_clock();
        const double bytes = bench.sizes[i];
        if (bench.op == OpKind::send) {
          // nccl-tests sendrecv: every rank sends to the next and receives from the previous.
          auto comm = runner.send(r, (r + 1) % p, bytes, "sr" + std::to_string(i));
          runner.receive(r, "sr" + std::to_string(i));
          comm->wait();
          points[i].flows += 1;
        } else {
          points[i].flows += runner.run(bench.op, all, r, bytes, static_cast<int>(i));
        }
        end->wait();
        if (r == 0) {
          CollectivePoint& pt = points[i];
          pt.bytes = bytes;
          pt.time_s = sg4::Engine::get_clock() - t0;
          pt.algbw = bytes / pt.time_s;
          pt.busbw = pt.algbw * bus_bandwidth_factor(bench.op, p);
          const bool p2p = bench.op == OpKind::send;
          pt.algorithm = p2p ? "p2p" : to_string(runner.choose(bench.op, all, bytes, static_cast<int>(i)));
          pt.protocol = p2p ? "-" : to_string(runner.protocol(bench.op, all, bytes, static_cast<int>(i)));
        }
      }
    });
  }
  engine.run();
  return points;
}

}  // namespace stepsim
