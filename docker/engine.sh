#!/usr/bin/env bash
# The Docker engine the docker suite runs on: offline, all its state under one folder. It
# installs docker.io, debootstrap and tini from Debian, starts dockerd in the background and
# builds the base images from Debian's archive: tsinit-debian-SUITE for bookworm (oldstable),
# trixie (stable) and forky (testing), each minbase + Python and that release's Uvicorn,
# Gunicorn and FastAPI; tsinit-debian (the bookworm one: the guides' and Podman's base),
# tsinit-minbase (what debian:bookworm-slim holds) and tsinit-busybox (Debian's static busybox
# and its applet links). It touches only the daemons it started (by pidfile)
# and the folder it owns, because the machine runs other engines and test runs. Needs root.
#
#   docker/engine.sh up        daemon + base image (idempotent; < 2 s when already up)
#   docker/engine.sh up-init   a SECOND daemon whose --init-path is a copy of dist/tsinit,
#                              for `docker run --init` (the shared daemon keeps Debian's tini)
#   docker/engine.sh rootfs    only the Debian root filesystem tarball (no daemon): prints its
#                              path; docker/podman.sh imports the same tarball into Podman
#   docker/engine.sh env       prints `export DOCKER_HOST=...` for the shared daemon
#   docker/engine.sh env-init  the same for the --init daemon
#   docker/engine.sh down      stops the daemon(s) started here and removes the state folder
#
# TSINIT_DOCKER_DIR (default /tmp/tsinit-docker) is the state folder; TSINIT_BIN the tsinit
# executable for up-init (default dist/tsinit). The client is /usr/bin/docker (Debian's 20.10,
# same version as the daemon) with the legacy builder (DOCKER_BUILDKIT=0): the 28.x client in
# /usr/local/bin has no buildx, and the legacy builder needs no extra images.
set -euo pipefail

DIR="${TSINIT_DOCKER_DIR:-/tmp/tsinit-docker}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INIT_DIR="$DIR/init"
DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=0
# Everything the tests run inside the Debian image: Python and the servers (python:*-slim is
# minbase + Python), ps, and Debian's static tini for the comparison cases. Not libatomic1:
# minbase lacks it, and the static tsinit must not need it (the Node build does).
# The same list in every suite: neither trixie nor forky ships python3-uvicorn-worker (the
# `uvicorn-worker` package), so Gunicorn's UvicornWorker is uvicorn.workers in each.
BASE_PACKAGES="procps,python3,python3-uvicorn,uvicorn,gunicorn,python3-fastapi,tini"
# The image and the cached tarball are named by this list, so changing it rebuilds both.
BASE_TAG="$(printf %s "$BASE_PACKAGES" | md5sum | cut -c1-12)"
# The releases the server images are made of: oldstable (gunicorn 20.1, uvicorn 0.17.6), stable
# (gunicorn 23.0, uvicorn 0.32) and testing (gunicorn 26.2, uvicorn 0.53). TSINIT_SUITES narrows
# the list for a run that needs fewer (the rollout suite needs forky alone).
SUITES="${TSINIT_SUITES:-bookworm trixie forky}"

log() { printf 'engine.sh: %s\n' "$*" >&2; }
die() { printf 'engine.sh: error: %s\n' "$*" >&2; exit 1; }

# apt_retry, apt_install_missing (shared with docker/podman.sh).
. "$ROOT/docker/apt.sh"

install_packages() {
  local missing=()
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1 || missing+=(busybox-static)
  [ -x /usr/bin/tini-static ] || missing+=(tini)
  apt_install_missing ${missing[@]+"${missing[@]}"}
}

# The mirror this machine already uses (deb822 sources), so debootstrap works offline from it.
debian_mirror() {
  local uri
  uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  printf '%s\n' "$uri"
}

# alive PIDFILE NAME: the pidfile names a running NAME. Not kill -0: a daemon killed when the
# session that started it ended lingers as a zombie when nothing reaps it, and its pid may
# since belong to another program.
alive() {
  local pid stat
  [ -f "$1" ] || return 1
  pid="$(cat "$1")"
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# start_daemon STATE_DIR [extra dockerd args...]: starts dockerd unless its pidfile names a
# live process, then waits until it answers. Its own config file keeps /etc/docker out of it.
start_daemon() {
  local d="$1"; shift
  local sock="unix://$d/docker.sock"
  if alive "$d/dockerd.pid" dockerd && DOCKER_HOST="$sock" "$DOCKER" info >/dev/null 2>&1; then return 0; fi
  if alive "$d/dockerd.pid" dockerd; then
    log "dockerd $(cat "$d/dockerd.pid") in $d does not answer yet"
  else
    mkdir -p "$d"
    [ -f "$d/daemon.json" ] || echo '{}' >"$d/daemon.json"
    rm -f "$d/dockerd.pid" "$d/docker.sock"
    # dockerd trusts a containerd pidfile whose pid answers kill -0: a dead one's must go.
    alive "$d/exec/containerd/containerd.pid" containerd || rm -f "$d/exec/containerd/containerd.pid"
    log "starting dockerd in $d"
    # setsid: the daemon outlives the test run that started it (up is idempotent; down stops it).
    setsid /usr/sbin/dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
      --pidfile "$d/dockerd.pid" -H "$sock" --bridge=none --iptables=false --ip6tables=false \
      "$@" </dev/null >"$d/dockerd.log" 2>&1 &
  fi
  local i
  for i in $(seq 1 300); do
    if DOCKER_HOST="$sock" "$DOCKER" info >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  tail -n 30 "$d/dockerd.log" >&2 || true
  die "dockerd in $d did not answer within 30 s (log: $d/dockerd.log)"
}

# debootstrap_script SUITE: the script to pass for SUITE. Bookworm's debootstrap has no
# script for forky (testing after trixie); sid's resolves the same way for any suite.
debootstrap_script() {
  if [ -e "/usr/share/debootstrap/scripts/$1" ]; then printf '%s\n' "/usr/share/debootstrap/scripts/$1"
  else printf '%s\n' /usr/share/debootstrap/scripts/sid; fi
}

# rootfs_tarball [NAME [PACKAGES [SUITE]]]: a debootstrap minbase root filesystem of SUITE
# (default bookworm) plus PACKAGES (comma-separated; default: the Python image's) as a tarball,
# cached in the state folder (~35 s to make when the machine is quiet, a minute for trixie and
# forky). A lock on the cache folder: the docker and podman suites may both ask for it at the
# same time. A failed debootstrap ends the set-up with one line naming the suite and, when the
# archive lacks one, the package: never an image of another release in its place.
rootfs_tarball() {
  local name="${1:-minbase-$BASE_TAG}" include="${2-$BASE_PACKAGES}" suite="${3:-bookworm}"
  local tar="$DIR/cache/debian-$suite-$name.tar"
  mkdir -p "$DIR/cache"
  exec 9>"$DIR/cache/.lock"
  flock 9
  if [ ! -s "$tar" ]; then
    # A folder of this run's own: an engine.sh of another checkout may be making one too.
    # mktemp makes it 0700, which would become the mode of the image's / : make it 0755.
    local rootfs; rootfs="$(mktemp -d "$DIR/cache/rootfs.XXXXXX")"
    chmod 755 "$rootfs"
    local mirror; mirror="$(debian_mirror)"
    log "debootstrap $suite minbase${include:+ + $include}"
    if ! debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$rootfs" "$mirror" \
      "$(debootstrap_script "$suite")" >"$rootfs.log" 2>&1; then
      rm -rf "$rootfs"
      local missing; missing="$(sed -n "s/^E: Couldn't find these debs: //p" "$rootfs.log" | head -n 1)"
      [ -z "$missing" ] || die "debootstrap $suite: package not in the archive: $missing (log: $rootfs.log)"
      die "debootstrap $suite failed: $(grep '^E: ' "$rootfs.log" | tail -n 1 || tail -n 1 "$rootfs.log") (log: $rootfs.log)"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$rootfs.tar" .
    mv "$rootfs.tar" "$tar"
    rm -rf "$rootfs" "$rootfs.log"
  fi
  exec 9>&-
  printf '%s\n' "$tar"
}

# busybox_tarball: /bin/busybox (Debian's busybox-static) and one link per applet, as the
# busybox image has them (~2 MB).
busybox_tarball() {
  local tar="$DIR/cache/busybox.tar" root="$DIR/cache/rootfs-busybox"
  if [ ! -s "$tar" ] || [ /bin/busybox -nt "$tar" ]; then
    mkdir -p "$DIR/cache"
    rm -rf "$root" && mkdir -p "$root/bin" "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list-full); do
      [ "$applet" = bin/busybox ] && continue
      mkdir -p "$root/$(dirname "$applet")"
      ln -sf /bin/busybox "$root/$applet"
    done
    tar --numeric-owner -C "$root" -cf "$tar.part" . && mv "$tar.part" "$tar"
    rm -rf "$root"
  fi
  printf '%s\n' "$tar"
}

# import_image DOCKER_HOST TAG LABEL TARBALL: docker import unless TAG already carries LABEL.
import_image() {
  local host="$1" tag="$2" label="$3" tar="$4" have
  have="$(DOCKER_HOST="$host" "$DOCKER" image inspect -f '{{index .Config.Labels "tsinit.packages"}}' "$tag" 2>/dev/null || true)"
  [ "$have" = "$label" ] && return 0
  log "importing $tag into $host"
  DOCKER_HOST="$host" "$DOCKER" import -c 'CMD ["sh"]' -c "LABEL tsinit.packages=$label" "$tar" "$tag" >/dev/null
}

# ensure_images DOCKER_HOST: the base images in that daemon. Each tarball in its own command
# substitution under set -e: a failed debootstrap ends the set-up here with its line.
ensure_images() {
  local host="$1" suite tar
  for suite in $SUITES; do
    tar="$(rootfs_tarball "minbase-$BASE_TAG" "$BASE_PACKAGES" "$suite")"
    import_image "$host" "tsinit-debian-$suite" "$suite-$BASE_TAG" "$tar"
  done
  tar="$(rootfs_tarball "minbase-$BASE_TAG" "$BASE_PACKAGES" bookworm)"
  import_image "$host" tsinit-debian "$BASE_TAG" "$tar"
  tar="$(rootfs_tarball minbase-plain "")"
  import_image "$host" tsinit-minbase plain "$tar"
  import_image "$host" tsinit-busybox "$(stat -c %Y /bin/busybox)" "$(busybox_tarball)"
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (installs packages, runs dockerd)"
  install_packages
  start_daemon "$DIR"
  ensure_images "unix://$DIR/docker.sock"
}

cmd_up_init() {
  cmd_up
  local bin="${TSINIT_BIN:-$ROOT/dist/tsinit}"
  [ -x "$bin" ] || die "$bin is missing: run 'npm run build' first"
  mkdir -p "$INIT_DIR"
  # dockerd bind-mounts the init-path file into each container as /sbin/docker-init when it
  # starts: refreshing the copy is enough for a new build to be used, no restart needed.
  if ! cmp -s "$bin" "$INIT_DIR/tsinit"; then
    cp "$bin" "$INIT_DIR/tsinit.part" && chmod 755 "$INIT_DIR/tsinit.part" && mv "$INIT_DIR/tsinit.part" "$INIT_DIR/tsinit"
  fi
  start_daemon "$INIT_DIR" --init-path "$INIT_DIR/tsinit"
  ensure_images "unix://$INIT_DIR/docker.sock"
}

# stop_daemon STATE_DIR: TERM the pid in its pidfile, wait, KILL if it lingers.
stop_daemon() {
  local d="$1" pid i
  [ -f "$d/dockerd.pid" ] || return 0
  pid="$(cat "$d/dockerd.pid")"
  if alive "$d/dockerd.pid" dockerd; then
    log "stopping dockerd $pid ($d)"
    # Containers first, so no shim or container process outlives the daemon.
    DOCKER_HOST="unix://$d/docker.sock" "$DOCKER" ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$d/docker.sock" "$DOCKER" rm -f >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do alive "$d/dockerd.pid" dockerd || break; sleep 0.1; done
    alive "$d/dockerd.pid" dockerd && kill -KILL "$pid" 2>/dev/null || true
  fi
  # The managed containerd has its own pidfile under the exec root.
  local cpid="$d/exec/containerd/containerd.pid"
  if alive "$cpid" containerd; then kill -TERM "$(cat "$cpid")" 2>/dev/null || true; fi
}

cmd_down() {
  stop_daemon "$INIT_DIR"
  stop_daemon "$DIR"
  # Mounts left by the overlay driver would make rm fail; unmount what is under our folder.
  if [ -d "$DIR" ]; then
    awk -v d="$DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DIR"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  up-init) cmd_up_init ;;
  rootfs)
    [ "$(id -u)" = 0 ] || die "needs root (debootstrap)"
    command -v debootstrap >/dev/null || apt_install_missing debootstrap
    rootfs_tarball ;;
  env) printf 'export DOCKER_HOST=unix://%s/docker.sock\nexport DOCKER_BUILDKIT=0\n' "$DIR" ;;
  env-init) printf 'export DOCKER_HOST=unix://%s/docker.sock\nexport DOCKER_BUILDKIT=0\n' "$INIT_DIR" ;;
  down) cmd_down ;;
  *) echo "usage: docker/engine.sh up|up-init|rootfs|env|env-init|down" >&2; exit 2 ;;
esac
