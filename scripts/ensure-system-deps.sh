#!/bin/sh
# Makes sure the system packages the native engine and its tests need are installed:
# buildah (containers and images without a daemon), docker-registry (a local OCI
# registry), busybox-static (the tiny base image the tests build), git (CODE_DOWN) and
# chromium (browser tests). Idempotent and quick when all are present: one dpkg-query.
set -eu

PACKAGES="buildah docker-registry busybox-static git chromium"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
  esac
done
missing=${missing# }

if [ -z "$missing" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "buildgate: missing system packages: $missing" >&2
  echo "install them as root:  apt-get update && apt-get install -y $missing" >&2
  exit 1
fi

# Another apt/dpkg (e.g. unattended-upgrades or a parallel setup) may hold the lock:
# wait for it instead of failing. DPkg::Lock::Timeout needs apt >= 1.9 (Debian 11+).
export DEBIAN_FRONTEND=noninteractive
echo "buildgate: installing $missing" >&2
tries=0
until apt-get -o DPkg::Lock::Timeout=600 update; do
  tries=$((tries + 1))
  # `update` takes the lists lock, which older apt does not wait for: retry a while.
  [ "$tries" -lt 60 ] || exit 1
  sleep 5
done
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing
