// The SimGrid settings every stepsim simulation uses (docs/reference/simgrid.md §3-4): CM02 with
// latency and bandwidth factors 1, no cross-traffic, no TCP window bound — so that flows match
// α-β exactly and calibration lives in stepsim's data files — and guard-less actor stacks so
// that more than ~32K actors fit in the kernel's memory-map limit.
#pragma once

#include <string>
#include <vector>

namespace stepsim {

class SimgridArguments {
 public:
  SimgridArguments()
      : args_{"stepsim",
              "--cfg=network/model:CM02",
              "--cfg=network/crosstraffic:0",
              "--cfg=network/TCP-gamma:1e18",
              "--cfg=contexts/guard-size:0",
              "--cfg=contexts/stack-size:256",
              "--log=root.thres:critical",
              "--log=xbt_cfg.thres:critical"} {
    for (auto& a : args_) pointers_.push_back(a.data());
    count_ = static_cast<int>(pointers_.size());
  }
  int* argc() { return &count_; }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
  int count_ = 0;
};

}  // namespace stepsim
