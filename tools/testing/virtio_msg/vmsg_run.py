#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Boot virtio-msg test guests under QEMU and judge what they print.

  vmsg_run.py boot ARCH KERNEL INITRD LOG [--timeout S] [--mode M]
      Boot a guest, copy its serial console to LOG, stop it after S seconds
      at most. Mode "shell" is interactive and writes no log.
      With --amp-bin VMSG_AMP [--amp "ARGS"], start vmsg-amp (the AMP device
      side, an ivshmem server) first, give the guest an ivshmem-doorbell
      device connected to it, stop it afterwards and append its output to
      LOG ("@@vmsg amp: ..." lines). In mode "check" it runs as two
      processes with a host control channel (below); in the other modes as
      one process.
      With --amp-dt-bin VMSG_AMP --dtc DTC [--amp-dt "ARGS"] (arm64), back
      the guest's RAM with a shared file, give it a device tree with the
      virtio-msg nodes of amp-dt.dtsi, and serve each of their regions from
      the host with a vmsg-amp --region ("@@vmsg amp-dt N: ..." in LOG).
  vmsg_run.py splats LOG
      Print the kernel splats in a guest log; exit 1 if there is any.
  vmsg_run.py report --suites FILE [--lint FILE] ARCH=LOG...
      Parse the logs, print results per arch and per suite, and end with
      one line "N passed, N failed[, N skipped]". Exit 1 on any failure.

A suite fails when one of its KTAP cases fails, when it is missing from
the log or cut short (guest crash or hang), or when its program exits
non-zero. A guest fails when its kernel log shows any splat.

The host control channel (mode "check" with --amp-bin): the guest cannot
kill a host process, so it asks the runner on its console. vmsg-amp runs
as a long-lived server (--server-only, which owns the region and marks
the device side PEER_DEAD when the device process goes) and a device
process (--connect) with the --amp devices; a --blk given in MiB becomes
a file of that size next to LOG (LOG.disk), so that what the guest wrote
survives a restart of the device process. The guest's kernel command line
gets vmsg.hostctl=amp. The console is read through a pipe, and a line
holding

  @@vmsg hostctl amp ID COMMAND [OPTIONS] ;

anywhere in it (kernel messages may share the line) is acted on once per
ID, commands one at a time in the order they came:

  kill              SIGKILL the device process
  stop              SIGTERM it (it writes SHUTDOWN first)
  start [OPTIONS]   stop the device process if one runs, then start a new
                    one with the --amp devices and OPTIONS, from an
                    allowlist only: --hostile MODE (see vmsg-amp --help),
                    --notif N (1 to 64 notification words)
  trigger           SIGUSR1 the device process (a --hostile mode acts)

Each command is logged ("@@vmsg host: hostctl ID ..."); the guest learns
nothing back but what it sees (devices going or coming, the region).
Everything the processes print goes to LOG at the end, prefixed
"@@vmsg amp: " ("@@vmsg amp: device N: " for the Nth device process).
"""

import argparse
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

QEMU = {
    "x86_64": ["qemu-system-x86_64", "-M", "q35", "-cpu", "max",
               "-m", "1G", "-smp", "2"],
    "arm64": ["qemu-system-aarch64", "-M", "virt,gic-version=3",
              "-cpu", "cortex-a72", "-m", "1G", "-smp", "2"],
}
CONSOLE = {"x86_64": "ttyS0", "arm64": "ttyAMA0"}

# Anything here in a guest's kernel log fails the run.
SPLATS = [
    r"\bBUG:", r"\bWARNING:", r"\bOops\b", r"Kernel panic",
    r"cut here \]", r"general protection fault",
    r"Unable to handle kernel", r"KASAN", r"UBSAN",
    r"possible (recursive|circular) locking", r"inconsistent lock state",
    r"sleeping function called from invalid context",
    r"unreferenced object", r"suspected memory leak",
    r"INFO: task .* blocked for more than", r"hung_task",
    r"rcu: INFO: .* stall", r"soft lockup", r"hard LOCKUP",
    r"list_(add|del) corruption",
]
# Boot banners that mention a checker without reporting anything.
BENIGN = [
    r"KernelAddressSanitizer initialized",
    r"kmemleak: Kernel memory leak detector initialized",
    r"kmemleak: Automatic memory scanning thread",
]
SPLAT_RE = re.compile("|".join(SPLATS))
BENIGN_RE = re.compile("|".join(BENIGN))
RESULT_RE = re.compile(r"^(\s*)(ok|not ok) (\d+)\b(.*)$")
# kselftest harness lines that say nothing about why a test failed.
HARNESS_NOTE_RE = re.compile(r"^#\s*(RUN|OK|FAIL|SKIP|PASSED|FAILED)\b|"
                             r"^#\s*\S+: Test (failed|terminated)")
# How many of a failed test's diagnostic lines the report shows.
FAIL_NOTES = 8
PLAN_RE = re.compile(r"^(\s*)1\.\.(\d+)")
SKIP_RE = re.compile(r"#\s*SKIP", re.IGNORECASE)
BEGIN_RE = re.compile(r"@@vmsg begin (\S+)(?: (\S+))?")
END_RE = re.compile(r"@@vmsg end (\S+)(?: (\S+))?(?: rc=(-?\d+))?")


HOSTCTL_RE = re.compile(rb"@@vmsg hostctl amp (\S+) (kill|stop|start|trigger)"
                        rb"((?: [^ ;\r\n]+)*) ;")
HOSTILE_MODES = {
    "layout-zero-offset", "layout-misaligned", "layout-out-of-bounds",
    "layout-overlap", "layout-feature", "bad-tail", "bad-head",
    "magic-flip", "flood",
}
# The only options a guest may add to a device process it starts, each
# with the check of its value.
HOSTCTL_OPTIONS = {
    "--hostile": lambda v: v in HOSTILE_MODES,
    "--notif": lambda v: v.isdigit() and 1 <= int(v) <= 64,
}
AMP_READY_S = 10


def wait_for_output(path, what, proc, timeout, count=1):
    """Wait until file PATH holds WHAT COUNT times; False if PROC died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path, "rb") as f:
            if f.read().count(what) >= count:
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


class AmpHost:
    """vmsg-amp as a server and a restartable device process."""

    def __init__(self, args):
        self.bin = args.amp_bin
        self.base = args.log
        self.sock = args.log + ".ivshmem.sock"
        self.dsock = args.log + ".device.sock"
        self.devargs = shlex.split(args.amp)
        self.server = None
        self.dev = None
        self.devs = []          # (process, output file), in start order
        self.cmds = queue.Queue()
        self.seen = set()
        self.lock = threading.Lock()
        self.log = None
        self.worker = None
        # A disk in memory would not survive the device process.
        for i, a in enumerate(self.devargs[:-1]):
            if a == "--blk" and self.devargs[i + 1].isdigit():
                disk = args.log + ".disk"
                with open(disk, "wb") as f:
                    f.truncate(int(self.devargs[i + 1]) << 20)
                self.devargs[i + 1] = disk

    def start(self):
        """Start the server and a device process; QEMU's arguments."""
        out = open(self.base + ".amp", "wb")
        self.server = subprocess.Popen(
            [self.bin, "--server-only", "--socket", self.sock,
             "--device-socket", self.dsock],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        if not wait_for_output(self.base + ".amp", b"ready", self.server,
                               AMP_READY_S):
            print("vmsg: vmsg-amp --server-only did not start",
                  file=sys.stderr)
        self.start_device([])
        self.worker = threading.Thread(target=self.work, daemon=True)
        self.worker.start()
        return ["-chardev", "socket,path=%s,id=vmsgamp" % self.sock,
                "-device", "ivshmem-doorbell,chardev=vmsgamp,vectors=1"]

    def start_device(self, extra):
        path = "%s.amp.%d" % (self.base, len(self.devs) + 1)
        out = open(path, "wb")
        proc = subprocess.Popen(
            [self.bin, "--connect", self.dsock] + self.devargs + extra,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.devs.append((proc, path))
        self.dev = proc
        if wait_for_output(path, b"ready", proc, AMP_READY_S):
            return "started pid %d" % proc.pid
        return "device process did not start (rc=%s)" % proc.poll()

    def stop_device(self, sig):
        """Signal the device process, reap it, let the server see it go."""
        proc, self.dev = self.dev, None
        if proc is None:
            return "no device process"
        with open(self.base + ".amp", "rb") as f:
            left = f.read().count(b"device side left")
        with open(self.devs[-1][1], "rb") as f:
            connected = b"ready" in f.read()
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        # The server must have dropped it before another may connect.
        if connected:
            wait_for_output(self.base + ".amp", b"device side left",
                            self.server, AMP_READY_S, left + 1)
        return "pid %d rc=%d" % (proc.pid, rc)

    def act(self, cmd, opts):
        if cmd == "kill":
            return self.stop_device(signal.SIGKILL)
        if cmd == "stop":
            return self.stop_device(signal.SIGTERM)
        if cmd == "trigger":
            if self.dev is None or self.dev.poll() is not None:
                return "no device process"
            self.dev.send_signal(signal.SIGUSR1)
            return "pid %d" % self.dev.pid
        if (len(opts) % 2 or
                any(o not in HOSTCTL_OPTIONS or not HOSTCTL_OPTIONS[o](v)
                    for o, v in zip(opts[::2], opts[1::2]))):
            return "refused: options %s not allowed" % " ".join(opts)
        if self.dev is not None:
            self.stop_device(signal.SIGTERM)
        return self.start_device(opts)

    def work(self):
        while True:
            item = self.cmds.get()
            if item is None:
                return
            ident, cmd, opts = item
            what = self.act(cmd, opts)
            self.note(b"@@vmsg host: hostctl %s %s%s: %s\n"
                      % (ident.encode(), cmd.encode(),
                         b"".join(b" " + o.encode() for o in opts),
                         what.encode()))

    def note(self, line):
        with self.lock:
            if self.log:
                self.log.write(line)
                self.log.flush()

    def console(self, line):
        """One console line: copy it to the log, act on a marker."""
        with self.lock:
            self.log.write(line)
        m = HOSTCTL_RE.search(line)
        if not m or m.group(1) in self.seen:
            return
        self.seen.add(m.group(1))
        self.cmds.put((m.group(1).decode(errors="replace"),
                       m.group(2).decode(),
                       m.group(3).decode(errors="replace").split()))

    def stop(self, log):
        """Stop everything; append what each process printed to LOG."""
        if self.worker:
            # Commands the guest sent too late are of no use now.
            while not self.cmds.empty():
                self.cmds.get_nowait()
            self.cmds.put(None)
            self.worker.join(timeout=60)
        with self.lock:
            self.log = None
        if self.dev is not None:
            self.stop_device(signal.SIGTERM)
        procs = [("", self.server, self.base + ".amp")]
        procs += [("device %d: " % (i + 1), p, path)
                  for i, (p, path) in enumerate(self.devs)]
        self.server.terminate()
        for prefix, proc, path in procs:
            try:
                rc = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            with open(path, "rb") as f:
                for line in f.read().splitlines():
                    log.write(b"@@vmsg amp: %s%s\n"
                              % (prefix.encode(), line))
            log.write(b"@@vmsg amp: %src=%d\n" % (prefix.encode(), rc))


def amp_start(args):
    """Start vmsg-amp; return (process, QEMU arguments) once it is ready."""
    sock = args.log + ".ivshmem.sock"
    out = open(args.log + ".amp", "wb")
    proc = subprocess.Popen([args.amp_bin, "--socket", sock]
                            + shlex.split(args.amp), stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT)
    out.close()
    for _ in range(100):
        with open(args.log + ".amp", "rb") as f:
            if b"ready" in f.read():
                break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    else:
        proc.kill()
    return proc, ["-chardev", "socket,path=%s,id=vmsgamp" % sock,
                  "-device", "ivshmem-doorbell,chardev=vmsgamp,vectors=1"]


def amp_stop(args, proc, log):
    """SIGTERM vmsg-amp and append what it printed to the guest log."""
    proc.terminate()
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    with open(args.log + ".amp", "rb") as f:
        for line in f.read().splitlines():
            log.write(b"@@vmsg amp: " + line + b"\n")
    log.write(b"@@vmsg amp: rc=%d\n" % rc)


# The arm64 guest's RAM starts here on QEMU's virt machine.
VIRT_RAM_BASE = 0x40000000
AMP_DTSI = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "amp-dt.dtsi")


def amp_dt_regions():
    """
    [(guest physical address, size)] of the regions amp-dt.dtsi reserves
    for vmsg-amp: all but the FF-A pool (restricted-dma-pool), which the
    guest shares with its simulated partition.
    """
    with open(AMP_DTSI) as f:
        text = f.read()
    regions = []
    # The reserved regions are the innermost nodes: no braces inside.
    for node in re.findall(r"\{([^{}]*)\}", text):
        if "restricted-dma-pool" in node:
            continue
        regions += [(int(m[0], 16) << 32 | int(m[1], 16),
                     int(m[2], 16) << 32 | int(m[3], 16))
                    for m in re.findall(r"reg = <(0x[0-9a-f]+) (0x[0-9a-f]+) "
                                        r"(0x[0-9a-f]+) (0x[0-9a-f]+)>", node)]
    return regions


def amp_dt_start(args, cmd):
    """
    RAM in a shared file, QEMU's device tree with amp-dt.dtsi added, and
    a vmsg-amp serving each region in that file. Return (processes, RAM
    file, the QEMU command with all of it), or raise with what went wrong.
    """
    ram_size = cmd[cmd.index("-m") + 1]
    mi = cmd.index("-M") + 1
    cmd = list(cmd)
    cmd[mi] += ",memory-backend=vmsgram"
    fd, ram = tempfile.mkstemp(prefix="vmsg-amp-dt-", dir="/dev/shm"
                               if os.path.isdir("/dev/shm") else None)
    # vmsg-amp maps it before QEMU runs the guest: give it its size now.
    os.ftruncate(fd, int(ram_size[:-1]) << {"M": 20, "G": 30}[ram_size[-1]])
    os.close(fd)
    cmd += ["-object", "memory-backend-file,id=vmsgram,size=%s,"
            "mem-path=%s,share=on" % (ram_size, ram)]
    base = args.log + ".amp-dt"
    try:
        # The machine's own tree, then ours on top of it.
        subprocess.run(cmd + ["-machine", "dumpdtb=%s.qemu.dtb" % base,
                              "-display", "none"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dts = subprocess.run([args.dtc, "-q", "-I", "dtb", "-O", "dts",
                              base + ".qemu.dtb"], check=True,
                             stdout=subprocess.PIPE).stdout
        with open(AMP_DTSI, "rb") as f:
            dts += b"\n" + f.read()
        with open(base + ".dts", "wb") as f:
            f.write(dts)
        subprocess.run([args.dtc, "-q", "-I", "dts", "-O", "dtb", "-o",
                        base + ".dtb", base + ".dts"], check=True)
    except (OSError, subprocess.CalledProcessError):
        os.unlink(ram)
        raise
    procs = []
    for i, (addr, size) in enumerate(amp_dt_regions()):
        out = open("%s.%d" % (base, i), "wb")
        procs.append(subprocess.Popen(
            [args.amp_dt_bin, "--region", ram,
             "--offset", hex(addr - VIRT_RAM_BASE), "--size", str(size >> 20)]
            + shlex.split(args.amp_dt), stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT))
        out.close()
        for _ in range(100):
            with open("%s.%d" % (base, i), "rb") as f:
                if b"ready" in f.read():
                    break
            if procs[-1].poll() is not None:
                break
            time.sleep(0.1)
    return procs, ram, cmd + ["-dtb", base + ".dtb"]


def amp_dt_stop(args, procs, ram, log):
    """Stop each vmsg-amp --region, append its output to the log, drop RAM."""
    for i, proc in enumerate(procs):
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        with open("%s.amp-dt.%d" % (args.log, i), "rb") as f:
            for line in f.read().splitlines():
                log.write(b"@@vmsg amp-dt %d: %s\n" % (i, line))
        log.write(b"@@vmsg amp-dt %d: rc=%d\n" % (i, rc))
    os.unlink(ram)


def boot(args):
    amp = host = None
    append = "console=%s loglevel=%d panic=-1 vmsg.mode=%s" % (
        CONSOLE[args.arch], 7 if args.mode == "shell" else 4, args.mode)
    if args.mode == "bench":
        # /proc/profile: the kernel's ticks by 16-byte bucket of its text,
        # for the profile of each loopback window (vmsg_bench_profile).
        append += " profile=4"
    cmd = QEMU[args.arch] + [
        "-no-reboot", "-kernel", args.kernel, "-initrd", args.initrd,
        "-net", "none",
    ]
    amp_dt = None
    # Before the ivshmem device: dumping the tree runs QEMU once.
    if args.amp_dt_bin:
        amp_dt, ram, cmd = amp_dt_start(args, cmd)
    if args.amp_bin and args.mode == "check":
        host = AmpHost(args)
        cmd += host.start()
        append += " vmsg.hostctl=amp"
    elif args.amp_bin:
        amp, amp_args = amp_start(args)
        cmd += amp_args
    cmd += ["-append", append]
    if args.mode == "shell" and not amp and not amp_dt:
        os.execvp(cmd[0], cmd + ["-nographic"])
    if args.mode == "shell":
        rc = subprocess.call(cmd + ["-nographic"])
        with open(os.devnull, "wb") as null:
            if amp:
                amp_stop(args, amp, null)
            if amp_dt:
                amp_dt_stop(args, amp_dt, ram, null)
        return rc
    cmd += ["-display", "none", "-monitor", "none", "-serial", "stdio"]
    start = time.monotonic()
    with open(args.log, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        if host:
            host.log = log
        copier = threading.Thread(target=tee,
                                  args=(proc.stdout, log, args.tee, host))
        copier.start()
        try:
            rc = proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = -1
        copier.join()
        if rc == -1:
            log.write(b"\n@@vmsg host: guest killed after %d s\n"
                      % args.timeout)
        if amp:
            amp_stop(args, amp, log)
        if host:
            host.stop(log)
        if amp_dt:
            amp_dt_stop(args, amp_dt, ram, log)
    took = time.monotonic() - start
    with open(args.log + ".time", "w") as f:
        f.write("%.0f\n" % took)
    print("vmsg: %s guest ran %.0f s (qemu rc=%d), log: %s"
          % (args.arch, took, rc, args.log), file=sys.stderr)
    return 0


def tee(src, log, show, host):
    """Copy the guest console to the log and, if SHOW, without kernel
    noise, to us; HOST, if any, copies it and acts on its markers."""
    for line in iter(src.readline, b""):
        if host:
            host.console(line)
        else:
            log.write(line)
        # Line by line, so that a guest's progress can be followed.
        log.flush()
        if show and not line.startswith(b"[") and \
                not line.startswith(b"@@vmsg"):
            sys.stdout.buffer.write(line)
            sys.stdout.flush()


def count_ktap(lines):
    """Count leaf KTAP results: (passed, failed, skipped, problems)."""
    passed = failed = skipped = 0
    problems = []
    prev_indent = None
    top_indent = None
    top_plan = None
    top_results = 0
    # The diagnostics printed since the last result: why a test failed.
    notes = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            if not HARNESS_NOTE_RE.match(stripped):
                notes = (notes + [stripped])[-FAIL_NOTES:]
            continue
        m = PLAN_RE.match(line)
        if m and top_plan is None:
            top_indent = len(m.group(1))
            top_plan = int(m.group(2))
            continue
        m = RESULT_RE.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        if top_indent is not None and indent == top_indent:
            top_results += 1
        leaf = prev_indent is None or prev_indent <= indent
        prev_indent = indent
        why, notes = notes, []
        if not leaf:
            continue
        if SKIP_RE.search(m.group(4)):
            skipped += 1
        elif m.group(2) == "ok":
            passed += 1
        else:
            failed += 1
            problems.append("not ok %s%s" % (m.group(3), m.group(4)))
            problems.extend("  " + n for n in why)
    if top_plan is None:
        problems.append("no KTAP plan")
        failed += 1
    elif top_results < top_plan:
        problems.append("plan 1..%d but %d results" % (top_plan, top_results))
        failed += top_plan - top_results
    return passed, failed, skipped, problems


def parse_log(path):
    """Split a console log into suites and collect splats."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return {"error": str(e), "suites": {}, "splats": [], "done": False}
    suites = {}
    splats = []
    cur = None
    done = False
    boot_info = ""
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if SPLAT_RE.search(line) and not BENIGN_RE.search(line):
            splats.append(line.strip())
        if "@@vmsg boot" in line:
            boot_info = line.split("@@vmsg boot", 1)[1].strip()
        if "@@vmsg done" in line:
            done = True
        m = BEGIN_RE.search(line)
        if m:
            cur = {"kind": m.group(1), "name": m.group(2) or m.group(1),
                   "lines": [], "rc": None, "ended": False}
            suites[(cur["kind"], cur["name"])] = cur
            continue
        m = END_RE.search(line)
        if m and cur is not None:
            cur["ended"] = True
            if m.group(3) is not None:
                cur["rc"] = int(m.group(3))
            cur = None
            continue
        if cur is not None:
            cur["lines"].append(line)
    return {"suites": suites, "splats": splats, "done": done,
            "boot": boot_info, "error": None}


def read_manifest(path):
    wanted = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) >= 2:
                wanted.append((line[0], line[1]))
    return wanted


def report(args):
    totals = [0, 0, 0]
    wanted = read_manifest(args.suites)

    def add(label, p, f, s, problems):
        totals[0] += p
        totals[1] += f
        totals[2] += s
        state = "FAIL" if f else "ok"
        print("  %-34s %-4s pass %d fail %d skip %d"
              % (label, state, p, f, s))
        for prob in problems[:40]:
            print("      %s" % prob)

    if args.lint:
        print("== lint ==")
        with open(args.lint) as f:
            for line in f:
                # "ok NAME", "fail NAME" or "skip NAME WHY".
                parts = line.split(None, 2)
                if len(parts) < 2:
                    continue
                ok, skip = parts[0] == "ok", parts[0] == "skip"
                add("lint " + parts[1], int(ok), int(not ok and not skip),
                    int(skip), [p.strip() for p in parts[2:]] if skip else [])

    for spec in args.logs:
        arch, path = spec.split("=", 1)
        res = parse_log(path)
        took = ""
        try:
            with open(path + ".time") as f:
                took = ", %s s" % f.read().strip()
        except OSError:
            pass
        print("== %s guest (%s%s) ==" % (arch, res.get("boot") or "no boot",
                                         took))
        for kind, name in wanted:
            suite = res["suites"].get((kind, name))
            label = "%s %s" % (kind, name)
            if suite is None:
                add(label, 0, 1, 0, ["missing from the log"])
                continue
            p, f, s, problems = count_ktap(suite["lines"])
            if not suite["ended"]:
                problems.append("cut short (guest crashed or hung)")
                f += 1
            elif suite["rc"] not in (0, None) and f == 0:
                problems.append("exit status %d" % suite["rc"])
                f += 1
            add(label, p, f, s, problems)
        clean = not res["splats"] and res["done"]
        problems = list(dict.fromkeys(res["splats"]))
        if not res["done"]:
            problems.insert(0, "guest did not finish its run")
        add("kernel log", int(clean), int(not clean), 0, problems)

    print("%d passed, %d failed" % (totals[0], totals[1])
          + (", %d skipped" % totals[2] if totals[2] else ""))
    return 1 if totals[1] else 0


def splats(args):
    """Print the splats of a guest log; exit 1 if there is any."""
    found = list(dict.fromkeys(parse_log(args.log)["splats"]))
    for line in found:
        print("splat: " + line)
    return 1 if found else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("boot")
    b.add_argument("arch", choices=sorted(QEMU))
    b.add_argument("kernel")
    b.add_argument("initrd")
    b.add_argument("log", nargs="?", default=os.devnull)
    b.add_argument("--timeout", type=int, default=1800)
    b.add_argument("--mode", default="check")
    b.add_argument("--amp-bin",
                   help="vmsg-amp to start for an ivshmem-doorbell device")
    b.add_argument("--amp", default="--rng",
                   help="vmsg-amp's device options (default --rng)")
    b.add_argument("--amp-dt-bin",
                   help="vmsg-amp to serve the region of amp-dt.dtsi (arm64)")
    b.add_argument("--amp-dt", default="--rng",
                   help="its device options (default --rng)")
    b.add_argument("--dtc", default="dtc",
                   help="the device-tree compiler for --amp-dt-bin")
    b.add_argument("--tee", action="store_true",
                   help="also print the console (without kernel lines)")
    r = sub.add_parser("report")
    r.add_argument("--suites", required=True)
    r.add_argument("--lint")
    r.add_argument("logs", nargs="*")
    sp = sub.add_parser("splats")
    sp.add_argument("log")
    args = ap.parse_args()
    return {"boot": boot, "report": report, "splats": splats}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
