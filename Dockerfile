# syntax=docker/dockerfile:1
#
# CliniConnects Identity — the IdP (./idp/cmd/idp) as a container image.
# Pure Go: built with CGO_ENABLED=0. Used by docker-compose.yml's idp service.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Module files first so the download layer is cached across source edits.
# The admin app (Fyne, cgo) is not part of this image: drop it from the
# workspace so its dependencies are never fetched.
COPY go.work go.work.sum* ./
COPY idp/go.mod idp/go.sum* idp/
COPY shared/go.mod shared/go.sum* shared/
COPY migrations/go.mod migrations/go.sum* migrations/
# idp/go.mod replaces zxcvbn with this fork (see its FORK.md); the module
# graph cannot be loaded without its go.mod.
COPY idp/third_party/zxcvbn/go.mod idp/third_party/zxcvbn/go.sum idp/third_party/zxcvbn/
RUN go work edit -dropuse=./adminapp
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY idp/ idp/
COPY shared/ shared/
COPY migrations/ migrations/
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/idp ./idp/cmd/idp

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin idp \
 && mkdir -p /data \
 && chown idp:idp /data \
 && chmod 700 /data
COPY --from=build /out/idp /usr/local/bin/idp

USER idp
ENV IDP_LISTEN=0.0.0.0:8080 \
    IDP_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/idp"]
CMD ["serve"]
