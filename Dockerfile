# Multi-stage build of leadhook-server: a release build, then a small runtime image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p leadhook-server

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/leadhook --create-home leadhook \
 && install -d -m 700 -o leadhook -g leadhook /var/lib/leadhook/data
COPY --from=build /src/target/release/leadhook-server /usr/local/bin/leadhook-server
USER leadhook
WORKDIR /var/lib/leadhook
# /metrics stays on the container's loopback (127.0.0.1:9464) unless LEADHOOK_METRICS_ADDR opens it
# to a private network, as deploy/compose.replicas.yaml does; never publish that port.
ENV LEADHOOK_LISTEN=0.0.0.0:8080 \
    LEADHOOK_DATA_DIR=/var/lib/leadhook/data
VOLUME ["/var/lib/leadhook/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
# A Dockerfile cannot set resource limits: the server raises its soft open-file limit to the hard
# one at start, and Docker's default hard limit is large. Where it is not, run with
#   docker run --ulimit nofile=65536:65536 ...
# (Compose: `ulimits: {nofile: {soft: 65536, hard: 65536}}`).
ENTRYPOINT ["leadhook-server"]
CMD ["serve"]
