#!/usr/bin/env bash
# Runs the container image as a user would and replays the association
# session of docs/api.md ("## Associations with curl") against it with the
# real curl (the README's session opens tickets, whose IDs carry the day):
#   bash .ci/image-test.sh osmstub/osm-stub:TAG
# Needs a docker daemon and curl; `make test-image` calls it after `make image`.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:?usage: image-test.sh IMAGE}
name=osm-stub-image-test-$$
fail() { echo "image-test: $*" >&2; exit 1; }
cleanup() {
  if [ "${keep_logs:-}" = 1 ]; then docker logs "$name" 2>&1 | tail -n 50 >&2 || true; fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm "$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT
keep_logs=1

# The image's promises: a numeric non-root user, the healthcheck, port 8080.
user=$(docker image inspect -f '{{.Config.User}}' "$image")
[ "$user" = 65532:65532 ] || fail "image user is '$user', want 65532:65532"
docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$image" | grep -q healthcheck \
  || fail "image has no HEALTHCHECK running osm-stub healthcheck"
docker run --rm "$image" version | grep -q '^osm-stub ' || fail "osm-stub version failed in the image"

# The published port is chosen by docker, on loopback only.
docker run -d --name "$name" -p 127.0.0.1::8080 "$image" >/dev/null
hostport=$(docker port "$name" 8080/tcp | head -n 1)
[ -n "$hostport" ] || fail "no published port"
echo "image-test: $image on http://$hostport"

# Wait for docker to call a container healthy (the HEALTHCHECK runs every 5 s).
wait_healthy() {
  local status=
  for _ in $(seq 1 60); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$1")
    case $status in
      healthy) return 0 ;;
      unhealthy) fail "$1 became unhealthy" ;;
    esac
    [ "$(docker inspect -f '{{.State.Running}}' "$1")" = true ] || fail "$1 exited"
    sleep 1
  done
  fail "$1 not healthy after 60 s (status $status)"
}
wait_healthy "$name"
echo "image-test: healthy"

# The association session of docs/api.md: each "$ curl ..." of its console blocks
# (lines ending in a backslash joined; a single-quoted argument may go on
# over lines, as cmd/osm-stub/docs_test.go allows) and the lines after it
# up to the next command or the end of the block, which are the expected
# answer.
steps=$(awk '
  function emit() { gsub(/\n/, "\001", cmd); print "C " cmd; cmd = "" }
  /^## / { insec = ($0 == "## Associations with curl"); if (done) exit; if (insec) done = 1; next }
  !insec { next }
  /^```console/ { inblock = 1; next }
  /^```/ { inblock = 0; next }
  !inblock { next }
  function more() { if (gsub(/'"'"'/, "&", cmd) % 2) return "quote"; return sub(/ *\\$/, "", cmd) ? "join" : "" }
  cont == "quote" { cmd = cmd "\n" $0; cont = more(); if (!cont) emit(); next }
  cont == "join" { line = $0; sub(/^ +/, "", line); cmd = cmd " " line; cont = more(); if (!cont) emit(); next }
  /^\$ / { cmd = substr($0, 3); cont = more(); if (!cont) emit(); next }
  { print "O " $0 }
' docs/api.md)
[ -n "$steps" ] || fail "no curl session found in docs/api.md"

n=0; cmd=; want=
check() {
  [ -n "$cmd" ] || return 0
  case $cmd in curl\ *) ;; *) fail "not a curl command in the session: $cmd" ;; esac
  local got
  got=$(eval "${cmd//http:\/\/127.0.0.1:8080/http://$hostport}")
  # request ids differ on every run; the page shows them as "..."
  got=$(printf '%s' "$got" | sed -E 's/"request_id":"[0-9a-f]{32}"/"request_id":"..."/g')
  if [ "$got" != "$want" ]; then
    printf 'image-test: $ %s\ngot:\n%s\ndocs/api.md says:\n%s\n' "$cmd" "$got" "$want" >&2
    exit 1
  fi
  n=$((n + 1))
}
while IFS= read -r line; do
  case $line in
    "C "*) check; cmd=${line#C }; cmd=${cmd//$'\001'/$'\n'}; want= ;;
    "O "*) want=${want:+$want$'\n'}${line#O } ;;
  esac
done <<<"$steps"
check
[ "$n" -ge 5 ] || fail "only $n curl steps found in the session of docs/api.md"
echo "image-test: $n curl steps of docs/api.md answered as documented"

docker stop -t 10 "$name" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] || fail "non-zero exit after docker stop"
docker rm "$name" >/dev/null

# The SQLite store on a named volume, as docs/containers.md shows: the non-root user
# must be able to write /data.
docker run -d --name "$name" -v "$name:/data" -e OSM_STUB_STORE=sqlite:/data/osm.db "$image" >/dev/null
wait_healthy "$name"
echo "image-test: healthy on a SQLite file in a named volume"
docker rm -f "$name" >/dev/null
docker volume rm "$name" >/dev/null
keep_logs=0
echo "image-test: ok"
