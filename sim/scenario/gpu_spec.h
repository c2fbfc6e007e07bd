// GpuSpec: one card of the hardware catalog (topologies/gpus/<id>.json, docs/formats/gpu-catalog.md).
//
// All quantities are SI: bytes, bytes/s, FLOP/s, watts. Device memory capacity is quoted by
// vendors in binary units (80 GB = 80 GiB), bandwidths in decimal ones. Peak rates are dense tensor rates with
// FP32 accumulation (GeForce cards already carry their half rate in the file). Every number in
// the file must be covered by its `sources` map; parse_gpu() rejects files where one is not.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/json_document.h"

namespace stepsim {

enum class Precision { fp32, tf32, bf16, fp16, fp8, fp4 };
constexpr std::array<Precision, 6> kAllPrecisions = {Precision::fp32, Precision::tf32, Precision::bf16,
                                                     Precision::fp16, Precision::fp8, Precision::fp4};
std::string to_string(Precision p);
std::optional<Precision> parse_precision(const std::string& s);

struct GpuPrice {
  std::string kind;  // "purchase" (USD per card) or "cloud_gpu_hour" (USD per GPU-hour)
  double usd = 0;
  std::string date;  // YYYY-MM-DD, or YYYY-MM / YYYY when the source is no more precise
  std::string provider;
  std::string source;
};

struct NvlinkSpec {
  int generation = 0;
  double bandwidth = 0;  // bytes/s per direction per GPU
  std::string scope;     // "switch", "bridge-pairs", "bridge-4way", "xgmi-mesh"
};

struct GpuSpec {
  std::string file;
  std::string id, name, vendor, family, form_factor;
  double memory_bytes = 0;
  // What cudaMemGetInfo reports as the total (PyTorch's "total capacity" in an OOM message): the
  // most one process can hold. 0 when the catalog has no measurement; see usable_capacity().
  double cuda_total_bytes = 0;
  std::string memory_type;
  double memory_bandwidth = 0;  // bytes/s
  int bus_bits = 0;
  std::map<Precision, double> dense_flops;  // FLOP/s; absent = unsupported
  int sms = 0;
  double l2_bytes = 0;
  double boost_clock_mhz = 0;
  double tdp_w = 0, idle_w = 0;
  bool has_idle_w = false;  // power.idle_w is optional; without it the cost model uses a cited default fraction
  std::string host_link_kind;   // "pcie" or "nvlink-c2c"
  int pcie_gen = 0, pcie_lanes = 0;  // 0 for NVLink-C2C
  double host_bandwidth = 0;    // bytes/s per direction to the host
  std::optional<NvlinkSpec> nvlink;
  bool pcie_p2p = false;
  std::vector<GpuPrice> prices;
  std::map<std::string, std::string> sources;

  std::optional<double> peak_flops(Precision p) const;
};

Result<GpuSpec> parse_gpu(const JsonDocument& doc);
bool is_price_date(const std::string& date);  // YYYY-MM-DD, YYYY-MM or YYYY
// `ref` is a catalog id or a path; base_dir is where a relative path is looked up first.
Result<GpuSpec> load_gpu(const std::string& ref, const std::string& base_dir = "");

}  // namespace stepsim
