#!/usr/bin/env bash
# Build local stand-ins for the official registry, nginx and prometheus images,
# and a skopeo client image for benchmarks (bench/push-pull.ts).
# No registry can be reached from the test machines, so everything is built from
# Debian packages on top of a debootstrapped bookworm base.
#
# Usage: test/e2e/images/build-images.sh [registry] [nginx] [prometheus] [client]
#        (no arguments = all roles)
# Env:   DEBIAN_MIRROR     (default http://deb.debian.org/debian)
#        DEBIAN_SECURITY   (default http://deb.debian.org/debian-security)
#        REBUILD_BASE=1    re-create the base image even if it exists
#        VERBOSE=1         stream build output instead of logging to a file
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/registry-kit"
log_dir="$cache_dir/logs"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
suite=bookworm

base_image="registry-kit-test/base:bookworm"
hash_label="registry-kit.build-hash"
all_roles=(registry registry3 nginx prometheus client certbot pebble s3 redis node rsyslog node-exporter alertmanager)
declare -A image_of=(
  [registry]="registry-kit-test/registry:2"
  [registry3]="registry-kit-test/registry:3"
  [nginx]="registry-kit-test/nginx:1-njs"
  [prometheus]="registry-kit-test/prometheus:2"
  [client]="registry-kit-test/client:1"
  [certbot]="registry-kit-test/certbot:2"
  [pebble]="registry-kit-test/pebble:2"
  [s3]="registry-kit-test/s3:2"
  [redis]="registry-kit-test/redis:7"
  [node]="registry-kit-test/node:22"
  [rsyslog]="registry-kit-test/rsyslog:8"
  [node-exporter]="registry-kit-test/node-exporter:1"
  [alertmanager]="registry-kit-test/alertmanager:0"
)

log() { printf '%s\n' "$*"; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

# Seconds since $1 (an epoch second), for the status lines.
since() { echo "$(( $(date +%s) - $1 ))s"; }

# Run a command with its output in a log file (or streamed with VERBOSE=1);
# on failure show the end of the log.
run_logged() {
  local logfile="$1"; shift
  if [[ "${VERBOSE:-0}" == 1 ]]; then
    "$@" 2>&1 | tee "$logfile"
    return "${PIPESTATUS[0]}"
  fi
  if ! "$@" >"$logfile" 2>&1; then
    printf 'build-images: command failed: %s\n--- last lines of %s ---\n' "$*" "$logfile" >&2
    tail -n 40 "$logfile" >&2
    return 1
  fi
}

old_base_id=""

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_base() {
  if [[ "${REBUILD_BASE:-0}" != 1 ]] && image_exists "$base_image"; then
    log "base        $base_image: cached"
    return
  fi
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  [[ $EUID -eq 0 ]] || die "debootstrap needs root"

  local start rootfs
  start=$(date +%s)
  old_base_id="$(docker image inspect --format '{{.Id}}' "$base_image" 2>/dev/null || true)"
  mkdir -p "$cache_dir"
  rootfs="$(mktemp -d "$cache_dir/rootfs.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" EXIT

  run_logged "$log_dir/base.log" \
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror"

  # apt sources: main, updates and security.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

  # Container-friendly settings, as in Debian's official images:
  # no service starts from maintainer scripts, no apt caches, no translations.
  cat >"$rootfs/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
# Do not start services while installing packages in an image build.
exit 101
POLICY
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APTCONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APTCONF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"

  # Host-specific files docker provides at run time; caches from debootstrap.
  rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
         "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  mkdir -p "$rootfs/var/lib/apt/lists/partial"

  tar --numeric-owner -C "$rootfs" -c . |
    docker import \
      --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --message "debootstrap --variant=minbase $suite $mirror" \
      - "$base_image" >/dev/null

  rm -rf "$rootfs"
  trap - EXIT
  log "base        $base_image: built ($(since "$start"))"
}

# sha256 over the role directory (relative paths, contents, executable bits)
# and the id of the image it builds on.
build_hash() {
  local dir="$1" base_id="$2"
  {
    cd "$dir"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    # the executable bit matters (entrypoint scripts); other mode bits vary with umask
    echo "executable:"
    find . -type f -perm -u=x -print0 | LC_ALL=C sort -z | tr '\0' '\n'
    echo "base $base_id"
  } | sha256sum | cut -d' ' -f1
}

build_role() {
  local role="$1" image="${image_of[$1]}" dir="$here/$1"
  [[ -f "$dir/Dockerfile" ]] || die "no Dockerfile for role '$role' in $dir"

  local base_id hash current start from
  # The image the Dockerfile builds on: the debootstrapped base, or another role's image (registry3 on
  # registry), which is then built first and whose id goes into the hash.
  from="$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dir/Dockerfile")"
  if [[ "$from" != "$base_image" ]]; then
    local dep
    for dep in "${!image_of[@]}"; do [[ "${image_of[$dep]}" == "$from" ]] && build_role "$dep"; done
  fi
  base_id="$(docker image inspect --format '{{.Id}}' "$from")"
  hash="$(build_hash "$dir" "$base_id")"
  current="$(docker image inspect --format "{{ index .Config.Labels \"$hash_label\" }}" "$image" 2>/dev/null || true)"
  if [[ "$current" == "$hash" ]]; then
    log "$(printf '%-11s' "$role") $image: cached"
    return
  fi

  local old_id
  old_id="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  start=$(date +%s)
  DOCKER_BUILDKIT=0 run_logged "$log_dir/$role.log" \
    docker build --network host --force-rm \
      --label "$hash_label=$hash" \
      -t "$image" "$dir"
  # Drop the image this build replaced if nothing else refers to it
  # (fails harmlessly when it is still tagged or used by a container).
  if [[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{.Id}}' "$image")" &&
        -z "$(docker image inspect --format '{{join .RepoTags " "}}' "$old_id" 2>/dev/null)" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  log "$(printf '%-11s' "$role") $image: built ($(since "$start"))"
}

main() {
  local roles=("$@") role
  [[ ${#roles[@]} -gt 0 ]] || roles=("${all_roles[@]}")
  for role in "${roles[@]}"; do
    [[ -n "${image_of[$role]:-}" ]] || die "unknown role '$role' (known: ${all_roles[*]})"
  done
  command -v docker >/dev/null || die "docker client not found"
  docker info >/dev/null 2>&1 || die "docker engine is not reachable"
  mkdir -p "$log_dir"

  # One build at a time (parallel test workers may all call this script).
  exec 9>"$cache_dir/build.lock"
  flock 9

  build_base
  for role in "${roles[@]}"; do
    build_role "$role"
  done

  # After REBUILD_BASE=1, drop the replaced base once nothing is built on it.
  if [[ -n "$old_base_id" && -z "$(docker image inspect --format '{{join .RepoTags " "}}' "$old_base_id" 2>/dev/null)" ]]; then
    docker image rm "$old_base_id" >/dev/null 2>&1 || true
  fi
}

main "$@"
