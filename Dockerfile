# The stub as a container image: the static linux binary from `make dist` on
# an empty base, so nothing needs pulling. Build it with `make image`, which
# passes dist/ as the context.
FROM scratch

ARG TARGETARCH=amd64
ARG VERSION=dev

LABEL org.opencontainers.image.title="osm-stub" \
      org.opencontainers.image.description="Contract-validated stub of Huawei Cloud's OSM ticket-association API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/osmstub/osmstub"

COPY osm-stub_linux_${TARGETARCH} /osm-stub
# An empty /data owned by the stub's user: a named volume mounted there
# inherits that owner, so -store sqlite:/data/osm.db works without a chown.
COPY --chown=65532:65532 data/ /data/

# Every flag has an OSM_STUB_* variable (osm-stub -h). Inside the container
# the stub listens on every interface; publish the port on 127.0.0.1 unless
# others should reach it. The control API (/_stub/) is off: it changes the
# whole state, so turn it on with OSM_STUB_CONTROL=true together with
# OSM_STUB_CONTROL_TOKEN (every /_stub/ call then needs that bearer token).
ENV OSM_STUB_ADDR=0.0.0.0:8080 \
    OSM_STUB_CONTROL=false \
    OSM_STUB_LOG_FORMAT=json

# A numeric non-root user: scratch has no /etc/passwd.
USER 65532:65532
EXPOSE 8080

# scratch has no curl: the binary checks its own /healthz.
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["/osm-stub", "healthcheck"]

ENTRYPOINT ["/osm-stub"]
