# Alliance's container image: the release binary on a small Debian base, run as a user without
# privileges. Build: `docker build -t alliance .` (see docs/deploy.md).

# ---- build ---------------------------------------------------------------------------
FROM rust:1.87-bookworm AS build
WORKDIR /src
COPY . .
# Only the binary: the test and benchmark dependencies are not built.
RUN cargo build --release --locked -p alliance --bin alliance \
 && install -m 0755 target/release/alliance /usr/local/bin/alliance

# ---- run -----------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 alliance \
 && useradd --system --uid 10001 --gid alliance --home-dir /var/lib/alliance --create-home alliance
COPY --from=build /usr/local/bin/alliance /usr/local/bin/alliance
USER alliance:alliance
WORKDIR /var/lib/alliance
# SQLite deployments keep their database here; PostgreSQL ones set ALLIANCE_DB.
VOLUME ["/var/lib/alliance"]
ENV ALLIANCE_DB=sqlite:///var/lib/alliance/alliance.db \
    ALLIANCE_LOG_FORMAT=json
EXPOSE 8080
# Docker's own health check: the liveness probe (an orchestrator should also use /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM (docker stop) lets requests in flight finish (up to 30 s) before exiting 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["alliance"]
CMD ["serve", "--bind", "0.0.0.0", "--port", "8080"]
