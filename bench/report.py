#!/usr/bin/env python3
"""Renders scripts/bench's report from the results JSON bench/run.py writes.

Usage: bench/report.py RESULTS.json [--out FILE] [--no-plot]

  --out FILE   report file (default BENCHMARKS.md); the plot goes to bench/throughput-ratio.png
  --no-plot    do not draw bench/throughput-ratio.png
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (  # noqa: E402  (the configuration table and helpers the measurement uses)
    ATTACK, CONFIGS, ENVOY, KIB, MIB, MOCK, NOOP_WASM, PG_WASM, PLOT, ROOT, SCAN_CONFIG,
    SCAN_REQUESTS, SCAN_WARMUP, START_TARGET, STARTUP_CONFIGS, TARGETS, VENV_PY, WASM_TARGET,
    fmt_kib, load_results, median, pin, say,
)


# ---------------------------------------------------------------------------------------------
# Report


def summary(ctx, name, tok):
    rs = ctx["results"].get(name, {}).get(tok)
    if not rs:
        return None
    return {
        "rps": median([r["rps"] for r in rs]),
        "p50": median([r["p50_us"] for r in rs]) / 1000,
        "p99": median([r["p99_us"] for r in rs]) / 1000,
        "cpu": median([r["cpu_us_per_req"] for r in rs]),
        "util": median([r["cpu_util"] for r in rs]),
        "n": len(rs),
    }


def ratio(ctx, name, tok):
    s, ref = summary(ctx, name, tok), summary(ctx, "envoy", tok)
    if not s or not ref or not ref["rps"]:
        return None
    return s["rps"] / ref["rps"]


def cpu_ratio(ctx, name, tok):
    """Envoy alone's CPU per request over this config's: the throughput ratio to expect when Envoy
    is the bottleneck (robust when the client side limits the measured req/s)."""
    s, ref = summary(ctx, name, tok), summary(ctx, "envoy", tok)
    if not s or not ref or not s["cpu"]:
        return None
    return ref["cpu"] / s["cpu"]


def cmd_out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def size_workload(ctx, tok):
    return ctx.get("size_workloads", {}).get(tok, ctx.get("workload", "identical"))


def plot_workload(ctx):
    """The workload the plot draws (one per picture): --workload's when some size ran with it,
    otherwise the one most sizes ran with (ties: alphabetical). None: no body sizes."""
    wls = [size_workload(ctx, tok) for tok, _, stream in ctx["sizes"] if not stream]
    if not wls:
        return None
    default = ctx.get("workload", "identical")
    if default in wls:
        return default
    return sorted(set(wls), key=lambda w: (-wls.count(w), w))[0]


def target_checks(ctx):
    rows = []
    measured = {tok: n for tok, n, stream in ctx["sizes"] if not stream}
    for label, want_size, workload, minimum in TARGETS:
        what = f"CPU-cost ratio at {label} `{workload}` >= {minimum:.2f}"
        # Nearest measured size within a factor of 2 (so "~2 KiB" is judged at 1 or 2 or 4 KiB),
        # on the target's workload.
        cands = [(abs(n - want_size), tok, n) for tok, n in measured.items()
                 if want_size / 2 <= n <= want_size * 2 and size_workload(ctx, tok) == workload]
        hint = f"run --sizes {want_size // KIB}k@{workload}" if want_size < MIB else f"run --sizes 1m@{workload}"
        if not cands:
            rows.append((what, "not measured", hint))
            continue
        _, tok, n = min(cands)
        r = cpu_ratio(ctx, "promptgate", tok)
        where = f"measured at {tok}" + ("" if n == want_size else f" (nearest size run; {hint})")
        if r is None:
            rows.append((what, "not measured", where))
        else:
            tr = ratio(ctx, "promptgate", tok)
            rows.append((what, f"{r:.2f}", ("met" if r >= minimum else "**NOT met**") + f", {where}"
                         + ("" if tr is None else f"; throughput ratio {tr:.2f}")))
    size = os.path.getsize(PG_WASM)
    rows.append((f"promptgate.wasm <= {WASM_TARGET // 1000} KB (after wasm-opt)", f"{size:,} B",
                 "met" if size <= WASM_TARGET else "**NOT met**"))
    st = plugin_start(ctx)
    if st is None:
        rows.append((f"plugin start <= {START_TARGET} s", "not measured", "-"))
    else:
        rows.append((f"plugin start <= {START_TARGET} s", f"{st:.3f} s",
                     ("met" if st <= START_TARGET else "**NOT met**") +
                     ", time to first 200 with promptgate minus without (medians)"))
    return rows


def plugin_start(ctx):
    su = ctx["startup"]
    if not su.get("promptgate") or not su.get("envoy"):
        return None
    a = [s["first"] for s in su["promptgate"] if s.get("first")]
    b = [s["first"] for s in su["envoy"] if s.get("first")]
    if not a or not b:
        return None
    return median(a) - median(b)


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


def ttft_section(ctx, toks):
    """Time to first token of the streamed rows (bench/run.py measure_ttft), and for
    promptgate-guard the paired per-run ratio to promptgate (the same run, back to back)."""
    L = []
    streams = [tok for tok, _, stream in ctx["sizes"] if stream]
    if not streams:
        return L
    L.append("## Time to first token (streamed answers)\n")
    L.append("A client sends sequential streamed requests (200 per run after 10 uncounted) on one "
             "keep-alive connection and times each from sending the request to the first byte of "
             "the answer's body (the first SSE event); p50 and p90 over every run's samples. "
             "*added* is the p50 minus Envoy alone's.\n")
    L.append("| size | config | TTFT p50 ms | p90 ms | added p50 ms | samples |")
    L.append("|---|---|---:|---:|---:|---:|")
    for tok in streams:
        ref = [x for r in ctx["results"].get("envoy", {}).get(tok, []) for x in r.get("ttft_s", [])]
        for c in ctx["configs"]:
            xs = [x for r in ctx["results"].get(c, {}).get(tok, []) for x in r.get("ttft_s", [])]
            if not xs:
                continue
            added = f"{(median(xs) - median(ref)) * 1000:+.3f}" if ref and c != "envoy" else "-"
            L.append(f"| {tok} | `{c}` | {median(xs) * 1000:.3f} | {percentile(xs, 0.9) * 1000:.3f} | "
                     f"{added} | {len(xs)} |")
    L.append("")
    pairs = []
    for tok in streams:
        g = ctx["results"].get("promptgate-guard", {}).get(tok, [])
        b = ctx["results"].get("promptgate", {}).get(tok, [])
        for i, (rg, rb) in enumerate(zip(g, b)):
            tg, tb = rg.get("ttft_s"), rb.get("ttft_s")
            pairs.append(f"| {tok} | {i + 1} | {rb['rps']:.0f} | {rg['rps']:.0f} | "
                         f"{rg['rps'] / rb['rps']:.3f} | {rb['cpu_us_per_req']:.0f} | "
                         f"{rg['cpu_us_per_req']:.0f} | "
                         + (f"{(median(tg) - median(tb)) * 1000:+.3f} |" if tg and tb else "- |"))
    if pairs:
        L.append("### Output guard on / off, paired per run\n")
        L.append("`promptgate-guard` against `promptgate` in the same run (the same Envoy settings "
                 "and bodies, one after the other): the guard's cost with the machine's load of "
                 "that moment on both sides.\n")
        L.append("| size | run | promptgate req/s | guard req/s | guard / off | off CPU µs/req | "
                 "guard CPU µs/req | added TTFT p50 ms |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        L.extend(pairs)
        L.append("")
    return L


def render_report(ctx):
    L = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    short = ctx["runs"] < 3 or ctx["duration"] < 10
    L.append("# promptgate benchmarks\n")
    L.append("Written by `scripts/bench` (it overwrites this file). Re-run it on a quiet machine for "
             "figures worth quoting.\n")
    if short:
        L.append(f"> **Smoke run: noisy, indicative only.** {ctx['runs']} run(s) of "
                 f"{ctx['duration']:g} s per row on a shared machine (load average "
                 f"{' '.join(ctx['loadavg'][0])} at start, {' '.join(ctx['loadavg'][1])} at end). "
                 "Full runs use the defaults: 3 runs of 10 s, median reported.\n")
    L.append("## Run\n")
    L.append(f"- date: {now}")
    L.append(f"- command: `{ctx['command']}`")
    workload = ctx.get("workload", "identical")
    others = sorted({(tok, wl) for tok, wl in ctx.get("size_workloads", {}).items() if wl != workload})
    if others:
        L.append("- per-size workloads (`SIZE@WORKLOAD` columns): "
                 + ", ".join(f"`{tok}` {wl}" for tok, wl in others))
    L.append(f"- workload: `{workload}`" + {
        "identical": " (the same body on every request: unrealistic for anything that caches "
                     "per body or per message, where every request would hit)",
        "fresh": " (every body distinct)",
        "conversation": " (each request adds a turn to a growing history, up to the size; "
                        "bodies average about half of it)",
    }.get(workload, ""))
    L.append(f"- machine: {os.cpu_count()} CPUs (`nproc` {cmd_out(['nproc'])}), {cpu_model()}, "
             f"Linux {platform.release()}")
    L.append(f"- load average at start / end: {' '.join(ctx['loadavg'][0])} / "
             f"{' '.join(ctx['loadavg'][1])}")
    L.append(f"- Envoy: {cmd_out([ENVOY, '--version']).split('version:')[-1].strip()}, "
             "`--concurrency 1`, log level info to a file")
    wrkv = cmd_out(["sh", "-c", "wrk -v 2>&1 | head -n 1"])
    L.append(f"- load: {wrkv or 'wrk'}, 1 thread, {ctx['connections']} connections, "
             f"{ctx['runs']} timed run(s) of {ctx['duration']:g} s per row after a "
             f"{ctx['warmup']:g} s warm-up; req/s, p50 and p99 are the medians over the runs "
             "(each taken separately); the configurations are interleaved and their order "
             "rotates per run")
    pinned = bool(pin(0))
    L.append("- placement: " + ("Envoy pinned to core 1; wrk and the mock model pinned to core 0 "
                                "(`taskset`), so the proxy has a core to itself and the client "
                                "does not steal its cycles" if pinned else "not pinned (1 CPU)"))
    mock_name = os.path.relpath(MOCK, ROOT) if MOCK.startswith(ROOT + os.sep) else MOCK
    L.append(f"- upstream: `{mock_name}` on 127.0.0.1 (answers every chat request "
             "with a short completion; SSE with `\"stream\": true`)")
    L.append(f"- buffer limit (listener and cluster `per_connection_buffer_limit_bytes`): "
             f"{ctx['buffer_limit']} bytes for every configuration")
    L.append("- every request is a `POST /v1/chat/completions` with an OpenAI chat body "
             "(benign garden-shop chat text, about 2 KiB per turn, ending on a user turn); "
             "sizes are the whole body: "
             + ", ".join(f"{tok} = {b[3]} bytes" + (" (SSE response)" if b[2] else "")
                         for tok, b in ctx["bodies"].items()))
    L.append("")

    L.append("## Configurations\n")
    L.append("| name | what | Envoy filters before the router |")
    L.append("|---|---|---|")
    chains = {
        "envoy": "none (`bench/envoy/router.yaml.tmpl`)",
        "noop-wasm": "`envoy.filters.http.wasm`, `bench/noop-filter` (returns Continue everywhere), "
                     "V8, same bootstrap as promptgate (`envoy/envoy.yaml.tmpl`)",
        "read-floor-wasm": "the no-op filter with `bench/noop-filter/read-bodies.json`: reads the "
                           "request header map and holds the headers, buffers and copies the "
                           "request body, reads the response header map and each response body "
                           "chunk (the floor of any filter that decides on the body and reads usage)",
        "promptgate": "`envoy.filters.http.wasm` promptgate.wasm, `bench/configs/default.json` (`{}`)",
        "promptgate-guard": "promptgate.wasm, `bench/configs/guard.json` (the defaults + "
                            "`response_guard` with every detector on: leakage with a canary, "
                            "secrets, PII of every type, links)",
        "promptgate-no-audit": "promptgate.wasm, `bench/configs/no-audit.json` (defaults with the "
                               "per-request audit event off: the glue's buffering and metrics)",
        "promptgate-inspection": "promptgate.wasm, `bench/configs/inspection.json`",
        "promptgate-limits": "promptgate.wasm, `bench/configs/limits.json`",
        "promptgate-limits-rls": "promptgate.wasm, `bench/configs/limits-rls.json` "
                                 "(`promptgate-limiter` + `redis-server` on loopback)",
        "lua": "`envoy.filters.http.lua`: buffers the body, lower-cases it, 10 Lua patterns "
               "(prompt injection, SQLi), 403 on a match (`bench/envoy/lua.yaml.tmpl`)",
        "local-ratelimit": "`envoy.filters.http.local_ratelimit`, bucket of 10^9 tokens refilled "
                           "every second (`bench/envoy/local-ratelimit.yaml.tmpl`)",
    }
    for c in ctx["configs"]:
        L.append(f"| `{c}` | {CONFIGS[c]['label']} | {chains[c]} |")
    L.append("")
    if ctx["skipped"]:
        L.append("Skipped (Envoy refused the configuration; usually a config section whose feature "
                 "has not landed yet):\n")
        for c, why in ctx["skipped"].items():
            L.append(f"- `{c}`: {why.replace(chr(96), chr(39))}")
        L.append("")

    L.append("## Targets (promptgate with default settings)\n")
    L.append("The ratios are CPU-cost ratios (Envoy alone's CPU per request over promptgate's, same "
             "run; issue 16), each on the workload it names: a target's row needs that size run "
             "with that workload (`--sizes 2k@fresh,256k@fresh,256k@conversation,1m@fresh`).\n")
    L.append("| target | this run | verdict |")
    L.append("|---|---|---|")
    for t, v, verdict in target_checks(ctx):
        L.append(f"| {t} | {v} | {verdict} |")
    L.append("")

    toks = [tok for tok, *_ in ctx["sizes"]]
    L.append("## Throughput ratio to Envoy alone\n")
    L.append("| config | " + " | ".join(toks) + " |")
    L.append("|---|" + "---:|" * len(toks))
    for c in ctx["configs"]:
        if c in ctx["skipped"]:
            continue
        cells = []
        for tok in toks:
            r = ratio(ctx, c, tok)
            cells.append("FAILED" if (c, tok) in ctx["failures"] else ("-" if r is None else f"{r:.2f}"))
        L.append(f"| `{c}` | " + " | ".join(cells) + " |")
    L.append("")
    if plot_workload(ctx) is not None:
        L.append(f"![throughput ratio against body size, `{plot_workload(ctx)}` workload]"
                 "(bench/throughput-ratio.png)\n")
    L.append("### CPU-cost ratio to Envoy alone\n")
    L.append("Envoy alone's CPU time per request divided by the configuration's (Envoy process, all "
             "threads): the throughput ratio to expect where Envoy, not the client, is the "
             "bottleneck. Compare it with the table above when Envoy alone does not saturate its "
             "core.\n")
    L.append("| config | " + " | ".join(toks) + " |")
    L.append("|---|" + "---:|" * len(toks))
    for c in ctx["configs"]:
        if c in ctx["skipped"]:
            continue
        cells = []
        for tok in toks:
            r = cpu_ratio(ctx, c, tok)
            cells.append("FAILED" if (c, tok) in ctx["failures"] else ("-" if r is None else f"{r:.2f}"))
        L.append(f"| `{c}` | " + " | ".join(cells) + " |")
    L.append("")
    unsat = [(tok, summary(ctx, "envoy", tok)["util"]) for tok in toks
             if summary(ctx, "envoy", tok) and summary(ctx, "envoy", tok)["util"] < 0.85]
    if unsat:
        L.append("> **Client-bound reference:** Envoy alone used only "
                 + ", ".join(f"{u * 100:.0f} % of its core at {tok}" for tok, u in unsat)
                 + ". There, req/s is limited by wrk + the mock model (core 0) or by the "
                 "machine's other load, not by the proxy, and the req/s ratios say little about "
                 "the filters' cost: read the CPU-cost ratios.\n")

    L.append("## Results\n")
    L.append("Envoy CPU is the Envoy process's CPU time (all threads, from /proc) over the run: "
             "per request, and as a share of one core. When Envoy alone stays well below 100 % of "
             "its core, the client side (wrk + mock model on core 0) is the bottleneck and the "
             "ratios understate the filters' cost; CPU per request then compares them better.\n")
    L.append("| size | config | req/s | ratio | p50 ms | p99 ms | Envoy CPU µs/req | Envoy CPU % | runs |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for tok in toks:
        for c in ctx["configs"]:
            if c in ctx["skipped"]:
                continue
            if (c, tok) in ctx["failures"]:
                L.append(f"| {tok} | `{c}` | **FAILED** | | | | | | |")
                continue
            s = summary(ctx, c, tok)
            if not s:
                continue
            r = ratio(ctx, c, tok)
            L.append(f"| {tok} | `{c}` | {s['rps']:.0f} | {'-' if r is None else f'{r:.2f}'} | "
                     f"{s['p50']:.2f} | {s['p99']:.2f} | {s['cpu']:.0f} | {s['util'] * 100:.0f} | {s['n']} |")
    L.append("")
    L.extend(ttft_section(ctx, toks))
    if ctx["failures"]:
        L.append("### Failed rows\n")
        L.append("A row fails when the pre-flight request is not a 200 with the mock's answer, when "
                 "wrk sees any non-2xx response or socket error, or when promptgate counts a "
                 "decision other than `allowed`. Its figures would not measure the filter.\n")
        for (c, tok), why in ctx["failures"].items():
            L.append(f"- `{c}` {tok}: {why.replace(chr(96), chr(39))}")
        L.append("")
    notes = {c: n for c, n in ctx["notes"].items() if n}
    if notes:
        L.append("Checks that the filter is in the path: " + "; ".join(
            f"`{c}`: {n}" for c, n in notes.items()) + ".\n")

    L.append("## Memory\n")
    L.append("Envoy's resident memory (/proc/PID/status) after each configuration's run (all sizes), "
             "median VmRSS and highest VmHWM (peak) over the runs.\n")
    L.append("| config | VmRSS | VmHWM (peak) |")
    L.append("|---|---:|---:|")
    for c in ctx["configs"]:
        ms = ctx["mem"].get(c) or []
        if ms:
            L.append(f"| `{c}` | {median([m['VmRSS'] for m in ms]) / 1024:.1f} MiB | "
                     f"{max(m['VmHWM'] for m in ms) / 1024:.1f} MiB |")
    L.append("")

    L.append("## Size and start-up\n")
    L.append(f"- `promptgate.wasm`: {os.path.getsize(PG_WASM)} bytes ({fmt_kib(os.path.getsize(PG_WASM))})")
    if os.path.exists(NOOP_WASM):
        L.append(f"- `noop_filter.wasm`: {os.path.getsize(NOOP_WASM)} bytes "
                 f"({fmt_kib(os.path.getsize(NOOP_WASM))}); both release builds (LTO, stripped)")
    L.append("")
    su = ctx["startup"]
    if su:
        L.append(f"Envoy started {ctx['startup_runs']} times per configuration (pinned like the runs); "
                 "medians. *ready*: process start to `GET /ready` = 200; *first 200*: process start "
                 "to the first chat request answered 200 through the listener (includes the "
                 "worker's VM); *listener load*: Envoy log time from `loading 1 listener(s)` to "
                 "`loading stats configuration`, where the wasm VM is compiled and configured on "
                 "the main thread; *to dispatch loop*: log time from `initializing epoch 0` to "
                 "`starting main dispatch loop`.\n")
        L.append("| config | ready | first 200 | listener load | to dispatch loop | starts |")
        L.append("|---|---:|---:|---:|---:|---:|")

        def ms(samples, key):
            xs = [s[key] for s in samples if s.get(key) is not None]
            return f"{median(xs) * 1000:.0f} ms" if xs else "-"

        for c, samples in su.items():
            L.append(f"| `{c}` | {ms(samples, 'ready')} | {ms(samples, 'first')} | "
                     f"{ms(samples, 'listener_load')} | {ms(samples, 'to_loop')} | {len(samples)} |")
        st = plugin_start(ctx)
        if st is not None:
            L.append(f"\nPlugin start (first 200 with promptgate minus Envoy alone): **{st * 1000:.0f} ms**.")
        L.append("")

    L.append("## Native scan cost\n")
    if ctx["native"] is None:
        L.append("Not measured: there is no `promptgate-eval` binary yet (`cargo run --release --bin "
                 "promptgate-eval -- --bench` will exist once inspection lands).\n")
    else:
        rc, out = ctx["native"]
        L.append(f"`cargo run --release --bin promptgate-eval -- --bench` (exit status {rc}):\n")
        L.append("```\n" + out + "\n```\n")
    L.append("## Wasm operators per request\n")
    rc, out = ctx["wasm_ops"]
    L.append("Deterministic (does not move with the machine's load): wasm operators the module "
             "executes for one forwarded chat request, counted with wasmtime fuel under the test "
             "host (`cargo test --test wasm_cost -- --nocapture`, exit status "
             f"{rc}; the test fails if the cost per byte above 256 KiB exceeds the one below by "
             "15 %). Configurations as in the throughput table. Operators are not time (V8 turns "
             "`local.get`/`set` into nothing), but they A/B an optimisation without noise.\n")
    L.append(out + "\n" if rc == 0 else "```\n" + out + "\n```\n")
    L.append("## Inspection cost inside Envoy (V8)\n")
    if not ctx.get("in_envoy"):
        L.append(f"Not measured (needs the `{SCAN_CONFIG}` configuration).\n")
    else:
        L.append(f"From promptgate's own `promptgate_scan_duration_us` histogram: extraction + "
                 f"inspection of the buffered body inside Envoy's V8, mean of {SCAN_REQUESTS} "
                 f"sequential requests per size (`{SCAN_CONFIG}` configuration), after "
                 f"{SCAN_WARMUP} uncounted warm-up requests per size (built-in rule regexes "
                 f"compile on their first anchor hit).\n")
        L.append("| body | µs per request | MB/s | µs per KiB |")
        L.append("|---|---:|---:|---:|")
        for tok, r in ctx["in_envoy"].items():
            per_kib = r["us"] / (r["bytes"] / KIB)
            L.append(f"| {fmt_kib(r['bytes'])} | {r['us']:.1f} | {r['mb_s'] or 0:.1f} | "
                     f"{per_kib:.2f} |")
        L.append("")
    notes_file = os.path.join(ROOT, "bench/optimisations.md")
    if os.path.exists(notes_file):
        # hand-maintained: what each optimisation bought (measured separately, see the file)
        with open(notes_file) as f:
            L.append(f.read().rstrip() + "\n")
    return "\n".join(L)


PLOT_CODE = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = json.load(open(sys.argv[1]))
fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
panels = [("series", "throughput ratio to Envoy alone (req/s)"),
          ("cpu_series", "CPU-cost ratio to Envoy alone (CPU/request)")]
top = 1.15
for ax, (key, ylabel) in zip(axes, panels):
    for name, pts in d[key].items():
        if not pts:
            continue
        xs, ys = zip(*pts)
        top = max(top, max(ys) * 1.08)
        ax.plot(xs, ys, marker="o", label=name, linewidth=2.5 if name == "promptgate" else 1.2)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    tx, ty = zip(*d["targets"])
    ax.plot(tx, ty, linestyle="none", marker="v", markersize=10, color="red",
            label="promptgate target (min)")
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 16, 256, 1024])
    ax.set_xticklabels(["1 KiB", "2 KiB", "16 KiB", "256 KiB", "1 MiB"])
    ax.set_xlabel("request body size")
    ax.set_title(ylabel, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
axes[0].set_ylim(0, top)
axes[0].set_ylabel("ratio (1.0 = as fast as Envoy alone)")
fig.suptitle(d["title"], fontsize=11)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
"""


def plot(ctx):
    series, cpu_series = {}, {}
    for c in ctx["configs"]:
        if c == "envoy" or c in ctx["skipped"]:
            continue
        for out, fn in ((series, ratio), (cpu_series, cpu_ratio)):
            pts = []
            for tok, n, stream in ctx["sizes"]:
                r = fn(ctx, c, tok)
                if (not stream and r is not None and (c, tok) not in ctx["failures"]
                        and size_workload(ctx, tok) == plot_workload(ctx)):
                    pts.append((ctx["bodies"][tok][3] / KIB, r))
            out[c] = sorted(pts)
    if not any(series.values()):
        say("plot: nothing to plot")
        return
    if not os.path.exists(VENV_PY):
        say("plot skipped: no .venv (run scripts/setup)")
        return
    if subprocess.run([VENV_PY, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        say("installing matplotlib into .venv")
        if subprocess.run([os.path.join(ROOT, ".venv/bin/pip"), "install", "-q",
                           "--disable-pip-version-check", "matplotlib"]).returncode != 0:
            say("plot skipped: could not install matplotlib")
            return
    title = (f"{'SMOKE RUN (noisy) - ' if ctx['runs'] < 3 or ctx['duration'] < 10 else ''}"
             f"{ctx['runs']} x {ctx['duration']:g} s, {ctx['connections']} connections, "
             f"workload {plot_workload(ctx)}, "
             f"{datetime.date.today()}")
    data = {"series": series, "cpu_series": cpu_series, "title": title,
            # The targets of the plotted workload (all of them when none is on it, e.g. identical).
            "targets": [(s / KIB, m) for _, s, wl, m in TARGETS
                        if wl == plot_workload(ctx)]
            or [(s / KIB, m) for _, s, _, m in TARGETS]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data, f)
    try:
        p = subprocess.run([VENV_PY, "-c", PLOT_CODE, f.name, PLOT], capture_output=True, text=True)
        if p.returncode != 0:
            say(f"plot failed: {p.stderr.strip()[-500:]}")
        else:
            say(f"wrote {os.path.relpath(PLOT, ROOT)}")
    finally:
        os.unlink(f.name)



def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1], add_help=False)
    ap.add_argument("results")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("-h", "--help", action="store_true")
    if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
        print(__doc__.strip())
        return 0
    a = ap.parse_args()
    ctx = load_results(a.results)
    with open(a.out, "w") as f:
        f.write(render_report(ctx))
    say(f"wrote {os.path.relpath(a.out)}")
    if not a.no_plot:
        plot(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
