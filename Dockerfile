# syntax=docker/dockerfile:1
#
# The vov API as a small image: build with the Rust toolchain, run on Debian slim.
#
#   docker build -t vov .
#   docker run -p 8080:8080 -v vov-data:/app/data vov        # embedded SQLite in /app/data
#   docker run ... -e DATABASE_URL=postgres://... -e VOV_JWT_SECRET=... vov
#
# Other commands: `docker run --rm vov migrate`, `... seed-demo`, `... openapi`,
# `... create-admin --email you@example.org`.

# ---- build ------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependencies first, against an empty crate, so that this layer stays cached until
# Cargo.toml or Cargo.lock changes. build.rs is part of the manifest's package.
COPY Cargo.toml Cargo.lock build.rs ./
# A patched sqlx-core (see vendor/README.md) is a dependency: it must be here too.
COPY vendor ./vendor
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources. sqlx::migrate! embeds migrations/ and src/api/mod.rs include_str!s
# docs/api-description.md at compile time, so both are needed here, not at run time.
COPY migrations ./migrations
COPY docs/api-description.md ./docs/api-description.md
COPY src ./src
# Drop the empty crate's artefacts: COPY keeps the files' own times, which may be older
# than the cached build, and cargo would then keep the empty binary.
RUN cargo clean --release --package vov \
    && cargo build --release --locked \
    && install -D -m 0755 target/release/vov /out/vov

# ---- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates for TLS to a managed database. No curl: the health check below uses
# bash's /dev/tcp, which the slim image already has. ca-certificates is not pinned: Debian
# replaces its versions in place, and a pin would break the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 vov \
    && useradd --system --uid 10001 --gid vov --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin vov \
    && mkdir -p /app/data \
    && chown vov:vov /app/data

COPY --from=build /out/vov /usr/local/bin/vov

WORKDIR /app
# The default DATABASE_URL is sqlite://data/vov.db, i.e. /app/data/vov.db, with the
# generated token secret beside it: keep /app/data on a volume.
VOLUME ["/app/data"]
ENV VOV_HOST=0.0.0.0 \
    VOV_PORT=8080
EXPOSE 8080
USER 10001:10001

# Liveness: the process serves HTTP (/health/live never touches the database, so a
# database outage does not mark the container unhealthy; compose checks /health/ready).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${VOV_PORT:-8080} && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["/usr/local/bin/vov"]
CMD ["serve"]
