#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn the "@@bench" lines of a make bench guest log into its table.

  bench_report.py LOG OUTDIR [--host-date DATE]

Writes OUTDIR/bench.txt (for people) and OUTDIR/bench.json (for tools)
and prints the text. Every row is a figure of the virtio-msg loopback
bus, (rows "AMP: ...") of the AMP bus or (rows "FF-A notif/poll: ...")
of the FF-A bus through its simulated partition, with FF-A notifications
or polled, the same measurement on a
reference in the same guest, and their ratio (figure / reference); the
AMP bus's own counters (messages through its queues per second,
doorbells per message) have no reference. A row whose figure or
reference could not be measured says "n/a" and why. Figures only: nothing here passes or
fails, and the exit status is 0 whenever the log could be read.

A second table has what the loopback bus's device side did per
operation (a read, a block I/O, 64 KiB of a TCP stream, a transaction)
over the same windows: the backend's system calls (where the guest
kernel could count them), sleeps, CPU time in user and system mode, and
the device's kicks and used events; then where the guest kernel spent
its ticks over each of those windows (/proc/profile: idle, modules and
the core kernel's busiest functions).
"""

import argparse
import json
import os
import re
import sys
import time

# (row id, what, figure id, reference id, reference name, key, unit,
#  better): figure and reference are "@@bench" ids of the guest log.
BLK = [
    ("randread_4k_qd1", "blk 4 KiB random read, QD1", "iops", "IOPS"),
    ("randread_4k_qd32", "blk 4 KiB random read, QD32", "iops", "IOPS"),
    ("randwrite_4k_qd1", "blk 4 KiB random write, QD1", "iops", "IOPS"),
    ("randwrite_4k_qd32", "blk 4 KiB random write, QD32", "iops", "IOPS"),
    ("seqread_128k_qd1", "blk 128 KiB sequential read, QD1", "mb_s",
     "MB/s"),
]
BLK_REFS = [
    ("nullb", "null_blk, memory-backed"),
    ("brd", "brd"),
    ("nbd", "NBD, memory-backed server process"),
]


def row_specs():
    rows = [
        ("rtt_p50", "request round trip p50 (64 B hwrng read)", "rtt_vmsg",
         "rtt_pipe", "pipe ping-pong", "p50_us", "us", "lower"),
        ("rtt_p99", "request round trip p99", "rtt_vmsg", "rtt_pipe",
         "pipe ping-pong", "p99_us", "us", "lower"),
        ("rtt_avg", "request round trip average", "rtt_vmsg", "rtt_pipe",
         "pipe ping-pong", "avg_us", "us", "lower"),
    ]
    for wid, what, key, unit in BLK:
        for ref, name in BLK_REFS:
            rows.append(("blk_%s_%s" % (wid, ref), what,
                         "blk_%s_vmsg" % wid, "blk_%s_%s" % (wid, ref),
                         name, key, unit, "higher"))
    rows += [
        ("net_stream", "net TCP throughput, 1 stream", "net_stream_vmsg",
         "net_stream_veth", "veth pair", "mbit_s", "Mbit/s", "higher"),
        ("net_rr", "net TCP request/response (64 B)", "net_rr_vmsg",
         "net_rr_veth", "veth pair", "tps", "trans/s", "higher"),
        ("net_rr_p50", "net TCP request/response p50", "net_rr_vmsg",
         "net_rr_veth", "veth pair", "p50_us", "us", "lower"),
    ]
    rows += [
        ("amp_ping_avg", "AMP: bus PING round trip through the queues",
         "amp_ping", "rtt_pipe", "pipe ping-pong", "avg_us", "us", "lower"),
        ("amp_ping_rate", "AMP: messages/s through the queues, PINGs back to back",
         "amp_ping", None, None, "msgs_s", "msg/s", "higher"),
        ("amp_rtt_p50", "AMP: request round trip p50 (64 B hwrng read)",
         "rtt_amp", "rtt_pipe", "pipe ping-pong", "p50_us", "us", "lower"),
        ("amp_rtt_p99", "AMP: request round trip p99", "rtt_amp",
         "rtt_pipe", "pipe ping-pong", "p99_us", "us", "lower"),
    ]
    for wid, what, key, unit in BLK:
        rows.append(("amp_blk_%s" % wid, "AMP: " + what,
                     "blk_%s_amp" % wid, "blk_%s_nullb" % wid,
                     "null_blk, memory-backed", key, unit, "higher"))
    rows += [
        ("amp_blk_seqread_vs_memcpy",
         "AMP: blk 128 KiB sequential read against its copy ceiling",
         "blk_seqread_128k_qd1_amp", "memcpy_region_128k",
         "memcpy of 128 KiB out of the region", "mb_s", "MB/s", "higher"),
        ("amp_net_stream", "AMP: net TCP throughput, 1 stream",
         "net_stream_amp", "net_stream_veth", "veth pair", "mbit_s",
         "Mbit/s", "higher"),
        ("amp_net_rr", "AMP: net TCP request/response (64 B)", "net_rr_amp",
         "net_rr_veth", "veth pair", "tps", "trans/s", "higher"),
        ("memcpy_region_128k", "memcpy of 128 KiB out of the shared region",
         "memcpy_region_128k", "memcpy_128k", "memcpy RAM to RAM", "mb_s",
         "MB/s", "higher"),
        ("memcpy_region_4k", "memcpy of 4 KiB out of the shared region",
         "memcpy_region_4k", "memcpy_4k", "memcpy RAM to RAM", "mb_s",
         "MB/s", "higher"),
    ]
    for mode in FFA_MODES:
        tag = "FF-A %s: " % mode
        rows += [
            ("ffa_%s_rtt_p50" % mode,
             tag + "request round trip p50 (64 B hwrng read)",
             "rtt_ffa_" + mode, "rtt_pipe", "pipe ping-pong", "p50_us", "us",
             "lower"),
            ("ffa_%s_rtt_p99" % mode, tag + "request round trip p99",
             "rtt_ffa_" + mode, "rtt_pipe", "pipe ping-pong", "p99_us", "us",
             "lower"),
        ]
        for wid, what, key, unit in BLK:
            if wid in FFA_BLK:
                rows.append(("ffa_%s_blk_%s" % (mode, wid), tag + what,
                             "blk_%s_ffa_%s" % (wid, mode),
                             "blk_%s_nullb" % wid, "null_blk, memory-backed",
                             key, unit, "higher"))
        rows += [
            ("ffa_%s_net_stream" % mode, tag + "net TCP throughput, 1 stream",
             "net_stream_ffa_" + mode, "net_stream_veth", "veth pair",
             "mbit_s", "Mbit/s", "higher"),
            ("ffa_%s_net_rr" % mode, tag + "net TCP request/response (64 B)",
             "net_rr_ffa_" + mode, "net_rr_veth", "veth pair", "tps",
             "trans/s", "higher"),
        ]
    return rows


# The FF-A bus's event modes, and the blk loads measured over it.
FFA_MODES = ("notif", "poll")
FFA_BLK = ("randread_4k_qd1", "seqread_128k_qd1")

# The AMP bus's counters around its windows: (figure id, during what).
AMP_WINDOWS = [
    ("rtt_amp", "64 B hwrng reads"),
    ("blk_randread_4k_qd1_amp", "blk 4 KiB random read, QD1"),
    ("blk_randread_4k_qd32_amp", "blk 4 KiB random read, QD32"),
    ("blk_seqread_128k_qd1_amp", "blk 128 KiB sequential read"),
    ("net_stream_amp", "net TCP stream"),
]
AMP_COUNTERS = [
    ("amp_msgs_s", "messages/s through the queues", "msg/s", "higher"),
    ("amp_doorbells_per_msg", "doorbells per message", "", "lower"),
    ("amp_doorbells_per_event",
     "doorbells per message or vring notification", "", "lower"),
]


# The loopback windows whose cost bench-guest.sh measured: (figure id,
# what, operations key, operation size in bytes or 1, operation).
COST_WINDOWS = [
    ("rtt_vmsg", "request round trip (64 B hwrng read)", "samples", 1,
     "read"),
]
COST_WINDOWS += [("blk_%s_vmsg" % wid, what, "ios", 1, "I/O")
                 for wid, what, key, unit in BLK]
COST_WINDOWS += [
    ("net_stream_vmsg", "net TCP throughput, 1 stream", "bytes", 65536,
     "64 KiB"),
    ("net_rr_vmsg", "net TCP request/response (64 B)", "transactions", 1,
     "transaction"),
]
# (key in the window's line, column, scale to the column's unit).
COST_COUNTERS = [
    ("be_syscalls", "syscalls", 1),
    ("be_sleeps", "sleeps", 1),
    ("be_user_ms", "user_us", 1000),
    ("be_sys_ms", "sys_us", 1000),
    ("kicks", "kicks", 1),
    ("used_events", "used", 1),
]


def parse(path):
    """{id: {"na": why} or {key: value}} from the "@@bench" lines."""
    found = {}
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    for raw in text.splitlines():
        at = raw.find("@@bench ")
        if at < 0:
            continue
        words = raw[at:].rstrip("\r").split()[1:]
        if not words:
            continue
        bid, rest = words[0], words[1:]
        entry = found.setdefault(bid, {})
        if rest and rest[0] == "na":
            entry.setdefault("na", " ".join(rest[1:]))
            continue
        for w in rest:
            k, sep, v = w.partition("=")
            if sep:
                entry[k] = v
    return found


def number(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def value(found, bid, key):
    """(number, None) or (None, why it is not there)."""
    entry = found.get(bid)
    if entry is None:
        return None, "not measured (guest stopped early?)"
    if "na" in entry:
        return None, entry["na"]
    v = number(entry.get(key))
    if v is None:
        return None, "no %s in the output" % key
    return v, None


def fmt(v, unit):
    if v >= 100:
        return "%.0f %s" % (v, unit)
    return "%.3g %s" % (v, unit)


def build(found):
    rows = []
    probes = [("probe_" + drv, drv, "loopback")
              for drv in ("rng", "blk", "net")]
    probes += [("probe_ffa_%s_%s" % (mode, drv), drv, "ffa_" + mode)
               for mode in FFA_MODES for drv in ("rng", "blk", "net")]
    for pid, drv, bus in probes:
        e = found.get(pid, {})
        for key, what in (("probe_round_trips", "round trips"),
                          ("messages", "messages")):
            v = number(e.get(key))
            rows.append({
                "id": "%s_%s" % (pid, key), "bus": e.get("bus"),
                "what": "probe %s (%s bus): %s" % (
                    drv, e.get("bus", bus), what),
                "figure": v, "unit": "",
                "figure_na": None if v is not None else
                e.get("na", "not measured"),
                "reference": None, "reference_name": None,
                "reference_na": "no reference", "ratio": None,
                "better": "lower"})
    for rid, what, fid, refid, rname, key, unit, better in row_specs():
        fv, fwhy = value(found, fid, key)
        rv, rwhy = value(found, refid, key) if refid else (None,
                                                           "no reference")
        rows.append({
            "id": rid, "what": what, "figure": fv, "figure_na": fwhy,
            "unit": unit, "reference_name": rname, "reference": rv,
            "reference_na": rwhy, "better": better,
            "ratio": fv / rv if fv is not None and rv else None})
    for key, what, unit, better in AMP_COUNTERS:
        for fid, during in AMP_WINDOWS:
            v, why = value(found, fid, key)
            rows.append({
                "id": "%s_%s" % (key, fid), "bus": "amp",
                "what": "AMP: %s, during %s" % (what, during),
                "figure": v, "unit": unit, "figure_na": why,
                "reference": None, "reference_name": None,
                "reference_na": "no reference", "ratio": None,
                "better": better})
    return rows


def cost_build(found):
    """Per loopback window: what the backend and the device did per
    operation, None where it was not counted."""
    rows = []
    for fid, what, ops, opsize, op in COST_WINDOWS:
        e = found.get(fid, {})
        n = number(e.get(ops))
        row = {"id": fid, "what": what, "operation": op,
               "operations": n, "na": e.get("na")}
        for key, col, scale in COST_COUNTERS:
            c = number(e.get(key))
            row[col] = (c * scale * opsize / n
                        if c is not None and n else None)
        rows.append(row)
    return rows


def cost_text(meta, rows):
    rows = [r for r in rows
            if any(r[c[1]] is not None for c in COST_COUNTERS)]
    if not rows:
        return ""
    out = ["",
           "cost per operation, loopback bus: what the device side (its "
           "backend) and the",
           "device did for each read, I/O, 64 KiB of stream or "
           "transaction, over the windows",
           "above: the backend's system calls, sleeps (voluntary "
           "context switches), CPU",
           "time in us in user and in system mode (ticks of 10 ms: "
           "coarse on short windows),",
           "the device's kicks (driver to device) and used events "
           "(device to driver)"]
    if meta.get("cost_syscalls") != "yes":
        out.append("syscalls: not counted, this kernel has no syscall "
                   "histograms (CONFIG_HIST_TRIGGERS)")
    out.append("")
    lines = [("what", "per") + tuple(c[1] for c in COST_COUNTERS)]
    for r in rows:
        lines.append((r["what"], r["operation"]) + tuple(
            ("%.0f" if r[c[1]] >= 1000 else "%.3g") % r[c[1]]
            if r[c[1]] is not None else "-" for c in COST_COUNTERS))
    widths = [max(len(x[i]) for x in lines) for i in range(len(lines[0]))]
    for x in lines:
        out.append("  ".join("%-*s" % (w, c)
                             for w, c in zip(widths, x)).rstrip())
    return "\n".join(out) + "\n"


# Where a CPU with nothing to run spends its ticks.
IDLE_RE = re.compile(r"idle|halt|mwait|cpuidle|poll_idle")


def kprof(raw):
    """(total ticks, [(function, ticks)]) from a window's kprof token."""
    total, sep, rest = (raw or "").partition(":")
    if not sep or number(total) is None:
        return None, []
    funcs = []
    for item in rest.split(","):
        name, sep, ticks = item.rpartition("/")
        if sep and number(ticks) is not None:
            funcs.append((name, int(number(ticks))))
    return int(number(total)), funcs


def profile_text(found):
    """Per loopback window, the guest kernel's ticks: how many were idle,
    in modules (ours, virtio's, the block layer's), and the functions of
    the core kernel that had the most."""
    out = []
    for fid, what, _, _, _ in COST_WINDOWS:
        total, funcs = kprof(found.get(fid, {}).get("kprof"))
        if not total:
            continue
        idle = sum(t for n, t in funcs if IDLE_RE.search(n))
        busy = [(n, t) for n, t in funcs if not IDLE_RE.search(n)]
        out.append("  %s: %d ticks, idle %.0f%%; %s" % (
            what, total, 100.0 * idle / total, ", ".join(
                "%s %.0f%%" % (n, 100.0 * t / total) for n, t in busy[:6])))
    if not out:
        return ""
    return "\n".join([
        "",
        "guest kernel profile per loopback window (/proc/profile, timer "
        "ticks of both",
        "CPUs in kernel mode; \"modules\" is every module's text, ours "
        "included; user",
        "mode is not sampled: see user_us and sys_us above)", ""] + out) + "\n"


def foldable(rows):
    """References missing for one reason on several rows, each of which
    has another reference too (brd, NBD): one line says it for all."""
    names = {}
    for r in rows:
        names.setdefault(r["reference_name"], []).append(r)
    first = {}
    for r in rows:
        first.setdefault(r["what"], r["reference_name"])
    return {n for n, rs in names.items()
            if n is not None and len(rs) > 1 and
            all(r["reference"] is None and
                r["reference_na"] == rs[0]["reference_na"] and
                first[r["what"]] != n for r in rs)}


def text(meta, rows):
    debug = [n for n in ("kasan", "lockdep", "kmemleak")
             if meta.get(n) == "yes"]
    out = [
        "virtio-msg benchmarks (make bench)",
        "date:    %s" % meta["date"],
        "kernel:  %s" % meta.get("release", "?"),
        "arch:    %s, %s CPUs, QEMU without KVM" % (
            meta.get("machine", meta["arch"]), meta.get("cpus", "?")),
        "debug:   %s" % ("yes (%s): only the ratios mean anything"
                         % ", ".join(debug) if debug else "no"),
        "window:  %s s per measurement" % meta.get("seconds", "?"),
    ]
    if meta.get("host_load"):
        out.append("host:    load average %s" % meta["host_load"])
    out += [
        "ratio:   virtio-msg / reference; 'better' says which way is good",
        "",
    ]
    head = ("what", "virtio-msg", "reference", "ratio", "better")
    lines = []
    folded = foldable(rows)
    for i, r in enumerate(rows):
        name = r["reference_name"]
        if name in folded:
            if all(x["reference_name"] != name for x in rows[i + 1:]):
                lines.append(("blk, each row above", "", "%s: n/a (%s)"
                              % (name, r["reference_na"]), "-", ""))
            continue
        fig = (fmt(r["figure"], r["unit"]).strip()
               if r["figure"] is not None else "n/a (%s)" % r["figure_na"])
        if r["reference_name"] is None:
            ref = "-"
        elif r["reference"] is not None:
            ref = "%s: %s" % (r["reference_name"],
                              fmt(r["reference"], r["unit"]))
        else:
            ref = "%s: n/a (%s)" % (r["reference_name"], r["reference_na"])
        ratio = "%.3g" % r["ratio"] if r["ratio"] is not None else "-"
        better = r["better"] if r["ratio"] is not None else ""
        lines.append((r["what"], fig, ref, ratio, better))
    w0 = max(len(x[0]) for x in lines + [head])
    w1 = max(len(x[1]) for x in lines + [head])
    for x in [head] + lines:
        out.append(("%-*s  %-*s  %-7s %-6s  %s" % (
            w0, x[0], w1, x[1], x[3], x[4], x[2])).rstrip())
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("outdir")
    ap.add_argument("--arch", default="?")
    ap.add_argument("--date", default=time.strftime("%Y-%m-%d %H:%M %Z"))
    ap.add_argument("--host-load", help="the host's load average")
    args = ap.parse_args()
    found = parse(args.log)
    meta = dict(found.get("meta", {}))
    meta.pop("na", None)
    meta["date"] = args.date
    meta["arch"] = args.arch
    if args.host_load:
        meta["host_load"] = args.host_load
    rows = build(found)
    os.makedirs(args.outdir, exist_ok=True)
    cost = cost_build(found)
    txt = text(meta, rows) + cost_text(meta, cost) + profile_text(found)
    with open(os.path.join(args.outdir, "bench.txt"), "w") as f:
        f.write(txt)
    with open(os.path.join(args.outdir, "bench.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows, "cost": cost, "raw": found},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    sys.stdout.write(txt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
