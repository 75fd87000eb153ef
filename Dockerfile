# syntax=docker/dockerfile:1
#
# uxprobe with Chromium and fonts, running as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t uxprobe .
#   docker run --rm -p 9747:9747 --shm-size=1g uxprobe
#
# --shm-size: Chrome shares rendered pages through /dev/shm, and Docker's
# default of 64 MiB makes tabs crash. If Chrome fails to start with "No
# usable sandbox", the runtime forbids the user namespaces that Chrome's
# sandbox needs (Docker's default seccomp profile does): add
# `run --browser.no-sandbox /etc/uxprobe/flows` after the image name.

# The build stage runs on the build machine's platform and cross-compiles,
# so multi-platform builds need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION} -X github.com/prometheus/common/version.Branch=${BRANCH} -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/uxprobe ./cmd/uxprobe

# The example flows, so the image runs something out of the box; the cp
# fails the build if they move.
RUN mkdir -p /out/flows && cp scenarios/examples/*.yaml /out/flows/


# axe-core, the engine of the accessibility audit, from npm as its users
# install it, at the version the Makefile pins (AXE_VERSION). The script is
# the same on every platform, so this stage runs on the build machine's.
FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS axe
ARG AXE_VERSION=4.10.3
RUN npm install --no-audit --no-fund --prefix /axe axe-core@${AXE_VERSION}


FROM debian:bookworm-slim

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="uxprobe" \
      org.opencontainers.image.description="Synthetic UX monitoring: drives headless Chromium through user flows on desktop, mobile and tablet devices and exports Prometheus metrics" \
      org.opencontainers.image.source="https://github.com/uxprobe/uxprobe" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# Chromium's headless shell (what uxprobe runs: Chrome's engine without the
# browser around it), fonts for Latin text and emoji (pages render and lay out as they
# do for users, which matters for layout shift), CA certificates for HTTPS
# sites, and curl for the HEALTHCHECK. Sites in Chinese, Japanese or Korean
# need fonts-noto-cjk too (about 90 MB more).
# Chrome's helper processes are reaped by their parents while Chrome lives;
# after a crash, run the container with an init (docker run --init, or
# shareProcessNamespace in Kubernetes) so that orphans do not linger.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium-headless-shell \
      fonts-liberation \
      fonts-noto-color-emoji \
      ca-certificates \
      curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 uxprobe \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/uxprobe \
      --shell /usr/sbin/nologin uxprobe

COPY --from=build /out/uxprobe /usr/bin/uxprobe
COPY --from=build /out/flows/ /etc/uxprobe/flows/
# Where uxprobe looks for axe-core when neither --audit.axe-path nor
# UXPROBE_AXE_PATH says; its MPL-2.0 licence goes with it.
COPY --from=axe /axe/node_modules/axe-core/axe.min.js /axe/node_modules/axe-core/LICENSE /usr/share/uxprobe/axe-core/

ENV UXPROBE_BROWSER=/usr/lib/chromium/chromium-headless-shell
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001
WORKDIR /home/uxprobe
EXPOSE 9747

# Assumes the default --web.listen-address and no TLS or basic auth from
# --web.config.file; change or drop it (--no-healthcheck) when those differ.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9747/-/healthy"]

ENTRYPOINT ["uxprobe"]
CMD ["run", "/etc/uxprobe/flows"]
