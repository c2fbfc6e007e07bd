#!/usr/bin/env python3
"""Extra topologies for published-runs rows (small GPU counts, DGX-2, generic PCIe boxes).

Uses the layout helpers, link types and renderer of tools/gen_topologies.py so the files are
formatted exactly like the shipped ones. Kept beside tools/gen_topologies.py; could be folded into it
(append LINK_TYPES_EXTRA to LINK_TYPES and extra_topologies() to topologies()).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import gen_topologies as g  # noqa: E402

LINK_TYPES_EXTRA = {
    "nvlink2": {
        "kind": "nvlink", "bandwidth_gbps": 25, "latency_us": 0.3,
        "source": "NVLink2 (V100 SXM3): 6 links x 25 GB/s per direction = 150 GB/s per direction per GPU "
                  "(used with count 6); DGX-2 quotes 300 GB/s GPU-to-GPU bidirectional through NVSwitch "
                  "(pcper.com 'NVIDIA Announces DGX-2 with 16 GV100s & 8 100Gb NICs', 2018-03); link count "
                  "as in topologies/gpus/v100-sxm3-32gb.json (nvlink source). " + g.LAT_NVSWITCH},
    "pcie3x16": {
        "kind": "pcie", "bandwidth_gbps": 15.75, "latency_us": 0.2,
        "source": "PCIe Gen3 x16 raw 8 GT/s x 16 lanes x 128/130 / 8 = 15.75 GB/s per direction (derived; "
                  "same figure as the host_link of topologies/gpus/v100-sxm3-32gb.json). " + g.LAT_PCIE
                  + " Measured on Gen5; Gen3 assumed equal."},
    "upi-10.4gt": {
        "kind": "socket", "bandwidth_gbps": 20.8, "latency_us": 0.08,
        "source": "Per UPI link: Intel Skylake-SP (1st-gen Xeon Scalable) UPI at 10.4 GT/s = ~20.8 GB/s per "
                  "direction per link (Wikipedia 'Intel Ultra Path Interconnect', citing Intel's 'Xeon "
                  "Processor Scalable Family Technical Overview', 2017; tier C). 2 links between the two "
                  "sockets assumed (Platinum SKUs have up to 3; the DGX-2 wiring is not published: weak). "
                  + g.LAT_SOCKET_INTEL},
    "ib-edr-100": {
        "kind": "ib", "bandwidth_gbps": 12.5, "latency_us": 0.5,
        "source": "InfiniBand EDR 4x port 100 Gb/s = 12.5 GB/s per direction; DGX-2 has eight EDR "
                  "InfiniBand NICs, 1600 Gb/s bidirectional per node (pcper.com 2018-03). Latency: 0.5 us "
                  "per hop = EDR latency listed in ml-engineering network/README [S2] (hardware.md §2d)."},
}


def dgx2_node():
    """16 GPUs on one NVSwitch crossbar; 8 PCIe Gen3 switches each holding a GPU pair and that pair's
    EDR NIC, 4 switches under each socket."""
    devices = [g.device(x, "gpu") for x in g.gpu_ids(16)]
    devices.append(g.device("nvswitch", "nvswitch", generation=1))
    devices += [g.device("cpu0", "cpu"), g.device("cpu1", "cpu")]
    devices += [g.device(f"pcie-sw{s}", "pcie_switch") for s in range(8)]
    devices += [g.device(f"nic{s}", "nic", link_type="ib-edr-100") for s in range(8)]
    links = [g.link(x, "nvswitch", "nvlink2", 6) for x in g.gpu_ids(16)]
    links.append(g.link("cpu0", "cpu1", "upi-10.4gt", 2))
    for s in range(8):
        sw = f"pcie-sw{s}"
        links.append(g.link(sw, f"cpu{s // 4}", "pcie3x16"))
        links.append(g.link(f"gpu{2 * s}", sw, "pcie3x16"))
        links.append(g.link(f"gpu{2 * s + 1}", sw, "pcie3x16"))
        links.append(g.link(f"nic{s}", sw, "pcie3x16"))
    return {"devices": devices, "links": links}


def slice_node(*, gpus, gpus_per_switch, pcie, nic, nvswitch):
    """The first `gpus` GPUs of an 8-GPU HGX board: their NVSwitch links (when there is a peer),
    their PCIe switches and NICs, under CPU socket 0 only."""
    gpus_per_switch = min(gpus_per_switch, gpus)
    devices = [g.device(x, "gpu") for x in g.gpu_ids(gpus)]
    links = []
    if gpus > 1:
        nvl_type, nvl_count, generation = nvswitch
        devices.append(g.device("nvswitch", "nvswitch", generation=generation))
        links += [g.link(x, "nvswitch", nvl_type, nvl_count) for x in g.gpu_ids(gpus)]
    switches = gpus // gpus_per_switch
    devices.append(g.device("cpu0", "cpu"))
    devices += [g.device(f"pcie-sw{s}", "pcie_switch") for s in range(switches)]
    devices += [g.device(f"nic{i}", "nic", link_type=nic) for i in range(gpus)]
    for s in range(switches):
        sw = f"pcie-sw{s}"
        links.append(g.link(sw, "cpu0", pcie))
        for i in range(s * gpus_per_switch, (s + 1) * gpus_per_switch):
            links.append(g.link(f"gpu{i}", sw, pcie))
            links.append(g.link(f"nic{i}", sw, pcie))
    return {"devices": devices, "links": links}


SLICE_NOTE = (
    "a partial allocation of an 8-GPU {box} board (a cloud instance or a job given {n} of its GPUs): "
    "the board's {which} with {links}, its PCIe switch and compute NIC as in {box}, all "
    "under CPU socket 0 (GPUs 0-3 sit on socket 0 in {box}; the other socket is not modelled). Host "
    "memory {mem} GB = the box's {box_mem} GB shared evenly per GPU (assumption: a VM slice gets its "
    "share). Idealized single-switch fabric on the box's NIC type so that slices can scale out.")

SLICES = {
    "a100": dict(name="A100 SXM4", box="dgx-a100", gpu="a100-sxm4-80gb", gpus_per_switch=2,
                 pcie="pcie4x16", nic="ib-hdr-200", nvswitch=("nvlink3", 12, 2),
                 links="12 NVLink3 links to the NVSwitch gen-2 crossbar"),
    "h100": dict(name="H100 SXM5", box="dgx-h100", gpu="h100-sxm5-80gb", gpus_per_switch=1,
                 pcie="pcie5x16", nic="ib-ndr-400", nvswitch=("nvlink4", 18, 3),
                 links="18 NVLink4 links to the NVSwitch gen-3 crossbar"),
    "b200": dict(name="B200", box="hgx-b200", gpu="b200-sxm-180gb", gpus_per_switch=1,
                 pcie="pcie5x16", nic="ib-ndr-400", nvswitch=("nvlink5", 18, 4),
                 links="18 NVLink5 links to the NVSwitch gen-4 crossbar"),
}


HOST_BW_DGX2 = (255.9, (
    "2 sockets x 6 DDR4 channels x 2666 MT/s x 8 B = 255.9 GB/s. CPU 2x Intel Xeon Platinum 8168 (Skylake-SP, "
    "24 cores, 2.7 GHz; NVIDIA DGX-2 datasheet), 6 DDR4-2666 channels per socket; anandtech.com 'Intel "
    "Skylake-EP vs AMD EPYC 7000' (2017), memory subsystem page: a dual Skylake-SP at DDR4-2666 'has "
    "access to 256 GB per second (2.66 GT/s x 8 bytes per channel x 6 channels x 2 sockets)'. 1.5 TB = "
    "24x 64 GB, 2 DIMMs per channel, which Skylake-SP runs at full 2666 MT/s."))

# A slice gets the box's host bandwidth shared evenly per GPU, like its host memory.
SLICE_HOST_BW = {"a100": g.HOST_BW_DGX_A100, "h100": g.HOST_BW_DGX_H100, "b200": g.HOST_BW_DGX_B200}


def slice_host_bandwidth(key, n):
    box_gbps, box_source = SLICE_HOST_BW[key]
    gbps = round(box_gbps * n / 8, 3)
    return gbps, (f"{box_gbps} GB/s of the {SLICES[key]['box']} box x {n}/8 GPUs (assumption: a slice gets "
                  f"its share, as with host memory). Box: {box_source}")


def slice_topology(key, n):
    s = SLICES[key]
    links = s["links"] if n > 1 else "no NVLink peer (one GPU: the NVSwitch is not modelled)"
    which = f"local GPUs 0-{n - 1}, each" if n > 1 else "local GPU 0,"
    note = SLICE_NOTE.format(n=n, which=which, links=links, box=s["box"], mem=256 * n, box_mem=2048)
    return g.make(f"{key}-sxm-{n}gpu", f"{n}x {s['name']}: " + note,
                  gpu=s["gpu"], nodes=1, host_memory_gb=256 * n,
                  host_memory_bandwidth=slice_host_bandwidth(key, n),
                  node=slice_node(gpus=n, gpus_per_switch=s["gpus_per_switch"], pcie=s["pcie"],
                                  nic=s["nic"], nvswitch=s["nvswitch"]),
                  fabric=g.single_switch(s["nic"]))


def pcie_small(gen, n, gpu):
    pcie = f"pcie{gen}x16"
    return g.make(
        f"pcie{gen}-{n}gpu",
        f"Generic workstation: {n}x PCIe Gen{gen} x16 card{'s' if n > 1 else ''} (no NVLink; P2P, where the "
        f"card allows it, over PCIe) on root ports of one CPU, as in rtx-pro-6000-ws-4gpu (hardware.md §2c "
        f"[S14]). Not a particular machine: scenarios set cluster.gpu (default {gpu}). No NIC: single node "
        f"only (fabric null). Host memory {128 * n} GB assumed (128 GB per GPU; no source).",
        gpu=gpu, nodes=1, host_memory_gb=128 * n,
        node=g.single_root_node(gpus=n, gpu_pcie=pcie), fabric=None)


def pcie_8gpu(gen, gpu):
    pcie = f"pcie{gen}x16"
    return g.make(
        f"pcie{gen}-8gpu",
        f"Generic 8-GPU PCIe Gen{gen} server (no NVLink), dual root: 4 GPUs on PCIe Gen{gen} x16 root ports "
        "of each AMD EPYC Genoa socket, sockets joined by xGMI (hardware.md §2c dual-root direct attach "
        "[S14][S43]); the same layout as l40s-8gpu and h100-pcie-8gpu. 2 ConnectX-7 400G NICs per socket "
        "on root ports (NVIDIA PCIe Optimized 2-8-5 pattern; assumption). Not a particular machine: "
        f"scenarios set cluster.gpu (default {gpu}). Host memory 1 TB assumed (as l40s-8gpu; no source). "
        "Idealized single-switch fabric.",
        gpu=gpu, nodes=1, host_memory_gb=1024,
        node=g.dual_root_node(gpus_per_socket=4, gpu_pcie=pcie, socket="xgmi3-genoa", nics_per_socket=2,
                              nic="roce-400", nic_pcie="pcie5x16"),
        fabric=g.single_switch("roce-400"))


def extra_topologies():
    out = [g.make(
        "dgx-2", "NVIDIA DGX-2: 16x Tesla V100 SXM3 32GB on two baseboards joined by 12 NVSwitch gen-1 "
        "chips (datacenterdynamics.com 'Two petaflops in a box', 2018), modelled as ONE non-blocking "
        "crossbar (6 NVLink2 links per GPU, NV6 all-to-all in nvidia-smi). Host side from a DGX-2 "
        "`nvidia-smi topo -m` (NVIDIA/nccl-tests issue #78): each GPU pair shares a PCIe switch with one "
        "compute NIC (PIX), pairs of pairs meet at an upstream switch (PXB; simplified away here), GPUs "
        "0-7 and 4 NICs on CPU socket 0, the rest on socket 1; PCIe Gen3 throughout; 2 storage NICs not "
        "modelled. 2x Xeon Platinum (Skylake-SP, 24 cores per socket in that dump) joined by UPI. 8x "
        "EDR 100 Gb/s InfiniBand NICs and 1.5 TB of host memory (pcper.com 2018-03; taken as 1536 GB). "
        "Idealized single-switch EDR fabric (the clusters of the published rows are not documented).",
        gpu="v100-sxm3-32gb", nodes=1, host_memory_gb=1536, node=dgx2_node(),
        host_memory_bandwidth=HOST_BW_DGX2,
        fabric=g.single_switch("ib-edr-100"))]
    for key in ("a100", "h100", "b200"):
        out += [slice_topology(key, n) for n in (1, 2, 4)]
    for gen, gpu in ((4, "rtx-4090"), (5, "rtx-5090")):
        out += [pcie_small(gen, n, gpu) for n in (1, 2, 4)]
        out.append(pcie_8gpu(gen, gpu))
    return out


def main():
    g.LINK_TYPES.update(LINK_TYPES_EXTRA)
    check = "--check" in sys.argv
    stale = 0
    for t in extra_topologies():
        path = g.OUT_DIR / f"{t['id']}.json"
        text = g.render(t)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"out of date: {path}", file=sys.stderr)
                stale += 1
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
