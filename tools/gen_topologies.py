#!/usr/bin/env python3
"""Generate the shipped cluster topologies, topologies/<id>.json.

The format is documented in docs/formats/topology.md. Every file here is produced by this
script, so the repetitive device and link lists come from a few layout functions below and a
reader sees the layout logic instead of eight copies of the same link:

    python3 tools/gen_topologies.py           # (re)write topologies/*.json
    python3 tools/gen_topologies.py --check   # exit 1 if a file differs from what would be written

Output is deterministic: plain JSON, 2-space indent, keys in schema order, one trailing newline.
Only the files named in TOPOLOGIES are written; topologies/gpus/ is not touched.

Numbers and their sources
-------------------------
Every link type carries its physical per-direction bandwidth and a one-way latency PER HOP
(per link crossed), each with its source. Published latencies are end-to-end GPU-to-GPU figures,
so they are split over the links of the path they were measured on:
  * NVLink through NVSwitch: NCCL's hwLat NVLink (LL) is 0.6 us per GPU-to-GPU step and that
    path crosses 2 links (GPU->NVSwitch->GPU): 0.3 us per hop. A direct bridge is 1 hop: 0.6 us.
  * PCIe: GPU-to-GPU P2P 0.36-0.45 us measured over 2 links (GPU->root port or switch->GPU):
    0.2 us per hop.
  * CPU socket link: the extra latency of crossing sockets, about 0.08 us.
  * IB/RoCE: 0.6 us per hop (HDR figure); NIC->switch->NIC is then 1.2 us.
Source tags [Sx] refer to shared/reference/hardware.md.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "topologies"

# ---------------------------------------------------------------------------------------------
# Latency explanations shared by several link types.

LAT_NVSWITCH = (
    "Latency: NCCL hwLat NVLink (LL) = 0.6 us per GPU-to-GPU step (hardware.md §3d [S16]), split "
    "over the 2 hops GPU->NVSwitch->GPU = 0.3 us per hop (derived).")
LAT_BRIDGE = (
    "Latency: NCCL hwLat NVLink (LL) = 0.6 us per GPU-to-GPU step (hardware.md §3d [S16]), all of "
    "it on the single bridge hop.")
LAT_PCIE = (
    "Latency: GPU-to-GPU P2P 0.36-0.45 us measured over 2 PCIe links (GPU->root port or "
    "switch->GPU; hardware.md §2b [S14]) = ~0.2 us per hop (derived).")
LAT_SOCKET_AMD = (
    "Latency: cross-NUMA vs same-NUMA GPU P2P 0.44 vs 0.36 us on dual EPYC (hardware.md §2b-2c "
    "[S14]) -> ~0.08 us added per socket crossing (derived).")
LAT_SOCKET_INTEL = (
    "Latency: Intel MLC idle memory latency local 116.8 ns vs remote 194.8-205.4 ns on a 2-socket "
    "Xeon (github.com/intel/pcm/issues/919) -> ~0.08 us added per socket crossing (derived).")
LAT_HDR = (
    "Latency: 0.6 us per hop = HDR latency listed in ml-engineering network/README [S2]; "
    "NIC->switch->NIC (2 hops) = 1.2 us, within the < 2.5 us ib_write latency that NVIDIA "
    "ngc_multinode_perf accepts (hardware.md §2d).")
LAT_NDR = (
    "Latency: NDR latency is not published [S2]; HDR's 0.6 us per hop [S2] is assumed; "
    "NIC->switch->NIC = 1.2 us, within the < 2.5 us ib_write bound of NVIDIA ngc_multinode_perf "
    "(hardware.md §2d).")
LAT_ETH = (
    "Latency: no sourced per-hop RoCE figure; IB HDR's 0.6 us per hop [S2] is assumed (weak).")

# ---------------------------------------------------------------------------------------------
# Link types. bandwidth_gbps: physical rate per direction (GB/s, decimal), per lane when links
# use "count" (NVLink types are per NVLink link; the socket links marked so are per UPI/xGMI link).

LINK_TYPES = {
    "nvlink3": {
        "kind": "nvlink", "bandwidth_gbps": 25, "latency_us": 0.3,
        "source": "hardware.md §2a [S2]: NVLink3 (A100) = 12 links x 50 GB/s bidir, i.e. 25 GB/s per "
                  "direction per link (used with count 12 = 300 GB/s per direction per GPU). " + LAT_NVSWITCH},
    "nvlink4": {
        "kind": "nvlink", "bandwidth_gbps": 25, "latency_us": 0.3,
        "source": "hardware.md §2a [S2]: NVLink4 (H100/H200) = 18 links x 50 GB/s bidir, i.e. 25 GB/s "
                  "per direction per link (used with count 18 = 450 GB/s per direction per GPU). " + LAT_NVSWITCH},
    "nvlink5": {
        "kind": "nvlink", "bandwidth_gbps": 50, "latency_us": 0.3,
        "source": "hardware.md §2a [S2]: NVLink5 (B200) = 18 links x 100 GB/s bidir, i.e. 50 GB/s per "
                  "direction per link (used with count 18 = 900 GB/s per direction per GPU). " + LAT_NVSWITCH},
    "nvlink4-bridge": {
        "kind": "nvlink", "bandwidth_gbps": 25, "latency_us": 0.6,
        "source": "hardware.md §2a [S3][S8b]: H100 PCIe NVLink bridge joins exactly 2 GPUs, 600 GB/s "
                  "bidir = 12 links x 50 GB/s, i.e. 25 GB/s per direction per link (used with count 12 "
                  "= 300 GB/s per direction). " + LAT_BRIDGE},
    "pcie4x16": {
        "kind": "pcie", "bandwidth_gbps": 31.5, "latency_us": 0.2,
        "source": "hardware.md §2b [S2]: PCIe Gen4 x16 raw 31.5 GB/s per direction. " + LAT_PCIE
                  + " Measured on Gen5; Gen4 assumed equal."},
    "pcie5x16": {
        "kind": "pcie", "bandwidth_gbps": 63, "latency_us": 0.2,
        "source": "hardware.md §2b [S2]: PCIe Gen5 x16 raw 63 GB/s per direction. " + LAT_PCIE},
    "pcie6x16": {
        "kind": "pcie", "bandwidth_gbps": 121, "latency_us": 0.2,
        "source": "hardware.md §2b [S2]: PCIe Gen6 x16 raw 121 GB/s per direction (ConnectX-8 NIC "
                  "side). " + LAT_PCIE + " Measured on Gen5; Gen6 assumed equal."},
    "upi2-16gt": {
        "kind": "socket", "bandwidth_gbps": 32, "latency_us": 0.08,
        "source": "Per UPI link: Intel Sapphire Rapids UPI 2.0 runs 16 GT/s x 2 bytes per transfer = "
                  "32 GB/s per direction (github.com/intel/pcm/issues/516; Intel PCM itself reports "
                  "35.8 GB/s max per link, intel/pcm#550). SPR has up to 4 UPI links (Intel launch "
                  "material via wccftech, tier C), used with count 4; how many the DGX board wires is "
                  "not published (assumption). " + LAT_SOCKET_INTEL},
    "upi2-20gt": {
        "kind": "socket", "bandwidth_gbps": 40, "latency_us": 0.08,
        "source": "Per UPI link: Intel Emerald Rapids (Xeon 8570) UPI 2.0 up to 20 GT/s (tier C "
                  "summary of Intel specs) x 2 bytes per transfer = 40 GB/s per direction (same "
                  "per-transfer width as github.com/intel/pcm/issues/516); 4 links assumed like "
                  "Sapphire Rapids (weak). " + LAT_SOCKET_INTEL},
    "xgmi2-rome": {
        "kind": "socket", "bandwidth_gbps": 36, "latency_us": 0.08,
        "source": "Per xGMI link: AMD EPYC Rome socket-to-socket Infinity Fabric runs up to 18 GT/s on "
                  "x16 links, up to 4 links (5ch.net hardware thread, tier C): 18 GT/s x 16 lanes / 8 = "
                  "36 GB/s per direction (derived); count 4 assumed, the DGX A100 wiring is not "
                  "published (weak). " + LAT_SOCKET_AMD},
    "xgmi3-genoa": {
        "kind": "socket", "bandwidth_gbps": 96, "latency_us": 0.08,
        "source": "Whole socket-to-socket link: hardware.md §2c [S14]: AMD EPYC Genoa xGMI ~96 GB/s "
                  "(3 links); S14 does not say per direction or both, taken as per direction. "
                  + LAT_SOCKET_AMD},
    "xgmi3-turin": {
        "kind": "socket", "bandwidth_gbps": 192, "latency_us": 0.08,
        "source": "Whole socket-to-socket link: hardware.md §2c [S14]: AMD EPYC Turin xGMI 192-256 "
                  "GB/s; the lower end (3 links, the configuration S14 measured) is used. " + LAT_SOCKET_AMD},
    "ib-hdr-200": {
        "kind": "ib", "bandwidth_gbps": 25, "latency_us": 0.6,
        "source": "hardware.md §2d [S2]: InfiniBand HDR 4x port 200 Gb/s = 25 GB/s per direction "
                  "(ConnectX-6 HDR, the DGX A100 compute NIC). " + LAT_HDR},
    "ib-ndr-400": {
        "kind": "ib", "bandwidth_gbps": 50, "latency_us": 0.6,
        "source": "hardware.md §2d [S2]: InfiniBand NDR 4x port 400 Gb/s = 50 GB/s per direction "
                  "(ConnectX-7). " + LAT_NDR},
    "roce-200": {
        "kind": "roce", "bandwidth_gbps": 25, "latency_us": 0.6,
        "source": "200 Gb/s Ethernet (RoCE) port = 25 GB/s per direction (hardware.md §2d units). "
                  + LAT_ETH},
    "roce-400": {
        "kind": "roce", "bandwidth_gbps": 50, "latency_us": 0.6,
        "source": "400 Gb/s Ethernet (RoCE) port = 50 GB/s per direction (hardware.md §2d: ConnectX-7 "
                  "400G; Llama 3 trained on 400G RoCE [S29]). " + LAT_ETH},
    "roce-800": {
        "kind": "roce", "bandwidth_gbps": 100, "latency_us": 0.6,
        "source": "800 Gb/s Ethernet port = 100 GB/s per direction: ConnectX-8 SuperNIC, one 800 Gb/s "
                  "NIC per GPU in the MGX RTX PRO Server (hardware.md §2c-2d [S14]); Spectrum-X RDMA "
                  "fabric in NVIDIA's RTX PRO AI Factory RA [S31]. " + LAT_ETH},
}

# ---------------------------------------------------------------------------------------------
# Node layouts. GPUs are listed first, so gpu<i> gets local rank i.


def device(id_, kind, **extra):
    return {"id": id_, "kind": kind, **extra}


def link(a, b, type_, count=1):
    out = {"a": a, "b": b, "type": type_}
    if count != 1:
        out["count"] = count
    return out


def gpu_ids(n):
    return [f"gpu{i}" for i in range(n)]


def switched_node(*, gpus, gpus_per_switch, gpu_pcie, uplink_pcie, nic, nic_pcie, socket, socket_count,
                  nvswitch=None):
    """Two CPU sockets; PCIe switches, half under each socket, each holding `gpus_per_switch`
    GPUs and one NIC per GPU (NICs sit under the same switch as their GPUs, as in the DGX
    dumps). nvswitch = (link type, links per GPU, generation) adds one NVSwitch crossbar."""
    switches = gpus // gpus_per_switch
    devices = [device(g, "gpu") for g in gpu_ids(gpus)]
    links = []
    if nvswitch:
        nvl_type, nvl_count, generation = nvswitch
        devices.append(device("nvswitch", "nvswitch", generation=generation))
        links += [link(g, "nvswitch", nvl_type, nvl_count) for g in gpu_ids(gpus)]
    devices += [device("cpu0", "cpu"), device("cpu1", "cpu")]
    devices += [device(f"pcie-sw{s}", "pcie_switch") for s in range(switches)]
    devices += [device(f"nic{i}", "nic", link_type=nic) for i in range(gpus)]
    links.append(link("cpu0", "cpu1", socket, socket_count))
    for s in range(switches):
        sw = f"pcie-sw{s}"
        links.append(link(sw, f"cpu{s * 2 // switches}", uplink_pcie))
        for i in range(s * gpus_per_switch, (s + 1) * gpus_per_switch):
            links.append(link(f"gpu{i}", sw, gpu_pcie))
            links.append(link(f"nic{i}", sw, nic_pcie))
    return {"devices": devices, "links": links}


def dual_root_node(*, gpus_per_socket, gpu_pcie, socket, socket_count=1, nics_per_socket=0, nic=None,
                   nic_pcie=None, bridge=None):
    """Two CPU sockets, every GPU and NIC on a root port of its socket (no PCIe switch).
    bridge = (link type, lanes) joins GPUs 2k and 2k+1 with an NVLink bridge."""
    gpus = 2 * gpus_per_socket
    devices = [device(g, "gpu") for g in gpu_ids(gpus)]
    devices += [device("cpu0", "cpu"), device("cpu1", "cpu")]
    devices += [device(f"nic{i}", "nic", link_type=nic) for i in range(2 * nics_per_socket)]
    links = [link("cpu0", "cpu1", socket, socket_count)]
    links += [link(f"gpu{i}", f"cpu{i // gpus_per_socket}", gpu_pcie) for i in range(gpus)]
    links += [link(f"nic{i}", f"cpu{i // nics_per_socket}", nic_pcie) for i in range(2 * nics_per_socket)]
    if bridge:
        bridge_type, lanes = bridge
        links += [link(f"gpu{i}", f"gpu{i + 1}", bridge_type, lanes) for i in range(0, gpus, 2)]
    return {"devices": devices, "links": links}


def single_root_node(*, gpus, gpu_pcie):
    """One CPU, every GPU on one of its root ports; no NIC."""
    devices = [device(g, "gpu") for g in gpu_ids(gpus)] + [device("cpu0", "cpu")]
    links = [link(g, "cpu0", gpu_pcie) for g in gpu_ids(gpus)]
    return {"devices": devices, "links": links}


# Node layouts shared by several topologies.

def dgx_a100_node(nic):
    # reference/topo-dumps/dgx-a100-nv12-10nic.txt: GPU pairs share a PCIe switch with two NICs.
    return switched_node(gpus=8, gpus_per_switch=2, gpu_pcie="pcie4x16", uplink_pcie="pcie4x16",
                         nic=nic, nic_pcie="pcie4x16", socket="xgmi2-rome", socket_count=4,
                         nvswitch=("nvlink3", 12, 2))


def dgx_h100_node(nic):
    # reference/topo-dumps/hgx-h100-nv18-10nic.txt: each GPU has exactly one PIX NIC.
    return switched_node(gpus=8, gpus_per_switch=1, gpu_pcie="pcie5x16", uplink_pcie="pcie5x16",
                         nic=nic, nic_pcie="pcie5x16", socket="upi2-16gt", socket_count=4,
                         nvswitch=("nvlink4", 18, 3))


# ---------------------------------------------------------------------------------------------
# Fabrics.

def single_switch(link_type):
    return {
        "kind": "single_switch",
        "link_type": link_type,
        "source": "Idealized: every NIC of every node on one non-blocking switch; not a particular "
                  "cluster design (the -ib-hdr, -ib-ndr and -roce topologies model documented "
                  "fabrics). Port rate from the NIC link type.",
    }


FABRIC_SELENE = {
    "kind": "rail_optimized",
    "link_type": "ib-hdr-200",
    "nodes_per_leaf": 20,
    "oversubscription": 1.0,
    "source": "Narayanan et al. SC21 (arXiv:2104.04473) ran on Selene: DGX A100 nodes, 8x 200 Gb/s "
              "HDR InfiniBand HCAs each, three-level (leaf, spine, core) fat tree. Selene is a DGX "
              "SuperPOD, whose compute fabric is rail-optimized (rail i = NIC i of every node; "
              "hardware.md §2d [S31]). nodes_per_leaf 20 = one DGX SuperPOD A100 scalable unit "
              "(NVIDIA RA-09950-001; recalled, not re-verified in the retrieved text: weak); "
              "oversubscription 1.0: the SuperPOD fabric is non-blocking (leaf ports split evenly "
              "down/up; assumed from the RA design).",
}

FABRIC_SUPERPOD_H100 = {
    "kind": "rail_optimized",
    "link_type": "ib-ndr-400",
    "nodes_per_leaf": 32,
    "oversubscription": 1.0,
    "source": "hardware.md §2d [S2][S31]: DGX SuperPOD H100 scalable unit = 32 DGX H100 (256 GPUs) on "
              "a rail-optimized NDR InfiniBand fat tree; NVIDIA DGX SuperPOD RA component tables give "
              "as many leaf-spine cables as node-leaf cables (e.g. 4 SU: 1024 and 1024), i.e. "
              "non-blocking: oversubscription 1.0.",
}

FABRIC_LLAMA3_ROCE = {
    "kind": "fat_tree",
    "link_type": "roce-400",
    "nodes_per_leaf": 384,
    "oversubscription": 7.0,
    "source": "Llama 3 paper (Meta 2024, §3.3.1; [S29]) and glennklockwood.com 'Meta's H100 "
              "clusters': 24K-GPU 400G RoCE three-layer Clos; 2 servers (16 GPUs) per ToR, 192 racks "
              "= 3,072 GPUs = 384 nodes form a pod with full bisection bandwidth; pods are joined by "
              "the aggregation layer at 1:7 oversubscription. Modelled as a 2-level fat tree whose "
              "leaf is a whole non-blocking pod: nodes_per_leaf 384, oversubscription 7.0 (the "
              "ToR/cluster-switch layers inside a pod are folded into that leaf).",
}

FABRIC_MOSAIC_ROCE = {
    "kind": "fat_tree",
    "link_type": "roce-200",
    "nodes_per_leaf": 16,
    "oversubscription": 1.0,
    "source": "mosaicml/llm-foundry scripts/train/benchmarking/README.md: A100 80GB nodes with a "
              "1600 Gbps node-node RoCE interconnect (8x 200G, as in validation/calibration.csv). The "
              "fabric design is not published: a non-blocking fat tree is assumed (oversubscription "
              "1.0); nodes_per_leaf 16 is an assumption, and the published rows use <= 8 nodes, "
              "so they stay within one leaf whatever its size.",
}

# ---------------------------------------------------------------------------------------------
# The shipped topologies.

DGX_A100_DESC = (
    "8x A100-SXM4-80GB on one NVLink3 fabric: the 6 NVSwitch gen-2 chips are modelled as ONE "
    "non-blocking crossbar (12 NVLink3 links per GPU, NV12). Host side as in the DGX A100 nvidia-smi "
    "topo dump (reference/topo-dumps/dgx-a100-nv12-10nic.txt): four PCIe Gen4 switches, each holding "
    "a GPU pair and that pair's two compute NICs (PXB; the multi-bridge tree is simplified to one "
    "switch), two switches under each AMD EPYC 7742 socket (NUMA 3,1 | 7,5), sockets joined by xGMI; "
    "storage NICs (NIC8/9) not modelled. Host memory 2 TB (MLPerf Training v1.1 NVIDIA dgxa100 "
    "system description: 2x EPYC 7742, 2 TB, A100-SXM4-80GB, 8x ConnectX-6 HDR 200 Gb/s compute).")

DGX_H100_DESC = (
    "8x {gpu} on one NVLink4 fabric: the 4 NVSwitch gen-3 chips (hardware.md §2a) are "
    "modelled as ONE non-blocking crossbar (18 NVLink4 links per GPU, NV18). Each GPU shares a PCIe "
    "Gen5 switch with its own ConnectX-7 400G compute NIC (one PIX NIC per GPU in "
    "reference/topo-dumps/hgx-h100-nv18-10nic.txt); GPUs 0-3 under CPU socket 0, 4-7 under socket 1 "
    "(NUMA affinity in the dumps); 2x Xeon Platinum 8480C joined by UPI; storage/management NICs not "
    "modelled. Host memory 2 TB DDR5 (NVIDIA DGX BasePOD RA, core components: DGX H100/H200).")


# Peak host DRAM bandwidth per node = sockets x channels x MT/s x 8 bytes (bytes per transfer of a
# 64-bit channel); it times the offloaded optimizer step (docs/formats/topology.md). (GB/s, source).
HOST_BW_DGX_H100 = (563.2, (
    "2 sockets x 8 DDR5 channels x 4400 MT/s x 8 B = 563.2 GB/s. CPU 2x Xeon Platinum 8480C (Sapphire "
    "Rapids, 8 DDR5 channels per socket; MLPerf Inference v4.1 NVIDIA H200-SXM-141GBx8 system description, "
    "github.com/mlcommons/inference_results_v4.1 closed/NVIDIA/systems/H200-SXM-141GBx8_TRT_MaxQ.json: "
    "2x Intel Xeon Platinum 8480C, host memory 32x 64GB MTC40F2046S1RC48BA1 = DDR5-4800 RDIMMs). 32 DIMMs "
    "on 16 channels = 2 DIMMs per channel, which Sapphire Rapids runs at 4400 MT/s, not 4800 "
    "(infohub.delltechnologies.com 'Memory Bandwidth for Next-Gen PowerEdge Servers ... Sapphire Rapids': "
    "4800 MT/s 1DPC / 4400 MT/s 2DPC); DGX H100 shares the host (NVIDIA DGX BasePOD RA)."))
HOST_BW_DGX_A100 = (409.6, (
    "2 sockets x 8 DDR4 channels x 3200 MT/s x 8 B = 409.6 GB/s. CPU 2x AMD EPYC 7742 (MLPerf Training "
    "v1.1 NVIDIA dgxa100 system description); EPYC Rome has 8 DDR4-3200 channels per socket = 204.8 GB/s "
    "(tomshardware.com/uk/news/amd-confirms-12-ddr5-memory-channels-on-genoa, 2021-12; "
    "thomas-krenn.com wiki 'Optimization of AMD EPYC 7002 Rome and 7003 Milan working memory "
    "performance': 8 channels, 3200 MT/s). Weak: 2 TB on 16 channels means 2 DIMMs per channel, which "
    "EPYC 7003 platforms run at up to 2933 MT/s (infohub.delltechnologies.com 'DDR5 Memory Bandwidth for "
    "Next-Generation PowerEdge Servers Featuring 4th Gen AMD EPYC Processors'), i.e. 375.5 GB/s."))
HOST_BW_DGX_B200 = (563.2, (
    "2 sockets x 8 DDR5 channels x 4400 MT/s x 8 B = 563.2 GB/s. CPU 2x Xeon Platinum 8570 (Emerald Rapids, "
    "8 DDR5 channels per socket; DGX B200 user guide). Speed assumed as DGX H100: 2 TB on 32 DIMMs = 2 "
    "DIMMs per channel at 4400 MT/s (Intel 5th Gen Xeon: DDR5-5600 1DPC, 4400 2DPC); the DIMM population of "
    "DGX B200 is not published: weak (16x 128 GB at 5600 MT/s would give 716.8 GB/s)."))
HOST_BW_DUAL_TURIN_6400 = (1228.8, (
    "2 sockets x 12 DDR5 channels x 6400 MT/s x 8 B = 1228.8 GB/s: the 24x 96 GB DDR5-6400 of the dual "
    "AMD EPYC Turin build in [S14] (hardware/topology.md), one DIMM on each of Turin's 12 channels per "
    "socket."))
HOST_BW_ESC8000A_E12 = (614.4, (
    "2 sockets x 8 DDR5 channels x 4800 MT/s x 8 B = 614.4 GB/s: the 16 DIMMs of the MLPerf Inference "
    "ASUSTeK ESC8000A-E12 8x H100-PCIe system description on 2 AMD EPYC Genoa sockets (12 DDR5-4800 "
    "channels each; tomshardware.com/uk/news/amd-confirms-12-ddr5-memory-channels-on-genoa, 2021-12), one "
    "DIMM per channel on 8 of them. Weak: the same description's 2 TB host memory contradicts its 16x 64GB "
    "DIMM line; either way 16 DIMMs populate 8 channels per socket."))


def topologies():
    return [
        make("dgx-a100", "NVIDIA DGX A100 (640 GB): " + DGX_A100_DESC
             + " Single-node default with an idealized fabric; dgx-a100-ib-hdr is the Selene cluster.",
             gpu="a100-sxm4-80gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_A100,
             node=dgx_a100_node("ib-hdr-200"), fabric=single_switch("ib-hdr-200")),
        make("dgx-h100", "NVIDIA DGX H100: " + DGX_H100_DESC.format(gpu="H100 SXM5 80GB")
             + " Single-node default with an idealized fabric; see dgx-h100-ib-ndr and dgx-h100-roce.",
             gpu="h100-sxm5-80gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_H100,
             node=dgx_h100_node("ib-ndr-400"), fabric=single_switch("ib-ndr-400")),
        make("hgx-h200", "NVIDIA HGX/DGX H200: the DGX H100 layout with H200 SXM 141GB (NVIDIA DGX "
             "BasePOD RA: DGX H200 and H100 share the 2x Xeon 8480C, 4 NVSwitch chips, 8 single-port "
             "ConnectX-7 400G and 2 TB of host memory). " + DGX_H100_DESC.format(gpu="H200 SXM 141GB"),
             gpu="h200-sxm-141gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_H100,
             node=dgx_h100_node("ib-ndr-400"), fabric=single_switch("ib-ndr-400")),
        make("hgx-b200", "NVIDIA DGX B200 (HGX B200 baseboard): 8x B200 with 18 NVLink5 links each; "
             "the NVLink5 switch chips (DGX B200 user guide: 2 switches, 14.4 TB/s aggregate; NVSwitch "
             "gen 4 per ml-engineering [S2]) are modelled as ONE non-blocking crossbar. Host (DGX B200 "
             "user guide): 2x Xeon Platinum 8570 joined by UPI, 8x single-port ConnectX-7 400G compute "
             "NICs, 2 TB of memory (upgradable to 4 TB). PCIe tree assumed as in DGX H100 (each GPU "
             "and its NIC under one Gen5 switch, GPUs 0-3 on socket 0): not published for DGX B200.",
             gpu="b200-sxm-180gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_B200,
             node=switched_node(gpus=8, gpus_per_switch=1, gpu_pcie="pcie5x16", uplink_pcie="pcie5x16",
                                nic="ib-ndr-400", nic_pcie="pcie5x16", socket="upi2-20gt",
                                socket_count=4, nvswitch=("nvlink5", 18, 4)),
             fabric=single_switch("ib-ndr-400")),
        make("h100-pcie-8gpu-nvlink-pairs", "8x H100 PCIe 80GB, dual root: 4 GPUs on PCIe Gen5 x16 root "
             "ports of each AMD EPYC Genoa socket (hardware.md §2c dual-root direct attach "
             "[S14][S43]), sockets joined by xGMI. NVLink bridges pair GPUs 0-1, 2-3, 4-5, 6-7 (H100 "
             "PCIe bridges are 2-way only, 600 GB/s bidir; hardware.md §2a). 2 ConnectX-7 400G NICs "
             "per socket on root ports, one per GPU pair (NVIDIA's PCIe Optimized 2-8-5 server "
             "pattern: 2 CPUs, 8 GPUs, 5 NICs, of which 4 are modelled as compute NICs; assumption). "
             "Host memory 2 TB as in the MLPerf Inference ASUSTeK ESC8000A-E12 8x H100-PCIe system "
             "description (whose DIMM line, 16x 64GB, would give 1 TB: weak). Idealized single-switch fabric.",
             gpu="h100-pcie-80gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_ESC8000A_E12,
             node=dual_root_node(gpus_per_socket=4, gpu_pcie="pcie5x16", socket="xgmi3-genoa",
                                 nics_per_socket=2, nic="roce-400", nic_pcie="pcie5x16",
                                 bridge=("nvlink4-bridge", 12)),
             fabric=single_switch("roce-400")),
        make("h100-pcie-8gpu", "8x H100 PCIe 80GB without NVLink bridges, dual root: 4 GPUs on PCIe "
             "Gen5 x16 root ports of each AMD EPYC Genoa socket (hardware.md §2c [S14][S43]), sockets "
             "joined by xGMI; all GPU-to-GPU traffic is PCIe P2P. 2 ConnectX-7 400G NICs per socket "
             "on root ports (NVIDIA PCIe Optimized 2-8-5 pattern; assumption). Host memory 2 TB as in "
             "the MLPerf Inference ASUSTeK ESC8000A-E12 8x H100-PCIe system description (whose DIMM "
             "line, 16x 64GB, would give 1 TB: weak). Idealized single-switch fabric.",
             gpu="h100-pcie-80gb", nodes=1, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_ESC8000A_E12,
             node=dual_root_node(gpus_per_socket=4, gpu_pcie="pcie5x16", socket="xgmi3-genoa",
                                 nics_per_socket=2, nic="roce-400", nic_pcie="pcie5x16"),
             fabric=single_switch("roce-400")),
        make("rtx-pro-6000-ws-4gpu", "Workstation: 4x RTX PRO 6000 Blackwell Workstation Edition (no "
             "NVLink; P2P over PCIe) on PCIe Gen5 x16 root ports of one CPU (4-GPU direct attach, "
             "NODE in nvidia-smi; hardware.md §2c [S14]). No NIC: single node only (fabric null). "
             "Host memory 384 GB as in a public 4x RTX PRO 6000 single-EPYC build "
             "(autonomous-ai/autonomous-computer 4x-6000/README.md).",
             gpu="rtx-pro-6000-blackwell-ws", nodes=1, host_memory_gb=384,
             node=single_root_node(gpus=4, gpu_pcie="pcie5x16"), fabric=None),
        make("rtx-pro-6000-8gpu-dual-root", "8x RTX PRO 6000 Blackwell Workstation Edition, dual root: "
             "4 GPUs on PCIe Gen5 x16 root ports of each AMD EPYC Turin socket, sockets joined by "
             "xGMI (hardware.md §2c; the measured dual-Turin builds of [S14]). Those builds document "
             "no NIC: 2 ConnectX-7 400G NICs per socket on root ports are assumed so that the "
             "topology can scale out over an idealized fabric. Host memory 2304 GB = 24x 96 GB "
             "DDR5-6400 of the dual-Turin build in [S14] (hardware/topology.md).",
             gpu="rtx-pro-6000-blackwell-ws", nodes=1, host_memory_gb=2304,
             host_memory_bandwidth=HOST_BW_DUAL_TURIN_6400,
             node=dual_root_node(gpus_per_socket=4, gpu_pcie="pcie5x16", socket="xgmi3-turin",
                                 nics_per_socket=2, nic="roce-400", nic_pcie="pcie5x16"),
             fabric=single_switch("roce-400")),
        make("rtx-pro-6000-server-8gpu", "NVIDIA MGX RTX PRO Server: 8x RTX PRO 6000 Blackwell Server "
             "Edition; 4 PCIe switches, each holding 2 GPUs (Gen5 x16) and 2 ConnectX-8 SuperNICs, "
             "one 800 Gb/s NIC per GPU on PCIe Gen6 (hardware.md §2c [S14]; the CX-8's built-in "
             "switch is modelled as the PCIe switch); 2 switches per CPU socket on Gen5 x16 uplinks "
             "(assumed). The CPU platform varies by OEM: dual AMD EPYC Turin joined by xGMI is "
             "assumed. Host memory 2 TB assumed (no datasheet found). Idealized single-switch fabric "
             "(NVIDIA's RTX PRO AI Factory RA uses a rail-optimized Spectrum-X leaf-spine [S31]).",
             gpu="rtx-pro-6000-blackwell-server", nodes=1, host_memory_gb=2048,
             node=switched_node(gpus=8, gpus_per_switch=2, gpu_pcie="pcie5x16", uplink_pcie="pcie5x16",
                                nic="roce-800", nic_pcie="pcie6x16", socket="xgmi3-turin",
                                socket_count=1),
             fabric=single_switch("roce-800")),
        make("l40s-8gpu", "8x L40S (PCIe Gen4 x16, no NVLink), dual root: 4 GPUs on root ports of each "
             "AMD EPYC Genoa socket, sockets joined by xGMI (hardware.md §2c dual-root direct attach "
             "[S14][S43]). The real 4x L40S dump reference/topo-dumps/pcie-4x-l40s-2nic.txt shows "
             "this pattern: GPUs on root ports, NODE within a socket, SYS across, 96-core sockets. "
             "2 ConnectX-7 400G NICs per socket on root ports, one per GPU pair (NVIDIA PCIe "
             "Optimized 2-8-5 pattern; assumption). Host memory 1 TB assumed (no datasheet for a "
             "generic server). Idealized single-switch fabric.",
             gpu="l40s", nodes=1, host_memory_gb=1024,
             node=dual_root_node(gpus_per_socket=4, gpu_pcie="pcie4x16", socket="xgmi3-genoa",
                                 nics_per_socket=2, nic="roce-400", nic_pcie="pcie5x16"),
             fabric=single_switch("roce-400")),
        make("dgx-a100-ib-hdr", "Selene-style cluster of DGX A100 (640 GB) nodes, the system of "
             "Narayanan et al. SC21: rail-optimized HDR 200 Gb/s InfiniBand, 8 NICs per node; "
             "default 8 nodes. Node: " + DGX_A100_DESC,
             gpu="a100-sxm4-80gb", nodes=8, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_A100,
             node=dgx_a100_node("ib-hdr-200"), fabric=FABRIC_SELENE),
        make("dgx-h100-ib-ndr", "DGX SuperPOD H100: DGX H100 nodes on a rail-optimized NDR 400 Gb/s "
             "InfiniBand fabric, 8 NICs per node, 32 nodes per scalable unit; default one SU (32 "
             "nodes). Node: " + DGX_H100_DESC.format(gpu="H100 SXM5 80GB"),
             gpu="h100-sxm5-80gb", nodes=32, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_H100,
             node=dgx_h100_node("ib-ndr-400"), fabric=FABRIC_SUPERPOD_H100),
        make("dgx-h100-roce", "Llama 3 style RoCE cluster: 8-GPU H100 nodes (modelled as DGX H100; "
             "Meta's Grand Teton nodes are HGX H100 with one 400G NIC per GPU, per glennklockwood.com "
             "'Meta's H100 clusters') on a 400 Gb/s RoCE Clos; default 2048 nodes = the 16K GPUs of "
             "the Llama 3 405B run. Node: " + DGX_H100_DESC.format(gpu="H100 SXM5 80GB"),
             gpu="h100-sxm5-80gb", nodes=2048, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_H100,
             node=dgx_h100_node("roce-400"), fabric=FABRIC_LLAMA3_ROCE),
        make("a100-roce-200", "MosaicML llm-foundry A100 80GB benchmark cluster: 8x A100 nodes with "
             "NVSwitch and 1600 Gb/s per node of RoCE (8x 200G), modelled as DGX A100 nodes with RoCE "
             "NICs (host memory 2 TB assumed equal to DGX A100 640 GB); default 8 nodes (the "
             "benchmark's largest runs are 64 GPUs). Node: " + DGX_A100_DESC,
             gpu="a100-sxm4-80gb", nodes=8, host_memory_gb=2048, host_memory_bandwidth=HOST_BW_DGX_A100,
             node=dgx_a100_node("roce-200"), fabric=FABRIC_MOSAIC_ROCE),
    ]


def make(id_, description, *, gpu, nodes, host_memory_gb, node, fabric, host_memory_bandwidth=None):
    used = {l["type"] for l in node["links"]}
    used |= {d["link_type"] for d in node["devices"] if d["kind"] == "nic"}
    if fabric:
        used.add(fabric["link_type"])
    link_types = {name: spec for name, spec in LINK_TYPES.items() if name in used}
    missing = used - link_types.keys()
    if missing:
        raise SystemExit(f"{id_}: undefined link types {sorted(missing)}")
    out = {
        "id": id_,
        "description": description,
        "gpu": gpu,
        "nodes": nodes,
        "host_memory_gb": host_memory_gb,
    }
    if host_memory_bandwidth:
        out["host_memory_bandwidth_gbps"], out["host_memory_bandwidth_source"] = host_memory_bandwidth
    out.update({"link_types": link_types, "node": node, "fabric": fabric})
    return out


def render(topology):
    return to_json(topology) + "\n"


def to_json(value, indent=0, width=100):
    """json.dumps with a 2-space indent, except that an object or list holding only scalars is
    written on one line when that line fits in `width` (devices and links read one per line)."""
    flat = json.dumps(value, ensure_ascii=False)
    scalars_only = isinstance(value, (dict, list)) and not any(
        isinstance(v, (dict, list)) for v in (value.values() if isinstance(value, dict) else value))
    if not isinstance(value, (dict, list)) or (scalars_only and indent + len(flat) <= width):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {to_json(v, indent + 2, width)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if not value:
        return "[]"
    items = [pad + to_json(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 if any file is missing or differs")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: topologies/)")
    args = parser.parse_args()

    stale = []
    for topology in topologies():
        path = args.out / f"{topology['id']}.json"
        text = render(topology)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if stale:
        for path in stale:
            print(f"out of date: {path} (run tools/gen_topologies.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
