# syntax=docker/dockerfile:1
# The repo-server sidecar: argocd-cmp-server (from Argo CD's var-files volume)
# runs this plugin. The image holds a static plugin binary, helm and
# kustomize from their official release archives (checksums verified), CA
# certificates and plugin.yaml; nothing else.
#
# One image per architecture, linux/amd64 and linux/arm64:
#   docker buildx build --platform linux/amd64,linux/arm64 -t IMAGE --push .
# Versions and checksums are build arguments; the defaults are the releases
# this version is tested with. The sums are the ones each project publishes
# beside its archives (helm: <archive>.sha256sum; kustomize: checksums.txt).

# --- a static (musl) release binary for the target architecture ------------
# Built on the target platform (natively, or emulated by buildx): the musl
# targets link statically with their bundled C runtime, and the image's gcc
# serves as the linker for the architecture it runs on.
FROM rust:1.95-slim-bookworm AS build
ARG TARGETARCH
WORKDIR /src
# musl-gcc compiles mimalloc's C sources (the allocator, src/guard.rs) for
# the musl target.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/*
RUN case "${TARGETARCH}" in \
      amd64) echo x86_64-unknown-linux-musl > /rust-target ;; \
      arm64) echo aarch64-unknown-linux-musl > /rust-target ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && rustup target add "$(cat /rust-target)"
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
RUN cargo build --locked --profile dist --target "$(cat /rust-target)" \
    && cp "target/$(cat /rust-target)/dist/argocd-tailscale-plugin" /argocd-tailscale-plugin

# --- helm and kustomize, from their release archives -----------------------
# Downloads only, so this stage runs on the build machine's platform.
FROM --platform=$BUILDPLATFORM alpine:3.22 AS tools
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
ARG TARGETARCH
ARG HELM_VERSION=v4.1.4
ARG HELM_SHA256_AMD64=70b2c30a19da4db264dfd68c8a3664e05093a361cefd89572ffb36f8abfa3d09
ARG HELM_SHA256_ARM64=13d03672be289045d2ff00e4e345d61de1c6f21c1257a45955a30e8ae036d8f1
ARG KUSTOMIZE_VERSION=v5.6.0
ARG KUSTOMIZE_SHA256_AMD64=54e4031ddc4e7fc59e408da29e7c646e8e57b8088c51b84b3df0864f47b5148f
ARG KUSTOMIZE_SHA256_ARM64=ad8ab62d4f6d59a8afda0eec4ba2e5cd2f86bf1afeea4b78d06daac945eb0660
WORKDIR /tools
RUN case "${TARGETARCH}" in \
      amd64) helm_sha256="${HELM_SHA256_AMD64}"; kustomize_sha256="${KUSTOMIZE_SHA256_AMD64}" ;; \
      arm64) helm_sha256="${HELM_SHA256_ARM64}"; kustomize_sha256="${KUSTOMIZE_SHA256_ARM64}" ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && wget -q -O helm.tar.gz "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" \
    && echo "${helm_sha256}  helm.tar.gz" | sha256sum -c - \
    && tar -xzf helm.tar.gz "linux-${TARGETARCH}/helm" \
    && mv "linux-${TARGETARCH}/helm" helm \
    && wget -q -O kustomize.tar.gz "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}/kustomize_${KUSTOMIZE_VERSION}_linux_${TARGETARCH}.tar.gz" \
    && echo "${kustomize_sha256}  kustomize.tar.gz" | sha256sum -c - \
    && tar -xzf kustomize.tar.gz kustomize \
    && chmod 0755 helm kustomize \
    && rm -rf ./*.tar.gz "linux-${TARGETARCH}"

# --- runtime ---------------------------------------------------------------
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /argocd-tailscale-plugin /usr/local/bin/argocd-tailscale-plugin
COPY --from=tools /tools/helm /tools/kustomize /usr/local/bin/
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
# uid 999 like the repo-server, so it can reach cmp-server's socket; /tmp is
# the sidecar's own emptyDir, and helm keeps its state there.
ENV PATH=/usr/local/bin \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
USER 999:999
# argocd-cmp-server is not in this image: the repo-server's copyutil init
# container puts it on the shared var-files volume.
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
