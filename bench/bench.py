#!/usr/bin/env python3
"""Side-by-side benchmark: `argocd-tailscale-plugin generate` against
`helm template` of the equivalent protected-services chart (bench/
protected-services), at 10, 1,000 and 10,000 services and at 1,000 through
`--templates`, interleaved run by run; plus a 10,000-object upstream
stream, the Teleport upstream case and the start-up floor (`--version`).
Prints a Markdown table; --write puts it into bench/README.md between the
RESULTS markers.

    python3 bench/bench.py [--runs 7] [--write]

Needs the build that ships (cargo build --profile dist) and helm (bash
.ci/install-helm prints a directory holding a pinned one).
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, "target", "dist", "argocd-tailscale-plugin")
CHART = os.path.join(ROOT, "bench", "protected-services")
SIZES = [10, 1_000, 10_000]
# Rounds, at least, for the smallest input and the start-up floor.
SMALL_RUNS = 51


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


def once(command, cwd):
    """Wall time (ms) and peak RSS (MB) of one run."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M"] + command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def interleaved(commands, cwd, runs):
    """Runs the commands in turn, `runs` rounds, so a slow spell of the
    machine hits all of them alike; median wall time and largest peak RSS
    of each. Each round starts one command later than the one before, so
    no command always runs right after the same other one (a short run
    after helm starts colder than one after the plugin)."""
    samples = [([], []) for _ in commands]
    for r in range(runs):
        for i in range(len(commands)):
            at = (r + i) % len(commands)
            wall, peak = once(commands[at], cwd)
            samples[at][0].append(wall)
            samples[at][1].append(peak)
    return [(statistics.median(w), max(p)) for w, p in samples]


def upstream_stream(n):
    """n upstream objects (Deployments and their Services), and values
    that expose ten of the Services directly: the split, the derived
    selectors and the pass-through of everything else."""
    docs = []
    for i in range(n // 2):
        labels = f"{{app.kubernetes.io/name: app-{i}, app.kubernetes.io/component: server}}"
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: team-{i % 50}}}\n"
            f"spec:\n  selector: {{matchLabels: {labels}}}\n  template:\n    metadata: {{labels: {labels}}}\n"
            f"    spec: {{containers: [{{name: app, image: example/app:1, ports: [{{name: https, containerPort: 8443}}]}}]}}\n"
        )
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: team-{i % 50}}}\n"
            f"spec: {{selector: {labels}, ports: [{{name: https, port: 443, targetPort: https}}]}}\n"
        )
    values = ["upstream: [{file: upstream.yaml}]", "services:"]
    for i in range(10):
        values.append(f"  svc-{i}: {{namespace: team-{i % 50}, expose: direct, backend: {{name: app-{i}, port: 443}}}}")
    return "---\n".join(docs), "\n".join(values) + "\n"


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
        sys.exit("build first: cargo build --profile dist")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = os.path.join(tmp, f"values-{n}.yaml")
            with open(path, "w") as f:
                f.write(values(n))
            commands = [
                [PLUGIN, "generate", "--repo-root", tmp, "-f", path],
                ["helm", "template", "bench", CHART, "-f", path],
            ]
            runs = args.runs
            if n == SIZES[0]:
                # The start-up floor is measured in the same rounds as the
                # smallest input, which it is held against: a round after a
                # long run of something else starts colder. Both take a few
                # milliseconds, so they get more rounds.
                commands.append([PLUGIN, "--version"])
                runs = max(args.runs, SMALL_RUNS)
            plugin, helm, *rest = interleaved(commands, tmp, runs)
            if rest:
                floor = rest[0]
            rows.append((f"{n:,} services", plugin, helm))
            if n == 1_000:
                # The same through copies of the built-in templates, which
                # are then rendered as text and read back.
                templates = os.path.join(tmp, "templates")
                shutil.copytree(os.path.join(ROOT, "templates"), templates, dirs_exist_ok=True)
                plugin, helm = interleaved(
                    [
                        [PLUGIN, "generate", "--repo-root", tmp, "--templates", templates, "-f", path],
                        ["helm", "template", "bench", CHART, "-f", path],
                    ],
                    tmp,
                    args.runs,
                )
                rows.append(("1,000 services via `--templates` (copies of the built-ins)", plugin, helm))
        stream, stream_values = upstream_stream(10_000)
        with open(os.path.join(tmp, "upstream.yaml"), "w") as f:
            f.write(stream)
        with open(os.path.join(tmp, "upstream-values.yaml"), "w") as f:
            f.write(stream_values)
        teleport = os.path.join(ROOT, "examples", "teleport-story", "teleport", "values.yaml")
        upstream, teleport_row = interleaved(
            [
                [PLUGIN, "generate", "--repo-root", tmp, "-f", os.path.join(tmp, "upstream-values.yaml")],
                [PLUGIN, "generate", "--repo-root", ROOT, "-f", teleport],
            ],
            tmp,
            args.runs,
        )
        rows.append(("10,000-object upstream stream (split, 10 direct, pass-through)", upstream, None))
        rows.append(("Teleport upstream (chart manifests, split)", teleport_row, None))
        rows.append(("floor: `argocd-tailscale-plugin --version` (process start-up)", floor, None))

    lines = [
        f"Machine: {machine()}. Median of {args.runs} runs each ({max(args.runs, SMALL_RUNS)} for 10 services and the floor, measured in the same rounds), wall time of the whole process; peak RSS is the largest of the runs.",
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
    by_name = {name: (plugin, helm) for name, plugin, helm in rows}
    one_k, one_k_helm = by_name["1,000 services"]
    ten_k, ten_k_helm = by_name["10,000 services"]
    ten, _ = by_name["10 services"]
    floor = rows[-1][1]
    lines += [
        "",
        f"Growth from 1,000 to 10,000 services: plugin {ten_k[0] / one_k[0]:.1f}×, helm {ten_k_helm[0] / one_k_helm[0]:.1f}×. "
        f"10 services take {ten[0] / floor[0]:.2f}× the start-up floor.",
    ]
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
