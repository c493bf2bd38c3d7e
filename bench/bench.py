#!/usr/bin/env python3
"""Side-by-side benchmark: `argocd-tailscale-plugin generate` against
`helm template` of the equivalent protected-services chart (bench/
protected-services), at 10, 1,000 and 10,000 services, plus the Teleport
upstream case. Prints a Markdown table; --write puts it into
bench/README.md between the RESULTS markers.

    python3 bench/bench.py [--runs 7] [--write]

Needs a release build (cargo build --release) and helm (bash
.ci/install-helm prints a directory holding a pinned one).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, "target", "release", "argocd-tailscale-plugin")
CHART = os.path.join(ROOT, "bench", "protected-services")
SIZES = [10, 1_000, 10_000]


def values(n):
    """n services, half direct and half ingress, across 50 namespaces, as
    the YAML a team would write."""
    lines = ["services:"]
    for i in range(n):
        ns = f"team-{i % 50}"
        lines.append(f"  svc-{i}:")
        lines.append("    enabled: true")
        lines.append(f"    namespace: {ns}")
        if i % 2 == 0:
            lines += [
                "    direct: true",
                f"    backend: {{name: backend-{i}, port: 443}}",
                "    selector:",
                f"      app.kubernetes.io/name: app-{i}",
                "      app.kubernetes.io/component: server",
                "    targetPort: 8443",
            ]
        else:
            lines += ["    direct: false", f"    backend: {{name: backend-{i}, port: 80}}"]
    return "\n".join(lines) + "\n"


def measure(command, cwd, runs):
    """Median wall time (ms) and the largest peak RSS (MB) over runs."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M"] + command,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        walls.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
        peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(walls), max(peaks)


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    helm = subprocess.run(["helm", "version", "--short"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, helm {helm}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(PLUGIN):
        sys.exit("build first: cargo build --release")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = os.path.join(tmp, f"values-{n}.yaml")
            with open(path, "w") as f:
                f.write(values(n))
            plugin = measure([PLUGIN, "generate", "--repo-root", tmp, "-f", path], tmp, args.runs)
            helm = measure(["helm", "template", "bench", CHART, "-f", path], tmp, args.runs)
            rows.append((f"{n:,} services", plugin, helm))
    teleport = os.path.join(ROOT, "examples", "teleport-story", "teleport", "values.yaml")
    plugin = measure([PLUGIN, "generate", "-f", teleport], ROOT, args.runs)
    rows.append(("Teleport upstream (chart manifests, split)", plugin, None))

    lines = [
        f"Machine: {machine()}. Median of {args.runs} runs each, wall time of the whole process; peak RSS is the largest of the runs.",
        "",
        "| input | plugin | plugin peak RSS | helm template | helm peak RSS | helm / plugin |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (pw, pm), helm in rows:
        if helm:
            hw, hm = helm
            lines.append(f"| {name} | {pw:.1f} ms | {pm:.1f} MB | {hw:.1f} ms | {hm:.1f} MB | {hw / pw:.1f}× |")
        else:
            lines.append(f"| {name} | {pw:.1f} ms | {pm:.1f} MB | – | – | – |")
    one_k, ten_k = rows[1][1][0], rows[2][1][0]
    lines += ["", f"Growth from 1,000 to 10,000 services: plugin {ten_k / one_k:.1f}×, helm {rows[2][2][0] / rows[1][2][0]:.1f}×."]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        readme = os.path.join(ROOT, "bench", "README.md")
        with open(readme) as f:
            text = f.read()
        start, end = "<!-- RESULTS -->\n", "<!-- /RESULTS -->\n"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        with open(readme, "w") as f:
            f.write(head + start + table + end + tail)


if __name__ == "__main__":
    main()
