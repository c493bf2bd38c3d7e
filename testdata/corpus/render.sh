#!/usr/bin/env bash
# Re-renders the real-chart corpus with helm, from charts you have on disk:
#
#   bash testdata/corpus/render.sh CHART_NAME CHART_DIR
#
# CHART_NAME is a folder here (podinfo, argo-cd, grafana, teleport-cluster);
# CHART_DIR is that chart's source at the version its README names. Every
# values-<config>.yaml in the folder renders into <config>.yaml with the
# release and namespace in the folder's `release` file. Nothing is fetched:
# the chart's source stays out of this repository, only its output is kept.
set -euo pipefail
name="$1"
chart="$2"
here="$(cd "$(dirname "$0")/$name" && pwd)"
read -r release namespace < "$here/release"
version="$(sed -n 's/^version: *//p' "$chart/Chart.yaml" | head -n 1)"
for values in "$here"/values-*.yaml; do
  config="$(basename "$values" .yaml)"
  config="${config#values-}"
  {
    echo "# $name $version, rendered by $(helm version --short) with:"
    echo "#   helm template $release $name --version $version --namespace $namespace -f values-$config.yaml"
    echo "# Re-render: bash testdata/corpus/render.sh $name <chart source>"
    helm template "$release" "$chart" --namespace "$namespace" -f "$values"
  } > "$here/$config.yaml"
done
