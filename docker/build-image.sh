#!/usr/bin/env bash
# Build a local restate-server image FROM scratch out of a static restate-server binary.
#
#   docker/build-image.sh BINARY [TAG] [CA_BUNDLE]
#
# BINARY     path to a static (musl) restate-server, e.g. the one `python -m restate_testing provision` prints
# TAG        image tag (default restate-sdk-py/restate-server:<version reported by the binary>)
# CA_BUNDLE  CA certificates file (default /etc/ssl/certs/ca-certificates.crt)
#
# Idempotent: an image already tagged TAG and built from the same binary (label checked) is kept.
# Prints the tag on stdout; progress goes to stderr.
set -euo pipefail

binary=${1:?usage: build-image.sh BINARY [TAG] [CA_BUNDLE]}
ca_bundle=${3:-/etc/ssl/certs/ca-certificates.crt}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ -x "$binary" ] || { echo "build-image.sh: $binary is not an executable file" >&2; exit 1; }
[ -s "$ca_bundle" ] || { echo "build-image.sh: CA bundle $ca_bundle is missing" >&2; exit 1; }

version=$("$binary" --version | awk '{print $2}')
tag=${2:-restate-sdk-py/restate-server:$version}
# Size + mtime identify the binary cheaply (hashing 225 MB on every CI run costs seconds).
fingerprint="$version-$(stat -c '%s-%Y' "$binary")"

if [ "$(docker image inspect -f '{{ index .Config.Labels "org.restate-sdk-py.binary" }}' "$tag" 2>/dev/null)" = "$fingerprint" ]; then
  echo "image $tag is up to date" >&2
  echo "$tag"
  exit 0
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
# A hard link avoids copying 225 MB when the binary sits on the same filesystem.
ln "$binary" "$context/restate-server" 2>/dev/null || cp "$binary" "$context/restate-server"
cp "$ca_bundle" "$context/ca-certificates.crt"
cp "$here/Dockerfile" "$context/Dockerfile"

echo "building image $tag from $binary ..." >&2
start=$(date +%s)
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --quiet \
  --label "org.restate-sdk-py.binary=$fingerprint" -t "$tag" "$context" >&2
echo "built image $tag in $(( $(date +%s) - start ))s" >&2
echo "$tag"
