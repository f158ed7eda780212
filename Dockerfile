# msnd in a container (README, "Running a public server"):
#
#   docker build -t msnd .
#   docker volume create msnd-data
#   docker run --rm -v msnd-data:/var/lib/msnd msnd \
#     cert generate --key-type rsa --out /var/lib/msnd/tls --host msn.example.net
#   docker run -d --name msnd --restart unless-stopped -v msnd-data:/var/lib/msnd \
#     -p 1863:1863 -p 1864:1864 -p 1865:1865 -p 80:8080 -p 443:8443 \
#     -e MSND_SERVER__PUBLIC_HOST=msn.example.net msnd
#   docker exec msnd msnd user add alice@hotmail.com --password secret
#   docker cp msnd:/var/lib/msnd/tls/msnd-cert.pem .   # for the clients to trust
#
# Configuration comes from MSND_<SECTION>__<KEY> variables (or a file:
# mount it and add `--config /etc/msnd/msnd.toml` after `serve`). HTTPS is
# on (port 8443 in the container) with the OpenSSL backend, built with the
# 3DES suite Windows XP needs, and the certificate in the volume: without
# one the server stops at start and says so (set
# MSND_HTTP__HTTPS_PORT=0 to run without HTTPS).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# legacy-tls-vendored: OpenSSL built from source with the weak TLS ciphers
# Debian leaves out (3DES for Windows XP), linked statically.
RUN cargo build --release --locked -p msnd --features legacy-tls-vendored \
 && install -m 755 target/release/msnd /usr/local/bin/msnd

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 msnd \
 && useradd --system --uid 10001 --gid msnd --home-dir /var/lib/msnd \
      --shell /usr/sbin/nologin msnd \
 && mkdir -p /var/lib/msnd /etc/msnd \
 && chown msnd:msnd /var/lib/msnd
COPY --from=build /usr/local/bin/msnd /usr/local/bin/msnd

# Unprivileged ports inside the container: publish 80 and 443 on the host
# (-p 80:8080 -p 443:8443). The notification and switchboard ports are
# advertised to clients as they are bound: publish them unchanged.
ENV MSND_SERVER__DATA_DIR=/var/lib/msnd \
    MSND_HTTP__PORT=8080 \
    MSND_HTTP__HTTPS_PORT=8443 \
    MSND_HTTP__TLS_BACKEND=openssl \
    MSND_HTTP__TLS_CERT=/var/lib/msnd/tls/msnd-cert.pem \
    MSND_HTTP__TLS_KEY=/var/lib/msnd/tls/msnd-key.pem
# Numeric, so that runtimes can tell it is not root (runAsNonRoot).
USER 10001:10001
WORKDIR /var/lib/msnd
VOLUME /var/lib/msnd
EXPOSE 1863 1864 1865 8080 8443
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s \
  CMD ["msnd", "healthcheck"]
ENTRYPOINT ["msnd"]
CMD ["serve"]
