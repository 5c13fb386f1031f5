# syntax=docker/dockerfile:1
#
# def in a container: `docker build -t def:0.1.0 .`, then e.g.
#   docker run --rm def:0.1.0                       # the bundled assembly-line example
#   docker run --rm -v "$PWD/configs:/etc/def:ro" -e DEF_CONFIG=/etc/def -e DEF_SEED=42 def:0.1.0 run
# Every flag of `def run` and `def backend` is also a DEF_* variable (docs/scale-out.md);
# deploy/kubernetes/ runs this image as sharded generators and as the load backend.
# Checked offline with hadolint (scripts/deploy-check.sh), as there is no Docker engine in CI.

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS build
# librdkafka is built from its bundled sources (make, a C compiler); it links OpenSSL and zlib
# from the system. Versions come with the pinned Debian release, so apt packages are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Cargo reads every target the manifest declares, so the benches and examples come too
# (the bundled example config is compiled into the binary from examples/).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
RUN cargo build --release --locked --bin def \
    && install -m 0755 target/release/def /usr/local/bin/def

FROM debian:${DEBIAN}-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/def --create-home \
        --shell /usr/sbin/nologin def
COPY --from=build /usr/local/bin/def /usr/local/bin/def
# The bundled example as a file too, to copy and edit (`def run` alone runs the built-in copy).
COPY examples/assembly-line.yaml /usr/share/def/examples/assembly-line.yaml
# A writable working directory for file sinks; the root filesystem can stay read-only.
WORKDIR /var/lib/def
USER 10001:10001
ENTRYPOINT ["def"]
CMD ["run"]
