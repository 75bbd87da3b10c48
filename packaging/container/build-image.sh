#!/bin/sh
# Builds fedgate's runtime image on this machine without pulling anything
# from a container registry: a Debian 12 minbase root filesystem made by
# debootstrap from the Debian mirror this machine's apt uses, imported as
# the base image (podman import), then Containerfile installs the .debs of
# build-deb.sh into it (podman build, chroot isolation: no container
# runtime is needed to build). Finally the image is run once: --version,
# then the gateway with a read-only root until it answers /readyz.
#
#   packaging/container/build-image.sh [DEBDIR]     (as root)
#
# DEBDIR holds fedgate_*.deb and fedgate-mock_*.deb; without it they are
# built first (build-deb.sh, into build/deb).
#
# FG_IMAGE names the image (default localhost/fedgate:VERSION);
# FG_DEBIAN_MIRROR overrides the mirror; FG_PODMAN_RUN_OPTS adds options
# to the trial runs (a machine without CAP_SYS_RESOURCE or with hybrid
# cgroups needs e.g. "--runtime runc --ulimit nofile=1024:1024
# --ulimit nproc=1024:1024"); FG_SKIP_RUN=1 skips them.
set -eu
cd "$(dirname "$0")/../.."
debs="${1:-build/deb}"

missing=""
for p in podman buildah debootstrap runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
image="${FG_IMAGE:-localhost/fedgate:$version}"
base=localhost/fedgate-base:bookworm
# Without DEBDIR, packages of the current commit are built first.
if [ $# -eq 0 ]; then
  ./packaging/build-deb.sh "$debs"
fi

mirror="${FG_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # The first Debian (not security) archive apt is configured with.
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    2>/dev/null | awk '/^URIs:/ { print $2 }
      /^deb / { for (i = 2; i <= NF; i++)
                  if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }' |
    grep -E '/debian/?$' | head -n 1)
fi
[ -n "$mirror" ] || {
  echo "build-image: no Debian mirror found in apt's sources; set FG_DEBIAN_MIRROR" >&2
  exit 1
}

tmp=$(mktemp -d)
cid=""
cleanup() {
  [ -z "$cid" ] || podman rm -f "$cid" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "build-image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 20 "$tmp/debootstrap.log" >&2
  exit 1
}
# A runtime image needs no manuals, translations or documentation but the
# copyright files (Debian's slim images do the same), nor the bootstrap's
# logs, caches and package lists. dpkg keeps excluding them afterwards.
r="$tmp/rootfs"
cat >"$r/etc/dpkg/dpkg.cfg.d/01-fedgate-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias \
  -exec rm -rf {} +
rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/var/cache/apt/*.bin \
  "$r"/var/lib/apt/lists/* "$r"/var/log/*.log "$r"/var/cache/debconf/*-old
tar -C "$tmp/rootfs" --numeric-owner -cf "$tmp/rootfs.tar" .
podman import --quiet "$tmp/rootfs.tar" "$base" >/dev/null
rm -rf "$tmp/rootfs" "$tmp/rootfs.tar"

mkdir "$tmp/context"
cp "$debs"/fedgate_"$version"_*.deb "$debs"/fedgate-mock_"$version"_*.deb \
  "$tmp/context/"
podman build --pull=never --isolation=chroot --build-arg "BASE=$base" \
  -f packaging/container/Containerfile -t "$image" "$tmp/context"
podman image ls "$image"

if [ "${FG_SKIP_RUN:-0}" = 1 ]; then
  exit 0
fi
# shellcheck disable=SC2086
podman run --rm ${FG_PODMAN_RUN_OPTS:-} "$image" --version
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
cid=$(podman run -d --read-only -p "127.0.0.1:$port:9443" \
  ${FG_PODMAN_RUN_OPTS:-} "$image")
i=0
until curl -ksf --max-time 2 "https://127.0.0.1:$port/readyz" >/dev/null; do
  if [ $i -ge 60 ] || [ "$(podman inspect -f '{{.State.Running}}' "$cid")" != true ]; then
    echo "build-image: the image did not become ready:" >&2
    podman logs "$cid" >&2
    exit 1
  fi
  sleep 0.5
  i=$((i + 1))
done
podman logs "$cid"
podman stop -t 10 "$cid" >/dev/null
echo "build-image: $image runs read-only and answers /readyz"
