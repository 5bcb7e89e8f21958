# syntax=docker/dockerfile:1
# The pave image: `pave serve` (catalog API, portal, admission webhook, metrics) as a non-root
# user on a read-only root filesystem. Build (docs/operations.md, "Deploying on Kubernetes"):
#   docker build -t pave:dev .
#   docker build --target runtime-git -t pave:dev-git .   # with git and ssh for git sources

# Build: the workspace's minimum Rust (Cargo.toml `rust-version`), dependencies exactly as
# Cargo.lock says, the `dist` profile (release without debug info, stripped: ~140 MB less).
FROM rust:1.94-trixie AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist -p pave \
    && install -D -m 0755 target/dist/pave /out/pave \
    && install -d -m 0750 /out/data/data /out/data/cache

# A runtime with git and ssh, for catalogs read from git repositories: pave fetches them with
# the git CLI. Not the default: `docker build --target runtime-git`.
FROM debian:trixie-slim AS runtime-git
# Versions are not pinned (hadolint DL3008): the base tag fixes the Debian release, whose point
# releases replace package versions (security fixes); a pinned version stops building then.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/pave /usr/local/bin/pave
COPY --from=build --chown=65532:65532 /out/data /var/lib/pave
ENV HOME=/var/lib/pave \
    XDG_DATA_HOME=/var/lib/pave/data \
    XDG_CACHE_HOME=/var/lib/pave/cache \
    PAVE_ADDR=0.0.0.0:7007 \
    PAVE_LOG_FORMAT=json
WORKDIR /var/lib/pave
USER 65532:65532
EXPOSE 7007 8443
VOLUME ["/var/lib/pave"]
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/pave"]
CMD ["serve"]

# Run (default): distroless with glibc and libgcc (what the binary links) and the CA bundle;
# no shell, no package manager. Data (the SQLite file when no PostgreSQL is configured, and
# the cache of git checkouts and HTTP mirrors) lives on the volume at /var/lib/pave, so the
# root filesystem can be read-only. Kubernetes probes /healthz and /readyz on port 7007
# instead of a HEALTHCHECK (the image has no client to run one).
FROM gcr.io/distroless/cc-debian13:nonroot AS runtime
COPY --from=build /out/pave /usr/local/bin/pave
COPY --from=build --chown=65532:65532 /out/data /var/lib/pave
ENV HOME=/var/lib/pave \
    XDG_DATA_HOME=/var/lib/pave/data \
    XDG_CACHE_HOME=/var/lib/pave/cache \
    PAVE_ADDR=0.0.0.0:7007 \
    PAVE_LOG_FORMAT=json
WORKDIR /var/lib/pave
USER 65532:65532
EXPOSE 7007 8443
VOLUME ["/var/lib/pave"]
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/pave"]
CMD ["serve"]
