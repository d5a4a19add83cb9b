#!/usr/bin/env bash
# A Podman engine the podman suite can count on: Debian's podman 4.3, rootful, runc, every
# bit of state under one folder (its own containers.conf, storage.conf and registries.conf,
# named by CONTAINERS_CONF & co., so /etc/containers and /var/lib/containers stay out of it),
# no daemon, no registry. The base image is the Debian root filesystem of the docker suite
# (docker/engine.sh rootfs), imported. Touches only the folder it owns. Needs root.
#
#   docker/podman.sh up           packages, configuration, base image tsinit-debian (idempotent)
#   docker/podman.sh up-rootless  up, plus rootless Podman: an unprivileged system user
#                                 tsinit-podman with sub-ids 300000-365535 (made here unless it
#                                 exists), its own store under DIR/rootless, the same base image
#   docker/podman.sh rootless ARGS...  runs `podman ARGS...` as that user, with its configuration
#   docker/podman.sh env          prints the exports that point a shell's `podman` at this state
#   docker/podman.sh down         removes every pod and container in that state, the user if
#                                 made here (userdel also drops its sub-ids), then the folder
#
# TSINIT_PODMAN_DIR (default /tmp/tsinit-podman) is the state folder. One thing lands outside
# it: Podman 4.3 keeps its blob-info cache in /var/lib/containers/cache (root) whatever the
# configuration says; it is left alone.
set -euo pipefail

DIR="${TSINIT_PODMAN_DIR:-/tmp/tsinit-podman}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'podman.sh: %s\n' "$*" >&2; }
die() { printf 'podman.sh: error: %s\n' "$*" >&2; exit 1; }

# apt_retry, apt_install_missing (shared with docker/engine.sh).
. "$ROOT/docker/apt.sh"

# Debian's podman recommends crun; runc is the runtime that works here (crun fails on this
# machine's hybrid cgroups). catatonit is Podman's own `--init`; uidmap the rootless helpers.
install_packages() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  [ -x /usr/sbin/runc ] || missing+=(runc)
  [ -x /usr/bin/catatonit ] || missing+=(catatonit)
  command -v newuidmap >/dev/null || missing+=(uidmap)
  apt_install_missing ${missing[@]+"${missing[@]}"}
}

export CONTAINERS_CONF="$DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$DIR/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$DIR/registries.conf"

# The configuration, written on every `up` (cheap, and a changed script takes effect).
write_config() {
  mkdir -p "$DIR/storage" "$DIR/run" "$DIR/tmp" "$DIR/cni"
  cat >"$CONTAINERS_CONF.part" <<CONF
# Written by docker/podman.sh: the podman suite's engine, all state under $DIR.
[containers]
# Podman asks runc for RLIMIT_NOFILE/NPROC values this machine refuses (runc: "error setting
# rlimit type 7 ... operation not permitted"): lower, explicit limits work. Soft = hard: pods
# (kube play) copy these with soft and hard swapped (4.3: an infra container with nofile
# soft 4096 > hard 1024 fails with "error setting rlimit type 7: invalid argument").
# RLIMIT_NPROC counts every process of uid 0 on the host, not only the container's: 4096 is
# too few for a burst of 1000 orphans beside the other work of this machine (fork fails with
# EAGAIN); 16384 is accepted, 65536 refused.
default_ulimits = ["nofile=4096:4096", "nproc=16384:16384"]
# Only lo: nothing in the host's network or firewall (like dockerd --bridge=none).
netns = "none"
# Podman's own default, written out: Debian's catatonit. Tests pass --init-path for tsinit.
init_path = "/usr/libexec/podman/catatonit"
# No journald here: logs in a file per container, as podman logs reads them.
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$DIR/events.log"
tmp_dir = "$DIR/tmp"
static_dir = "$DIR/storage/libpod"
volume_path = "$DIR/storage/volumes"
image_copy_tmp_dir = "$DIR/tmp"

[network]
network_backend = "cni"
network_config_dir = "$DIR/cni"
CONF
  mv "$CONTAINERS_CONF.part" "$CONTAINERS_CONF"
  cat >"$CONTAINERS_STORAGE_CONF" <<CONF
# Written by docker/podman.sh.
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "$DIR/run"
CONF
  # No registry: short names resolve to local images only, and nothing is ever pulled.
  printf '# Written by docker/podman.sh: no registry.\nunqualified-search-registries = []\nshort-name-mode = "disabled"\n' >"$CONTAINERS_REGISTRIES_CONF"
}

# tsinit-debian: the docker suite's Debian root filesystem, imported; labelled with the
# tarball's name so a changed package list re-imports it.
ensure_base_image() {
  local tar; tar="$("$ROOT/docker/engine.sh" rootfs)"
  local tag; tag="$(basename "$tar" .tar)"
  local have
  have="$(podman image inspect -f '{{index .Labels "tsinit.rootfs"}}' localhost/tsinit-debian 2>/dev/null || true)"
  [ "$have" = "$tag" ] && return 0
  log "importing $tar as localhost/tsinit-debian"
  podman import -q -c 'CMD ["/bin/bash"]' -c "LABEL tsinit.rootfs=$tag" "$tar" localhost/tsinit-debian >/dev/null
}

# Rootless: the user, its state, and podman run as it.
RL_USER=tsinit-podman
RL_DIR="$DIR/rootless"
RL_SUBIDS=300000-365535

rl_podman() {
  runuser -u "$RL_USER" -- env -C "$RL_DIR" HOME="$RL_DIR/home" XDG_RUNTIME_DIR="$RL_DIR/run" \
    CONTAINERS_CONF="$RL_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$RL_DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$CONTAINERS_REGISTRIES_CONF" podman "$@"
}

cmd_up_rootless() {
  cmd_up
  if ! id -u "$RL_USER" >/dev/null 2>&1; then
    log "adding the system user $RL_USER"
    useradd --system --no-create-home --home-dir "$RL_DIR/home" --shell /usr/sbin/nologin "$RL_USER"
    touch "$DIR/rootless-user-made-here"
  fi
  # newuidmap maps the user's sub-ids into its user namespace: without them, one uid only.
  grep -q "^$RL_USER:" /etc/subuid || usermod --add-subuids "$RL_SUBIDS" "$RL_USER"
  grep -q "^$RL_USER:" /etc/subgid || usermod --add-subgids "$RL_SUBIDS" "$RL_USER"
  mkdir -p "$RL_DIR/home" "$RL_DIR/run"
  chown "$RL_USER:" "$RL_DIR" "$RL_DIR/home" "$RL_DIR/run"
  chmod 700 "$RL_DIR/run"
  # As root's, minus the limits: an unprivileged runc cannot raise them, and keeps the user's.
  grep -v -e '^default_ulimits' -e '^tmp_dir' -e '^static_dir' -e '^volume_path' -e '^image_copy_tmp_dir' -e '^network_config_dir' \
    -e '^events_logfile_path' "$CONTAINERS_CONF" >"$RL_DIR/containers.conf"
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$RL_DIR/storage" "$RL_DIR/run/storage" >"$RL_DIR/storage.conf"
  chmod 644 "$RL_DIR/containers.conf" "$RL_DIR/storage.conf"
  rl_podman info >/dev/null || die "rootless podman does not work as $RL_USER (podman info failed)"
  local tar tag have
  tar="$("$ROOT/docker/engine.sh" rootfs)"
  tag="$(basename "$tar" .tar)"
  have="$(rl_podman image inspect -f '{{index .Labels "tsinit.rootfs"}}' localhost/tsinit-debian 2>/dev/null || true)"
  if [ "$have" != "$tag" ]; then
    log "importing $tar as localhost/tsinit-debian for $RL_USER"
    rl_podman import -q -c 'CMD ["/bin/bash"]' -c "LABEL tsinit.rootfs=$tag" - localhost/tsinit-debian <"$tar" >/dev/null
  fi
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (installs packages; the suite runs rootful podman)"
  install_packages
  write_config
  podman info >/dev/null || die "podman does not work with $CONTAINERS_CONF (podman info failed)"
  ensure_base_image
}

cmd_down() {
  if [ -d "$RL_DIR" ] && id -u "$RL_USER" >/dev/null 2>&1; then
    rl_podman rm -af -t 0 >/dev/null 2>&1 || true
    # Rootless Podman keeps a pause process (catatonit -P) holding its user namespace.
    local pause="$RL_DIR/run/libpod/tmp/pause.pid"
    [ -f "$pause" ] && kill "$(cat "$pause")" 2>/dev/null || true
  fi
  if [ -f "$DIR/rootless-user-made-here" ]; then
    log "removing the user $RL_USER"
    userdel "$RL_USER" || true
  fi
  [ -f "$CONTAINERS_CONF" ] || { rm -rf "$DIR"; return 0; }
  # Pods (with their infra containers) and containers first: their conmon processes and
  # overlay mounts live under this folder.
  podman pod rm -af -t 0 >/dev/null 2>&1 || true
  podman rm -af -t 0 >/dev/null 2>&1 || true
  awk -v d="$DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$DIR"
}

case "${1:-}" in
  up) cmd_up ;;
  up-rootless) cmd_up_rootless ;;
  rootless) shift; rl_podman "$@" ;;
  env) printf 'export CONTAINERS_CONF=%s\nexport CONTAINERS_STORAGE_CONF=%s\nexport CONTAINERS_REGISTRIES_CONF=%s\n' \
    "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_REGISTRIES_CONF" ;;
  down) cmd_down ;;
  *) echo "usage: docker/podman.sh up|up-rootless|rootless ARGS...|env|down" >&2; exit 2 ;;
esac
