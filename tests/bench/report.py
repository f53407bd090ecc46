#!/usr/bin/env python3
"""report.py — the parts of tests/bench/run that read JSON or do arithmetic.

  report.py packages PLAN.json   the packages of the plan's PACKAGE_INSTALL
                                 steps, one a line, in plan order, no repeats
                                 ("name-" = keep it out, as apt-get reads it)
  report.py phases EVENTS.json   "ID STATE MS" for every phase_end event of a
                                 --json run
  report.py sources CATALOG KEY  apt sources (DEB822) of a catalog's IDE
                                 repositories, signed by keyring file KEY
  report.py report RAW OUTDIR    medians, ratios and targets of the raw
                                 figures: OUTDIR/bench.json, OUTDIR/bench.md,
                                 the table on stdout

Exit status 1 when the input lacks what it must hold (a broken measurement).
"""
import json
import re
import statistics
import sys

PKG = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")


def events(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except ValueError:
                continue


def cmd_packages(path):
    seen, out = set(), []
    for ev in events(path):
        if ev.get("event") != "plan":
            continue
        for step in ev.get("steps", []):
            if step.get("action_type") != "PACKAGE_INSTALL":
                continue
            # A step of packages already there names no package (its
            # target is a description then): nothing to install.
            if str(step.get("description", "")).startswith("already installed"):
                continue
            words = str(step.get("target", "")).split()
            if not words or not all(PKG.match(w) for w in words):
                print("report.py: plan step target %r is not a list of package names" % step.get("target"),
                      file=sys.stderr)
                return 1
            for w in words:
                if w not in seen:
                    seen.add(w)
                    out.append(w)
    if not out:
        return 1
    print("\n".join(out))
    return 0


def cmd_phases(path):
    n = 0
    for ev in events(path):
        if ev.get("event") == "phase_end":
            print(ev.get("id"), ev.get("state"), ev.get("duration_ms"))
            n += 1
    return 0 if n else 1


# The benchmark's targets: (key, what, limit, unit, how the value is got).
def median(xs):
    return statistics.median(xs) if xs else None


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float) and v.is_integer() and not unit:
        v = int(v)
    if isinstance(v, float):
        v = ("%.3f" if abs(v) < 10 else "%.1f") % v
    return "%s%s" % (v, (" " + unit) if unit else "")


def cmd_report(raw, outdir):
    figs, facts = {}, {}
    with open(raw, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) != 3:
                continue
            if parts[0] == "fact":
                facts[parts[1]] = parts[2]
                continue
            name, rnd, val = parts
            try:
                v = float(val)
            except ValueError:
                v = val
            figs.setdefault(name, []).append((int(rnd), v))

    quick = facts.get("mode") == "quick"

    def runs(name, warm=False):
        return [v for r, v in figs.get(name, []) if (warm or r > 0) and isinstance(v, float)]

    def med(name):
        return median(runs(name))

    required = [
        "limit_s", "perpkg_s", "full_s", "rerun_s", "startup_wizard_ms", "startup_help_ms",
        "full_rss_kib", "full_cpu_self_s", "full_cpu_children_s", "rerun_rss_kib",
        "ui_headless_ms", "ui_dashboard_ms",
    ]
    hosts = facts.get("hosts") != "no"
    if not hosts:
        required = [k for k in required if k.startswith(("startup", "ui_"))]
    missing = [k for k in required if not runs(k)]
    if missing:
        print("report.py: figures missing: %s" % ", ".join(missing), file=sys.stderr)
        return 1

    figures = {}
    for name in sorted(figs):
        vals = runs(name, warm=True) if name.startswith(("warmup", "phase_warmup")) else runs(name)
        if vals:
            figures[name] = {"median": median(vals), "min": min(vals), "max": max(vals), "runs": vals}
        else:
            figures[name] = {"values": [v for _, v in figs[name]]}

    def div(a, b):
        return None if a is None or b is None or b == 0 else a / b

    ratios = {
        "full_over_limit": div(med("full_s"), med("limit_s")),
        "perpkg_over_limit": div(med("perpkg_s"), med("limit_s")),
        "ui_dashboard_over_headless": div(med("ui_dashboard_ms"), med("ui_headless_ms")),
        "ui_json_over_headless": div(med("ui_json_ms"), med("ui_headless_ms")),
        # CPU time of the program itself: what the dashboard costs without
        # the other load of the machine in it
        "ui_dashboard_over_headless_cpu": div(med("ui_dashboard_cpu_self_s"), med("ui_headless_cpu_self_s")),
    }
    rss = med("full_rss_kib")
    rss_mib = None if rss is None else rss / 1024.0
    d = ratios["ui_dashboard_over_headless"]
    overhead = None if d is None else (d - 1) * 100

    def target(what, value, unit, limit, note=""):
        met = None if value is None or note else value <= limit
        if value is None and not note:
            note = "not measured (--local)"
        return {"target": what, "value": value, "unit": unit, "limit": limit, "met": met, "note": note}

    targets = [
        target("full run <= 1.05 x limit", ratios["full_over_limit"], "x", 1.05,
               "quick: 1 and 2 install a subset, not judged" if quick else ""),
        target("full run below the limit's download+install, prefetch counted from confirm", None, "", None,
               "not measured: an --unattended run has no wizard to prefetch during"),
        target("re-run <= 2 s", med("rerun_s"), "s", 2.0),
        target("first wizard screen <= 50 ms", med("startup_wizard_ms"), "ms", 50.0),
        target("--help <= 10 ms", med("startup_help_ms"), "ms", 10.0),
        target("peak RSS <= 20 MiB (full run)", rss_mib, "MiB", 20.0),
        target("UI overhead <= 2 %", overhead, "%", 2.0),
    ]

    phases = {}
    for name in figs:
        for kind in ("full", "rerun"):
            pre = "phase_%s:" % kind
            if name.startswith(pre):
                pid = name[len(pre):]
                phases.setdefault(pid, {})[kind + "_ms"] = med(name)
                states = sorted({v for _, v in figs.get("phasestate_%s:%s" % (kind, pid), [])})
                phases[pid][kind + "_state"] = "/".join(str(s) for s in states)
    order = [l.split()[0] for l in open(raw, encoding="utf-8") if l.startswith("phase_full:")]
    seen = []
    for n in order:
        pid = n[len("phase_full:"):]
        if pid not in seen:
            seen.append(pid)

    result = {
        "date": facts.get("date"), "mode": facts.get("mode"), "runs": int(facts.get("runs", "0")),
        "machine": {k: facts.get(k) for k in ("cores", "ram_mb", "cpu_model", "kernel", "machine_os",
                                              "disk_cache_fs", "disk_cache_size_gb", "disk_cache_free_gb",
                                              "loadavg_start", "loadavg_end")},
        "facts": facts, "figures": figures, "ratios": ratios, "targets": targets,
        "phases": {p: phases[p] for p in seen + [p for p in phases if p not in seen]},
    }
    with open(outdir + "/bench.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=False)
        f.write("\n")

    def row(what, name, unit, scale=1.0):
        vals = runs(name)
        if not vals:
            return None
        return "| %s | %s | %s | %d |" % (what, fmt(median(vals) * scale, unit),
                                           fmt(min(vals) * scale) + " – " + fmt(max(vals) * scale), len(vals))

    md = []
    md.append("# vps-provision benchmark (%s, %s)" % (facts.get("date"), facts.get("mode")))
    md.append("")
    md.append("Machine: %s cores, %s MB RAM, %s; kernel %s; test-host disk %s (%s GB, %s GB free); "
              "load average %s at start, %s at end. Commit %s, build %s. IDE phases: %s." % (
                  facts.get("cores"), facts.get("ram_mb"), facts.get("cpu_model", "").replace("_", " "),
                  facts.get("kernel"), facts.get("disk_cache_fs"), facts.get("disk_cache_size_gb"),
                  facts.get("disk_cache_free_gb"), facts.get("loadavg_start"), facts.get("loadavg_end"),
                  facts.get("commit"), facts.get("build_type"), facts.get("ides")))
    md.append("")
    if hosts:
        subset = facts.get("quick_subset", "").replace("+", " ")
        md.append("Plan packages: %s (kept out: %s)%s." % (
            facts.get("plan_packages", "").replace("+", " "),
            facts.get("plan_excluded", "").replace("+", " ") or "none",
            "; quick mode installs only %s in 1 and 2" % subset if quick else ""))
        md.append("")
    md.append("| measurement | median | min – max | runs |")
    md.append("|---|---|---|---|")
    for r in [
        row("1 limit: apt-get update + one apt-get install", "limit_s", "s"),
        row("1 … of which apt-get install", "limit_install_s", "s"),
        row("2 per-package: apt-get update + one install per package", "perpkg_s", "s"),
        row("2 … of which the installs", "perpkg_install_s", "s"),
        row("3 vps-provision --unattended, full run", "full_s", "s"),
        row("4 re-run on the provisioned host", "rerun_s", "s"),
        row("5 exec → first wizard screen painted", "startup_wizard_ms", "ms"),
        row("5 exec → --help done", "startup_help_ms", "ms"),
        row("5 (floor: exec → /bin/true done)", "startup_true_ms", "ms"),
        row("6 peak RSS, full run", "full_rss_kib", "MiB", 1 / 1024.0),
        row("6 CPU of vps-provision itself, full run", "full_cpu_self_s", "s"),
        row("6 CPU of its children, full run", "full_cpu_children_s", "s"),
        row("6 peak RSS, re-run", "rerun_rss_kib", "MiB", 1 / 1024.0),
        row("6 CPU of vps-provision itself, re-run", "rerun_cpu_self_s", "s"),
        row("6 CPU of its children, re-run", "rerun_cpu_children_s", "s"),
        row("7 flood through the engine, headless (--plain > /dev/null)", "ui_headless_ms", "ms"),
        row("7 flood through the engine, dashboard in tmux", "ui_dashboard_ms", "ms"),
        row("7 flood through the engine, --json > /dev/null", "ui_json_ms", "ms"),
        row("7 peak RSS during the flood, headless", "ui_headless_rss_kib", "MiB", 1 / 1024.0),
        row("7 peak RSS during the flood, dashboard", "ui_dashboard_rss_kib", "MiB", 1 / 1024.0),
        row("7 CPU of vps-provision during the flood, headless", "ui_headless_cpu_self_s", "s"),
        row("7 CPU of vps-provision during the flood, dashboard", "ui_dashboard_cpu_self_s", "s"),
        row("packages added: limit", "limit_packages", ""),
        row("packages added: per-package", "perpkg_packages", ""),
        row("packages added: full run", "full_packages", ""),
        row("packages only the limit added", "packages_only_limit", ""),
        row("packages only the full run added", "packages_only_full", ""),
    ]:
        if r:
            md.append(r)
    md.append("")
    md.append("| ratio | value |")
    md.append("|---|---|")
    for key, what in (("full_over_limit", "(3) full run / (1) limit"),
                      ("perpkg_over_limit", "(2) per-package / (1) limit"),
                      ("ui_dashboard_over_headless", "(7) dashboard / headless (--plain)"),
                      ("ui_dashboard_over_headless_cpu", "(7) dashboard / headless, CPU of the program"),
                      ("ui_json_over_headless", "(7) --json / --plain")):
        md.append("| %s | %s |" % (what, "—" if ratios[key] is None else "%.3f" % ratios[key]))
    md.append("")
    md.append("| target | measured | verdict |")
    md.append("|---|---|---|")
    for t in targets:
        verdict = "—" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        md.append("| %s | %s | %s%s |" % (t["target"], fmt(t["value"], t["unit"]), verdict,
                                          (" (" + t["note"] + ")") if t["note"] else ""))
    md.append("")
    md.append("| phase (median wall time, state) | full run | re-run |")
    md.append("|---|---|---|")
    def secs(ms):
        return None if ms is None else ms / 1000.0

    for p, v in result["phases"].items():
        md.append("| %s | %s (%s) | %s (%s) |" % (p, fmt(secs(v.get("full_ms")), "s"), v.get("full_state", ""),
                                                  fmt(secs(v.get("rerun_ms")), "s"), v.get("rerun_state", "")))
    text = "\n".join(md) + "\n"
    with open(outdir + "/bench.md", "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def cmd_sources(catalog, keyring):
    with open(catalog, encoding="utf-8") as f:
        cat = json.load(f)
    stanzas = []
    for ide in cat.get("ides", []):
        apt = ide.get("apt") or {}
        if not apt.get("uri") or not apt.get("suite"):
            continue
        stanzas.append("Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n" % (
            apt["uri"], apt["suite"], " ".join(apt.get("components") or ["main"]), keyring))
    if not stanzas:
        return 1
    sys.stdout.write("\n".join(stanzas))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "packages":
        return cmd_packages(argv[2])
    if len(argv) == 3 and argv[1] == "phases":
        return cmd_phases(argv[2])
    if len(argv) == 4 and argv[1] == "sources":
        return cmd_sources(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "report":
        return cmd_report(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
