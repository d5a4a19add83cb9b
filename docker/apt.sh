# Sourced by docker/engine.sh and docker/podman.sh: installing Debian packages on a machine
# other sessions share. Defines apt_retry and apt_install_missing; expects log() from the caller.

# Runs apt-get, retrying while another process holds the apt/dpkg locks (other agents share
# this machine) instead of failing the first time.
apt_retry() {
  local i
  for i in $(seq 1 30); do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@"; then return 0; fi
    log "apt-get $1 failed (attempt $i), retrying in 2 s"
    sleep 2
  done
  return 1
}

# apt_install_missing PACKAGE...: installs the packages given (the caller lists only missing
# ones); a fresh machine has no package lists, so they are updated once first.
apt_install_missing() {
  [ $# -eq 0 ] && return 0
  log "installing $*"
  apt_retry update -qq
  apt_retry install -y -qq --no-install-recommends "$@" >/dev/null
}
