# syntax=docker/dockerfile:1
# The `anomalog` binary (all-in-one server) and the dashboard on a slim Debian
# image. Used by docker-compose.yml; `docker build -t anomalog .` works on its own.
# Cargo's registry and target directory are BuildKit cache mounts: a rebuild
# after a source change recompiles only the workspace crates, not the
# dependencies.

# ---- the dashboard: site/ (its own wasm workspace) built to site/dist -------
FROM rust:1.95-slim-bookworm AS site
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add wasm32-unknown-unknown
WORKDIR /src
# The tools first (wasm-bindgen-cli of the locked version, binaryen from npm):
# this layer is rebuilt only when the site's lock files change.
COPY scripts/lib.sh scripts/lib.sh
COPY site/Cargo.toml site/Cargo.lock site/package.json site/package-lock.json site/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    bash -c '. scripts/lib.sh && ensure_site_tools'
COPY scripts scripts
COPY site site
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/site/target \
    ./scripts/build-site --force

# ---- the server ------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p anomalog-cli \
    && cp target/release/anomalog /usr/local/bin/anomalog

FROM debian:bookworm-slim
RUN useradd --system --create-home --uid 10001 anomalog
COPY --from=build /usr/local/bin/anomalog /usr/local/bin/anomalog
COPY --from=site /src/site/dist /usr/share/anomalog/site
USER anomalog
WORKDIR /home/anomalog
EXPOSE 8080
ENTRYPOINT ["anomalog"]
CMD ["up", "--addr", "0.0.0.0:8080", "--site-dir", "/usr/share/anomalog/site"]
