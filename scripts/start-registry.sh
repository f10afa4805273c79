#!/bin/sh
# Starts a local OCI registry (docker-registry, distribution v2) for development:
#   scripts/start-registry.sh [port] [data dir]     (defaults: 5000, ./data/registry)
# Listens on 127.0.0.1 only, plain HTTP (configure the engine's registry as insecure),
# with deletes enabled so that removing a run can remove its image tag. Runs in the
# foreground; stop it with Ctrl-C. Not the Debian system service, which is left alone.
set -eu

port=${1:-5000}
dir=${2:-./data/registry}
command -v docker-registry >/dev/null 2>&1 || {
  echo "docker-registry is not installed: run scripts/ensure-system-deps.sh" >&2
  exit 1
}
mkdir -p "$dir/storage"
dir=$(cd "$dir" && pwd)
cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
echo "registry on 127.0.0.1:$port, data in $dir/storage" >&2
exec docker-registry serve "$dir/config.yml"
