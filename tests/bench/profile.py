#!/usr/bin/env python3
"""tests/bench/profile.py — the tables of tests/bench/profile.

  profile.py KIND SPAN APTLOG DPKGLOG EVENTS [KIND SPAN APTLOG DPKGLOG EVENTS]...

SPAN: "start end" (epoch seconds) of the timed run. APTLOG: the apt-get
shim's "TIME start WORDS" / "TIME end RC WORDS" lines. DPKGLOG: dpkg's
status lines (--status-logger), each after its wall-clock time. EVENTS:
the program's --json events ("-" for none). Prints markdown.
"""
import collections
import json
import sys


def read_apt(path):
    calls, open_ = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 2:
                continue
            t = float(parts[0])
            if parts[1] == "start":
                open_.append((t, parts[2] if len(parts) > 2 else ""))
            elif parts[1] == "end" and open_:
                t0, words = open_.pop(0)
                calls.append((t0, t, words))
    return calls


def apt_kind(words):
    w = words.split()
    if "-s" in w or "--simulate" in w:
        return "simulation (apt-get -s)"
    if "--download-only" in w or "-d" in w:
        return "download only"
    for k in ("update", "install", "dist-upgrade", "upgrade", "purge", "remove", "autoremove", "clean"):
        if k in w:
            return k
    return "other"


# A pause longer than this between one package's last status line and the
# next "processing:" line is another dpkg call (apt's own work, a download),
# not the end of that package's step.
SAME_CALL_S = 3.0


def read_dpkg(path):
    """Segments (action, pkg, t0, t1): from a "processing:" line to the next
    one (what dpkg does after a package's last status line, writing its
    database and file lists, belongs to that package), or to its last status
    line when the next comes more than SAME_CALL_S later."""
    segs, cur = [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            t, _, rest = line.rstrip("\n").partition(" ")
            try:
                t = float(t)
            except ValueError:
                continue
            if rest.startswith("processing: "):
                if cur:
                    if t - cur[3] <= SAME_CALL_S:
                        cur[3] = t
                    segs.append(tuple(cur))
                _, action, pkg = [x.strip() for x in rest.split(":", 2)]
                cur = [action, pkg.split(":")[0], t, t]
            elif cur:
                cur[3] = t
    if cur:
        segs.append(tuple(cur))
    return segs


def phases(path):
    out = []
    if path == "-":
        return out
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "phase_end":
                out.append((ev.get("id"), ev.get("state"), ev.get("duration_ms", 0) / 1000.0))
    return out


ACTION = {"install": "unpack (preinst, files)", "upgrade": "unpack (upgrade)",
          "configure": "configure (postinst)", "trigproc": "trigger", "remove": "remove",
          "purge": "purge", "disappear": "disappear"}


def profile(kind, span, aptlog, dpkglog, evpath):
    with open(span) as f:
        t0, t1 = map(float, f.read().split())
    total = t1 - t0
    calls = read_apt(aptlog)
    segs = read_dpkg(dpkglog)
    print("## %s: %.1f s wall" % (kind, total))
    print()
    ph = phases(evpath)
    if ph:
        print("| phase | state | s | % |")
        print("|---|---|---:|---:|")
        for pid, state, s in ph:
            print("| %s | %s | %.1f | %.1f |" % (pid, state, s, 100 * s / total))
        print()
    print("| apt-get | n | s | % of run |")
    print("|---|---:|---:|---:|")
    by = collections.OrderedDict()
    for a, b, w in calls:
        k = apt_kind(w)
        n, s = by.get(k, (0, 0.0))
        by[k] = (n + 1, s + b - a)
    for k, (n, s) in by.items():
        print("| %s | %d | %.1f | %.1f |" % (k, n, s, 100 * s / total))
    aptsum = sum(b - a for a, b, _ in calls)
    print("| all apt-get | %d | %.1f | %.1f |" % (len(calls), aptsum, 100 * aptsum / total))
    print("| outside apt-get (program, other commands) | | %.1f | %.1f |" % (total - aptsum, 100 * (total - aptsum) / total))
    print()
    print("Each apt-get, in order (dpkg time inside it: unpack / configure / triggers):")
    print()
    print("| start +s | apt-get | s | unpack | configure | triggers | words |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for a, b, w in calls:
        inside = collections.Counter()
        for act, pkg, s0, s1 in segs:
            if a <= s0 <= b:
                inside[act] += s1 - s0
        print("| %.1f | %s | %.1f | %.1f | %.1f | %.1f | %s |" % (
            a - t0, apt_kind(w), b - a, inside["install"] + inside["upgrade"], inside["configure"],
            inside["trigproc"], (w[:90] + "…") if len(w) > 90 else w))
    print()
    acts = collections.Counter()
    cnt = collections.Counter()
    for act, pkg, s0, s1 in segs:
        acts[act] += s1 - s0
        cnt[act] += 1
    dsum = sum(acts.values())
    print("dpkg (status lines): %.1f s in %d steps, %.1f %% of the run" % (dsum, len(segs), 100 * dsum / total))
    print()
    print("| dpkg step | n | s | % of run |")
    print("|---|---:|---:|---:|")
    for act, s in acts.most_common():
        print("| %s | %d | %.1f | %.1f |" % (ACTION.get(act, act), cnt[act], s, 100 * s / total))
    print()
    trig = collections.Counter()
    tn = collections.Counter()
    conf = collections.Counter()
    for act, pkg, s0, s1 in segs:
        if act == "trigproc":
            trig[pkg] += s1 - s0
            tn[pkg] += 1
        elif act == "configure":
            conf[pkg] += s1 - s0
    print("| trigger | runs | s |")
    print("|---|---:|---:|")
    for pkg, s in trig.most_common():
        print("| %s | %d | %.2f |" % (pkg, tn[pkg], s))
    print()
    print("| maintainer script (postinst configure), top 20 | s |")
    print("|---|---:|")
    for pkg, s in conf.most_common(20):
        print("| %s | %.2f |" % (pkg, s))
    print()


def main(argv):
    a = argv[1:]
    if not a or len(a) % 5:
        print(__doc__, file=sys.stderr)
        return 2
    for i in range(0, len(a), 5):
        profile(*a[i:i + 5])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
