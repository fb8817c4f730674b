#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""patches.py TOP KSRC WORK OUT: the upstream patch series, from this tree.

Lays the tree's files into a scratch git repository patch by patch, as
series/series says, commits each with its message and runs git
format-patch with a cover letter into OUT. The base commit holds only the
kernel files the series changes (copied from KSRC), which gives the same
patches as a whole tree would. Our entries go into the kernel's own
drivers/virtio/Kconfig and Makefile, MAINTAINERS, the documentation
indexes and the selftests Makefile.
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys

TOP, KSRC, WORK, OUT = sys.argv[1:5]
SERIES = os.path.join(TOP, "tools/testing/virtio_msg/series")

# Kernel files the series changes (beyond the files it adds).
KFILES = [
    "MAINTAINERS",
    "drivers/virtio/Kconfig",
    "drivers/virtio/Makefile",
    "Documentation/driver-api/virtio/index.rst",
    "Documentation/userspace-api/index.rst",
    "tools/testing/selftests/Makefile",
]
# Our fragments, merged into the kernel's files rather than added.
MERGED = {"drivers/virtio/Kconfig", "drivers/virtio/Makefile",
          "drivers/virtio/tests/Makefile"}
# Ours but not for a kernel tree: the out-of-tree build, the test bench,
# the fixes to other drivers that go upstream on their own.
NOT_SERIES = ["README", "Makefile", "Kbuild", "Kconfig", "MAINTAINERS", "dkms.conf",
              ".gitignore", ".ci/", "patches/", "tools/testing/virtio_msg/"]
MAINT_TITLE = "VIRTIO MSG TRANSPORT"


def die(msg):
    sys.exit("patches: error: " + msg)


def git(*args, cwd=None, env=None, out=False):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(["git", *args], cwd=cwd or WORK, env=e, check=True,
                       stdout=subprocess.PIPE if out else subprocess.DEVNULL,
                       text=True)
    return r.stdout if out else None


def hit(pat, f):
    return f.startswith(pat) if pat.endswith("/") else fnmatch.fnmatch(f, pat)


def read_series():
    patches = []
    for line in open(os.path.join(SERIES, "series")):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            name, syms = line.split(":", 1)
            syms = [s for s in syms.split() if s != "-"]
            patches.append({"name": name.strip(), "syms": syms, "pats": []})
        else:
            word, *pats = line.split()
            if word == "checkpatch-ignore" and patches:
                continue  # for patches-check.sh
            if word != "files" or not patches:
                die("series: bad line: " + line.strip())
            patches[-1]["pats"] += pats
    return patches


def kconfig_blocks(text):
    """Our drivers/virtio/Kconfig: symbol -> its entry, in order."""
    blocks, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"config (\w+)$", line)
        if m:
            cur = m.group(1)
            blocks[cur] = []
        if cur:
            blocks[cur].append(line)
    return {k: "\n".join(v).rstrip() + "\n" for k, v in blocks.items()}


def make_lines(text, syms, dirs):
    """Lines of one of our Makefiles for the symbols and directories given."""
    out, keep = [], True
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"obj-\$\(CONFIG_(\w+)\)", line)
        d = re.match(r"obj-y\s*\+=\s*(\S+/)$", line)
        if m:
            keep = m.group(1) in syms
        elif d:
            keep = d.group(1) in dirs
        # Other lines (foo-y := ..., continuations) go with the obj line
        # above them.
        if keep:
            out.append(line)
    return out


def maint_entry(text, files):
    """Our MAINTAINERS section with the F: lines that cover files."""
    head, flines = [MAINT_TITLE], []
    for line in text.splitlines():
        if not re.match(r"[A-Z]:\t", line):
            continue
        if line.startswith("F:"):
            if any(hit(line[3:].strip(), f) for f in files):
                flines.append(line)
        else:
            head.append(line)
    return "\n".join(head + flines) + "\n"


def insert_section(maint, entry):
    """Put our section in MAINTAINERS in alphabetical order."""
    parts = maint.split("\n\n")
    for i, p in enumerate(parts):
        title = p.split("\n", 1)[0]
        if i > 0 and re.match(r"[A-Z0-9]", title) and \
                title > MAINT_TITLE and parts[i - 1].split("\n", 1)[0] < MAINT_TITLE:
            return "\n\n".join(parts[:i] + [entry.rstrip("\n")] + parts[i:])
    die("no place for our MAINTAINERS section")


def after_line(text, anchor, new):
    lines = text.split("\n")
    if anchor not in lines:
        die("anchor %r not found" % anchor)
    i = lines.index(anchor) + 1
    return "\n".join(lines[:i] + new + lines[i:])


def write(path, text):
    p = os.path.join(WORK, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as fh:
        fh.write(text)


def main():
    tree = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=TOP,
        check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    tree = sorted(f for f in set(tree) if os.path.isfile(os.path.join(TOP, f)))
    patches = read_series()

    ours = {}
    our_kconfig = open(os.path.join(TOP, "drivers/virtio/Kconfig")).read()
    blocks = kconfig_blocks(our_kconfig)
    for p in patches:
        p["files"] = [f for f in tree if any(hit(pat, f) for pat in p["pats"])]
        for pat in p["pats"]:
            if not any(hit(pat, f) for f in tree):
                die("series: %s: %s matches no file" % (p["name"], pat))
        for f in p["files"]:
            if f in ours:
                die("%s is in both %s and %s" % (f, ours[f], p["name"]))
            ours[f] = p["name"]
        for s in p["syms"]:
            if s not in blocks:
                die("series: %s: no Kconfig symbol %s" % (p["name"], s))
    for f in tree:
        if f not in ours and f not in MERGED and \
                not any(hit(x, f) for x in NOT_SERIES):
            die("%s is in no patch of series/series" % f)
    listed = [s for p in patches for s in p["syms"]]
    for s in blocks:
        if listed.count(s) != 1:
            die("Kconfig symbol %s is in %d patches" % (s, listed.count(s)))

    base = {f: open(os.path.join(KSRC, f)).read() for f in KFILES}
    our_make = open(os.path.join(TOP, "drivers/virtio/Makefile")).read()
    our_tmake = open(os.path.join(TOP, "drivers/virtio/tests/Makefile")).read()
    our_maint = open(os.path.join(TOP, "MAINTAINERS")).read()

    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    name = git("config", "user.name", cwd=TOP, out=True).strip()
    email = git("config", "user.email", cwd=TOP, out=True).strip()
    # Dates of the tree's last commit: the same tree, the same series.
    date = git("log", "-1", "--format=%cI", cwd=TOP, out=True).strip()
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git("init", "-q")
    for f in KFILES:
        write(f, base[f])
    git("add", "-A")
    git("commit", "-q", "-m", "Linux 6.12 (the files the series changes)",
        env=env)

    files, syms = [], []
    for p in patches:
        files += p["files"]
        syms += p["syms"]
        for f in p["files"]:
            dst = os.path.join(WORK, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(TOP, f), dst)
        dirs = set()
        tlines = make_lines(our_tmake, syms, set())
        if tlines:
            dirs.add("tests/")
            write("drivers/virtio/tests/Makefile",
                  "# SPDX-License-Identifier: GPL-2.0-only\n" +
                  "\n".join(tlines) + "\n")
        kc = "".join("\n" + blocks[s] for s in blocks if s in syms)
        write("drivers/virtio/Kconfig", base["drivers/virtio/Kconfig"].replace(
            "\nendif # VIRTIO_MENU\n", kc + "\nendif # VIRTIO_MENU\n"))
        mk = make_lines(our_make, syms, dirs)
        write("drivers/virtio/Makefile", base["drivers/virtio/Makefile"] +
              "".join(line + "\n" for line in mk))
        made = ["drivers/virtio/tests/Makefile"] if tlines else []
        write("MAINTAINERS", insert_section(base["MAINTAINERS"],
                                            maint_entry(our_maint, files + made)))
        idx = base["Documentation/driver-api/virtio/index.rst"]
        pages = sorted(os.path.basename(f)[:-4] for f in files
                       if f.startswith("Documentation/driver-api/virtio/"))
        if pages:
            idx = after_line(idx, "   writing_virtio_drivers",
                             ["   " + x for x in pages])
        write("Documentation/driver-api/virtio/index.rst", idx)
        idx = base["Documentation/userspace-api/index.rst"]
        if "Documentation/userspace-api/virtio_msg_loopback.rst" in files:
            # "Devices and I/O", after vduse (the first of two).
            idx = idx.replace("   vduse\n", "   vduse\n   virtio_msg_loopback\n", 1)
        write("Documentation/userspace-api/index.rst", idx)
        mk = base["tools/testing/selftests/Makefile"]
        if any(f.startswith("tools/testing/selftests/") for f in files):
            mk = after_line(mk, "TARGETS += drivers/platform/x86/intel/ifs",
                            ["TARGETS += drivers/virtio_msg"])
        write("tools/testing/selftests/Makefile", mk)

        msg = open(os.path.join(SERIES, p["name"] + ".msg")).read().strip()
        msg += "\n\nSigned-off-by: %s <%s>\n" % (name, email)
        git("add", "-A")
        if not git("status", "--porcelain", out=True).strip():
            die("patch %s changes nothing" % p["name"])
        subprocess.run(["git", "commit", "-q", "-F", "-"], cwd=WORK,
                       input=msg, text=True, check=True,
                       env={**os.environ, **env})

    shutil.rmtree(OUT, ignore_errors=True)
    git("format-patch", "-q", "--cover-letter", "--no-signature",
        "--zero-commit", "-o", OUT, "HEAD~%d" % len(patches), env=env)
    cover = os.path.join(OUT, "0000-cover-letter.patch")
    text = open(cover).read()
    subj, body = open(os.path.join(SERIES, "cover.msg")).read().split("\n", 1)
    text = text.replace("*** SUBJECT HERE ***", subj.strip())
    text = text.replace("*** BLURB HERE ***", body.strip())
    with open(cover, "w") as fh:
        fh.write(text)
    for f in sorted(os.listdir(OUT)):
        print(os.path.join(OUT, f))


main()
