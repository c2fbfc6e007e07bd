// Each shipped data file parses; the GPU catalog covers every id of the published-runs
// format with the corrected, cited figures; each format's errors are clear.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "scenario/data_dirs.h"
#include "scenario/gpu_spec.h"
#include "scenario/memory_overheads.h"
#include "scenario/model_spec.h"
#include "scenario/scenario.h"
#include "scenario/topology_spec.h"
#include "workload/memory_timeline.h"
#include "workload/model_math.h"

using namespace stepsim;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

JsonDocument doc_of(const std::string& text, const std::string& name = "x.json") {
  auto d = parse_json_text(text, name);
  REQUIRE(d.ok());
  return d.value();
}

bool mentions(const Diagnostics& d, const std::string& needle) {
  return d.to_string().find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("every shipped GPU, model and topology file parses", "[formats]") {
  for (const auto& f : catalog_files(CatalogKind::gpus)) {
    INFO(f);
    auto doc = load_json_file(f);
    REQUIRE(doc.ok());
    auto g = parse_gpu(doc.value());
    CHECK(g.ok());
    if (!g.ok()) WARN(g.errors().to_string());
  }
  for (const auto& f : catalog_files(CatalogKind::models)) {
    INFO(f);
    auto m = load_model(f);
    CHECK(m.ok());
  }
  for (const auto& f : catalog_files(CatalogKind::topologies)) {
    INFO(f);
    auto t = load_topology(f);
    CHECK(t.ok());
    if (t.ok()) CHECK(load_gpu(t.value().gpu).ok());
  }
}

TEST_CASE("the GPU catalog contains every id of the published-runs format", "[formats]") {
  const std::string whole = read_file(data_root() + "/docs/formats/published-runs.md");
  const size_t table = whole.find("Hardware catalog ids");
  REQUIRE(table != std::string::npos);
  const std::string format = whole.substr(table, whole.find("Intra-node fabric ids") - table);
  // Rows of the "Hardware catalog ids" table: | `id`, `id` | card |  or  | id, id | card |
  std::regex row(R"(\n\| ([a-z0-9][a-z0-9.\-, ]*) \| [^|\n]+ \|)");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(format.begin(), format.end(), row); it != std::sregex_iterator(); ++it) {
    std::stringstream cell((*it)[1].str());
    std::string id;
    while (std::getline(cell, id, ',')) {
      id.erase(0, id.find_first_not_of(' '));
      id.erase(id.find_last_not_of(' ') + 1);
      if (id != "id") ids.push_back(id);
    }
  }
  REQUIRE(ids.size() >= 20);
  auto shipped = catalog_ids(CatalogKind::gpus);
  for (const auto& id : ids) {
    INFO(id);
    CHECK(std::find(shipped.begin(), shipped.end(), id) != shipped.end());
  }
}

TEST_CASE("catalog figures are the corrected ones of the hardware reference", "[formats]") {
  // Independent numbers: docs/reference/hardware.md §0 and §1 (corrections of a marketing table).
  auto ws = load_gpu("rtx-pro-6000-blackwell-ws");
  REQUIRE(ws.ok());
  const GpuSpec& g = ws.value();
  CHECK(g.memory_bytes == Approx(96.0 * 1024 * 1024 * 1024));  // vendor GB of device memory are GiB
  CHECK(g.memory_bandwidth == Approx(1792e9));
  CHECK(g.bus_bits == 512);
  CHECK(g.tdp_w == Approx(600));
  CHECK(g.family == "blackwell-pro");
  CHECK(*g.peak_flops(Precision::fp4) >= 2000e12);
  CHECK(*g.peak_flops(Precision::bf16) == Approx(504e12).epsilon(0.01));
  CHECK_FALSE(g.nvlink.has_value());
  CHECK(g.pcie_p2p);
  auto maxq = load_gpu("rtx-pro-6000-blackwell-maxq");
  REQUIRE(maxq.ok());
  CHECK(maxq.value().tdp_w == Approx(300));
  auto h100 = load_gpu("h100-pcie-80gb");
  REQUIRE(h100.ok());
  CHECK(h100.value().memory_type == "HBM2e");
  CHECK(h100.value().sms == 114);
  CHECK(*h100.value().peak_flops(Precision::fp8) == Approx(1513e12));  // dense, not sparse
  CHECK_FALSE(h100.value().peak_flops(Precision::fp4).has_value());
  CHECK(h100.value().nvlink->scope == "bridge-pairs");
  auto rtx4090 = load_gpu("rtx-4090");
  REQUIRE(rtx4090.ok());
  CHECK(*rtx4090.value().peak_flops(Precision::bf16) == Approx(165.2e12).epsilon(0.01));  // FP32-accumulate half rate
  CHECK_FALSE(rtx4090.value().pcie_p2p);
}

TEST_CASE("usable memory is the CUDA-visible total where the catalog measured it", "[formats][memory]") {
  // Independent numbers: torch's "total capacity" in out-of-memory messages (sources in the
  // catalog files): A100 80GB 79.25 GiB, H100 80GB 79.11 GiB; nvidia-smi's H100 total is
  // 80 GiB - 361 MiB, the default reserve for cards without a measurement.
  constexpr double GiB = 1024.0 * 1024 * 1024, MiB = 1024.0 * 1024;
  auto overheads = load_memory_overheads();
  REQUIRE(overheads.ok());
  auto a100 = load_gpu("a100-sxm4-80gb");
  auto h100 = load_gpu("h100-sxm5-80gb");
  auto h100_pcie = load_gpu("h100-pcie-80gb");
  REQUIRE((a100.ok() && h100.ok() && h100_pcie.ok()));
  CHECK(usable_capacity(a100.value(), overheads.value()) == Approx(79.25 * GiB));
  CHECK(usable_capacity(h100.value(), overheads.value()) == Approx(79.11 * GiB));
  CHECK(usable_capacity(h100_pcie.value(), overheads.value()) == Approx(80 * GiB - 361 * MiB));

  // A what-if capacity replaces the card's memory, and with it the measured total.
  auto budget = load_scenario(catalog_dir(CatalogKind::scenarios) + "/llama3-70b-tp8-dgx-h100.json",
                              {{"cluster.gpu_memory_gib", "48"}});
  REQUIRE(budget.ok());
  CHECK(usable_capacity(budget.value().gpu, overheads.value()) == Approx(48 * GiB - 361 * MiB));

  auto file = load_json_file(catalog_dir(CatalogKind::gpus) + "/a100-sxm4-80gb.json");
  REQUIRE(file.ok());
  JsonDocument doc = file.value();
  doc.root["memory"]["cuda_total_gib"] = 81.0;
  auto bad = parse_gpu(doc);
  REQUIRE_FALSE(bad.ok());
  CHECK(mentions(bad.errors(), "memory.cuda_total_gib: the CUDA-visible total exceeds capacity_gb"));
}

TEST_CASE("a GPU figure without a citation is rejected", "[formats]") {
  auto good = load_json_file(catalog_dir(CatalogKind::gpus) + "/h100-sxm5-80gb.json");
  REQUIRE(good.ok());
  JsonDocument doc = good.value();
  doc.root["sources"] = Json::object({{"memory", "x"}});
  auto g = parse_gpu(doc);
  REQUIRE_FALSE(g.ok());
  CHECK(mentions(g.errors(), "dense_tflops.bf16: this figure has no citation"));
}

TEST_CASE("model files: required keys and divisibility are checked", "[formats]") {
  auto missing = parse_model(doc_of("{\"id\": \"m\", \"arch\": \"llama\", \"layers\": 2, \"hidden\": 64, \"heads\": 4}"));
  REQUIRE_FALSE(missing.ok());
  CHECK(mentions(missing.errors(), "missing required key \"ffn_hidden\""));
  CHECK(mentions(missing.errors(), "missing required key \"vocab\""));
  auto heads = parse_model(doc_of(
      "{\"id\": \"m\", \"arch\": \"llama\", \"layers\": 2, \"hidden\": 100, \"heads\": 3, \"kv_heads\": 2, "
      "\"ffn_hidden\": 256, \"vocab\": 1000}"));
  REQUIRE_FALSE(heads.ok());
  CHECK(mentions(heads.errors(), "hidden = 100 is not divisible by heads = 3"));
  CHECK(mentions(heads.errors(), "heads = 3 is not divisible by kv_heads = 2"));
  auto arch = parse_model(doc_of("{\"id\": \"m\", \"arch\": \"lama\", \"layers\": 2, \"hidden\": 64, \"heads\": 4, "
                                 "\"ffn_hidden\": 256, \"vocab\": 1000}"));
  REQUIRE_FALSE(arch.ok());
  CHECK(mentions(arch.errors(), "did you mean \"llama\"?"));
}

TEST_CASE("Hugging Face configs import to the same architecture as the shipped models", "[formats][hf]") {
  const std::string dir = STEPSIM_TEST_DATA_DIR "/hf-configs/";
  struct Pair {
    const char* hf;
    const char* ours;
  };
  for (Pair p : {Pair{"meta-llama-Meta-Llama-3-8B.json", "llama3-8b"}, Pair{"meta-llama-Llama-2-7b-hf.json", "llama2-7b"},
                 Pair{"meta-llama-Llama-2-70b-hf.json", "llama2-70b"},
                 Pair{"meta-llama-Llama-3.1-405B.json", "llama3.1-405b"},
                 Pair{"mistralai-Mixtral-8x7B-Instruct-v0.1.json", "mixtral-8x7b"},
                 Pair{"Qwen-Qwen2-72B.json", "qwen2.5-72b"}, Pair{"openai-community-gpt2.json", "gpt2"},
                 Pair{"openai-community-gpt2-large.json", "gpt2-large"}}) {
    INFO(p.hf);
    auto hf = load_model(dir + p.hf);
    auto ours = load_model(p.ours);
    REQUIRE(hf.ok());
    REQUIRE(ours.ok());
    CHECK(hf.value().arch == ours.value().arch);
    CHECK(hf.value().layers == ours.value().layers);
    CHECK(hf.value().hidden == ours.value().hidden);
    CHECK(hf.value().heads == ours.value().heads);
    CHECK(hf.value().kv_heads == ours.value().kv_heads);
    CHECK(hf.value().ffn_hidden == ours.value().ffn_hidden);
    CHECK(hf.value().vocab == ours.value().vocab);
    CHECK(hf.value().tied_embeddings == ours.value().tied_embeddings);
    CHECK(hf.value().moe.has_value() == ours.value().moe.has_value());
    CHECK(count_parameters(hf.value()).total == count_parameters(ours.value()).total);
  }
  auto gpt2 = load_model(dir + "openai-community-gpt2.json");
  REQUIRE(gpt2.ok());
  CHECK(count_parameters(gpt2.value()).total == 124439808);  // the published GPT-2 small count
}

TEST_CASE("an unsupported Hugging Face model type is a clear error", "[formats][hf]") {
  auto m = parse_model(doc_of("{\"model_type\": \"t5\", \"d_model\": 512}", "t5.json"));
  REQUIRE_FALSE(m.ok());
  CHECK(mentions(m.errors(), "unsupported Hugging Face model_type \"t5\""));
}

TEST_CASE("topology files: references and connectivity are checked", "[formats]") {
  const std::string base =
      "{\"id\": \"t\", \"gpu\": \"h100-sxm5-80gb\", \"host_memory_gb\": 512,"
      " \"link_types\": {\"pcie5\": {\"kind\": \"pcie\", \"bandwidth_gbps\": 63, \"latency_us\": 0.4, \"source\": \"s\"}},"
      " \"node\": {\"devices\": [{\"id\": \"gpu0\", \"kind\": \"gpu\"}, {\"id\": \"gpu1\", \"kind\": \"gpu\"},"
      " {\"id\": \"cpu0\", \"kind\": \"cpu\"}], \"links\": [";
  auto ok = parse_topology(doc_of(base + "{\"a\": \"gpu0\", \"b\": \"cpu0\", \"type\": \"pcie5\"},"
                                         "{\"a\": \"gpu1\", \"b\": \"cpu0\", \"type\": \"pcie5\"}]}, \"fabric\": null}"));
  REQUIRE(ok.ok());
  CHECK(ok.value().gpus_per_node() == 2);
  auto disconnected = parse_topology(doc_of(base + "{\"a\": \"gpu0\", \"b\": \"cpu0\", \"type\": \"pcie5\"}]}}"));
  REQUIRE_FALSE(disconnected.ok());
  CHECK(mentions(disconnected.errors(), "the node is disconnected: gpu1 cannot reach gpu0"));
  auto typo = parse_topology(doc_of(base + "{\"a\": \"gpu0\", \"b\": \"cpu\", \"type\": \"pcie4\"}]}}"));
  REQUIRE_FALSE(typo.ok());
  CHECK(mentions(typo.errors(), "link endpoint \"cpu\" is not a device of the node"));
  CHECK(mentions(typo.errors(), "did you mean \"cpu0\"?"));
  CHECK(mentions(typo.errors(), "unknown link type \"pcie4\""));
  auto no_nic = parse_topology(doc_of(base + "{\"a\": \"gpu0\", \"b\": \"cpu0\", \"type\": \"pcie5\"},"
                                             "{\"a\": \"gpu1\", \"b\": \"cpu0\", \"type\": \"pcie5\"}]},"
                                             " \"fabric\": {\"kind\": \"single_switch\", \"link_type\": \"pcie5\", \"source\": \"s\"}}"));
  REQUIRE_FALSE(no_nic.ok());
  CHECK(mentions(no_nic.errors(), "a fabric is given but the node has no NIC"));
}
