#!/usr/bin/python3
"""bench/report.py: turn run.sh's per-round results (TSV) into the markdown report.

usage: report.py RESULTS.tsv "name|label" ...   (labels in table order)
Context comes from the environment: BENCH_DATE, BENCH_MACHINE, BENCH_VERSIONS,
BENCH_PARAMS. Medians are taken over the rounds that succeeded; the CPU ratios to
the plain evhttp server and to the epoll floor are medians of the per-round ratios
(same round, same machine state), which is why the rounds are interleaved.
"""
import os
import re
import statistics
import sys

FIELDS = ["name", "round", "status", "rps", "p50", "p99", "cpu", "rss", "requests", "note"]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (len(FIELDS) - len(parts))
            rows.append(dict(zip(FIELDS, parts)))
    return rows


def ms(us):
    if us is None:
        return "–"
    return f"{us / 1000:.2f}" if us < 100_000 else f"{us / 1000:.0f}"


def merge_notes(per_round):
    """Notes of several rounds, one entry per kind: "read errors 3/75",
    "CPU 0 55/43% busy with other processes"; other notes once each."""
    kinds = {}  # (prefix, suffix) -> numbers, in round order
    plain = []
    for note in per_round:
        if not note or note == "-":
            continue
        for item in note.split("; "):
            m = re.match(r"^(.*\D)?(\d+)(\D*)$", item)
            if m:
                kinds.setdefault((m.group(1) or "", m.group(3)), []).append(m.group(2))
            elif item not in plain:
                plain.append(item)
    return [f"{pre}{'/'.join(nums) if len(set(nums)) > 1 else nums[0]}{suf}"
            for (pre, suf), nums in kinds.items()] + plain


REFERENCES = ("plain", "floor")  # the CPU ratio columns: × plain evhttp, × the epoll floor


def summarise(rows, names):
    ref_by_round = {ref: {r["round"]: num(r["cpu"]) for r in rows if r["name"] == ref and r["status"] == "ok"}
                    for ref in REFERENCES}
    out = {}
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        ok = [r for r in mine if r["status"] == "ok"]
        s = {"rounds": len(mine), "ok": len(ok)}
        notes = []
        if ok:
            for key in ("rps", "p50", "p99", "cpu", "rss"):
                s[key] = statistics.median(num(r[key]) for r in ok)
            cpus = [num(r["cpu"]) for r in ok]
            s["cpu_min"], s["cpu_max"] = min(cpus), max(cpus)
            for ref in REFERENCES:
                by_round = ref_by_round[ref]
                ratios = [num(r["cpu"]) / by_round[r["round"]] for r in ok if by_round.get(r["round"])]
                s["ratio_" + ref] = statistics.median(ratios) if ratios else None
            if len(ok) < len(mine):
                notes.append(f"{len(ok)}/{len(mine)} rounds ok")
        else:
            s["status"] = mine[0]["status"] if mine else "not run"
        notes += merge_notes(r["note"] for r in mine)
        s["noisy"] = any("busy with other processes" in r["note"] for r in mine)
        s["notes"] = notes
        out[name] = s
    return out


def main():
    rows = load(sys.argv[1])
    order = [a.split("|", 1) for a in sys.argv[2:]]
    names = [n for n, _ in order]
    s = summarise(rows, names)
    p = print
    p(f"# subhttpd benchmark, {os.environ.get('BENCH_DATE', '')}")
    p()
    p(f"- machine: {os.environ.get('BENCH_MACHINE', '?')}")
    p(f"- load: {os.environ.get('BENCH_PARAMS', '?')}")
    p(f"- versions: {os.environ.get('BENCH_VERSIONS', '?')}")
    p("- body: `Hello, world!\\n` (text/plain) from every target; CPU = utime+stime of the server's processes "
      "from /proc, before and after the load, divided by the requests completed; medians over the rounds")
    p()
    p("| target | req/s | p50 ms | p99 ms | CPU µs/req | CPU × plain | CPU × floor | RSS MB | notes |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, label in order:
        x = s[name]
        if x["ok"]:
            rng = f" ({x['cpu_min']:.1f}–{x['cpu_max']:.1f})" if x["ok"] > 1 else ""
            ratios = " | ".join(f"{x['ratio_' + ref]:.2f}" if x.get("ratio_" + ref) is not None else "–"
                                for ref in REFERENCES)
            p(f"| {label} | {x['rps']:,.0f} | {ms(x['p50'])} | {ms(x['p99'])} | {x['cpu']:.1f}{rng} | {ratios} "
              f"| {x['rss'] / 1024:.1f} | {'; '.join(x['notes'])} |")
        else:
            p(f"| {label} | {x['status']} | | | | | | | {'; '.join(x['notes'])} |")
    p()

    # The targets of issue 12 (the HTTP/1.1 layer), where the run has the figures to judge them.
    checks = []

    def have(*ns):
        return all(n in s and s[n]["ok"] for n in ns)

    for name, what, goal in (("subhttpd-modpython", "mod_python handler", 0.8),
                             ("subhttpd-wsgi", "WSGI app", 0.9),
                             ("subhttpd-static", "static file", 1.0)):
        if have("plain", name) and s[name].get("ratio_plain") is not None:
            r = s[name]["ratio_plain"]
            checks.append((f"{what} CPU/req ≤ {goal}× plain evhttp", f"{r:.2f}×", r <= goal, ("plain", name)))
        if have("uwsgi", name):
            a, b = s[name]["cpu"], s["uwsgi"]["cpu"]
            checks.append((f"{what} CPU/req below uWSGI's", f"{a:.1f} vs {b:.1f} µs", a < b, ("uwsgi", name)))
        if have("floor", name) and s[name].get("ratio_floor") is not None:
            r = s[name]["ratio_floor"]
            checks.append((f"(stretch) {what} CPU/req ≤ 1.5× the epoll floor", f"{r:.2f}×", r <= 1.5,
                           ("floor", name)))
    for name, what in (("subhttpd-modpython", "mod_python handler"), ("subhttpd-wsgi", "WSGI app")):
        if have("plain", name):
            a, b = s[name]["p99"], s["plain"]["p99"]
            checks.append((f"{what} p99 ≤ plain evhttp p99", f"{ms(a)} vs {ms(b)} ms", a <= b, ("plain", name)))
    if have("subhttpd-vhosts", "subhttpd-modpython"):
        r = s["subhttpd-vhosts"]["rps"] / s["subhttpd-modpython"]["rps"]
        checks.append(("vhosts round-robin req/s ≥ 0.9× one vhost", f"{r:.2f}×", r >= 0.9,
                       ("subhttpd-vhosts", "subhttpd-modpython")))
    if checks:
        p("Targets of issue 12 in this run:")
        p()
        p("| target | measured | met |")
        p("|---|---|---|")
        for what, val, met, who in checks:
            verdict = "yes" if met else "**no**"
            if any(s[n]["noisy"] for n in who):
                verdict += " (unreliable: other processes shared the server's CPU)"
            p(f"| {what} | {val} | {verdict} |")
        p()

    rounds = sorted({r["round"] for r in rows}, key=int)
    if len(rounds) > 1:
        p("CPU µs/req per round:")
        p()
        p("| target | " + " | ".join(f"round {r}" for r in rounds) + " |")
        p("|---|" + "---:|" * len(rounds))
        for name, label in order:
            cells = []
            for rd in rounds:
                m = [r for r in rows if r["name"] == name and r["round"] == rd]
                cells.append(m[0]["cpu"] if m and m[0]["status"] == "ok" else (m[0]["status"] if m else ""))
            p(f"| {name} | " + " | ".join(cells) + " |")
        p()


if __name__ == "__main__":
    main()
