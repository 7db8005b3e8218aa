#!/bin/sh
# registry-kit storage worker: runs `registry garbage-collect` and takes backups of the data volume
# when the maintenance job asks for them. It runs in a container of the registry's own image (the
# same Distribution version, storage driver and config as the serving replicas) and serves nothing.
# The job writes `<id> <words>` to $CONTROL/<kind>/request (kind gc or backup); this loop runs each id
# once and leaves its output in <id>.log and its exit code in <id>.exit.
#   gc:     `<id> [--dry-run] [--delete-untagged]`, only while the proxy refuses writes.
#   backup: `<id> prepare <keep>` copies blobs into a new snapshot (any time: blobs never change);
#           `<id> finish <keep>`, in the read-only window, makes the snapshot exact and keeps <keep>.
# Usage: registry-gc.sh <config.yml>
set -u
config="$1"
control="${CONTROL_DIR:-/maintenance}"
data="${DATA_DIR:-/var/lib/registry}/docker/registry/v2"
backups="${BACKUP_DIR:-/backup}"
mkdir -p "$control/gc" "$control/backup"
trap 'exit 0' TERM INT
say() { echo "{\"component\":\"registry-kit-storage-worker\",$1}"; }
say "\"event\":\"start\",\"config\":\"$config\""

gc() { # flags...
  args=""
  for f in "$@"; do
    case "$f" in
      --dry-run | --delete-untagged) args="$args $f" ;;
      *) echo "refused flag" && return 2 ;;
    esac
  done
  # shellcheck disable=SC2086 # the flags are words checked above
  registry garbage-collect $args "$config"
}

# The snapshot being built: hard links to the newest snapshot's files, so unchanged blobs cost nothing.
partial="$backups/.partial"

backup_prepare() {
  rm -rf "$partial"
  newest="$(ls -1 "$backups" | grep '^[0-9]' | sort | tail -n 1)"
  if [ -n "$newest" ]; then cp -al "$backups/$newest" "$partial"; else mkdir -p "$partial"; fi
  mkdir -p "$partial/docker/registry/v2/blobs"
  [ -d "$data/blobs" ] && cp -an "$data/blobs/." "$partial/docker/registry/v2/blobs/"
  echo "prepared from ${newest:-nothing}"
}

backup_finish() { # keep
  [ -d "$partial" ] || backup_prepare
  mkdir -p "$partial/docker/registry/v2/blobs"
  [ -d "$data/blobs" ] && cp -an "$data/blobs/." "$partial/docker/registry/v2/blobs/"
  # Blobs garbage collection removed since the copy: gone from the snapshot too.
  (cd "$partial/docker/registry/v2/blobs" && find . -mindepth 3 -maxdepth 3 -type d) | while read -r d; do
    [ -d "$data/blobs/$d" ] || rm -rf "$partial/docker/registry/v2/blobs/$d"
  done
  # Repositories (links, small) copied whole; uploads in progress are not part of a backup.
  rm -rf "$partial/docker/registry/v2/repositories"
  [ -d "$data/repositories" ] && cp -a "$data/repositories" "$partial/docker/registry/v2/repositories"
  find "$partial/docker/registry/v2/repositories" -type d -name _uploads -prune -exec rm -rf {} + 2>/dev/null
  name="$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$partial" "$backups/$name"
  count="$(ls -1 "$backups" | grep -c '^[0-9]')"
  ls -1 "$backups" | grep '^[0-9]' | sort | head -n "$((count > $1 ? count - $1 : 0))" | while read -r old; do rm -rf "${backups:?}/$old"; done
  echo "snapshot $name $(du -sk "$backups/$name" | cut -f1) KiB, $(find "$backups/$name" -name data -type f | wc -l) files"
}

backup() { # phase keep
  case "$2" in *[!0-9]* | "") echo "bad keep" && return 2 ;; esac
  case "$1" in
    prepare) backup_prepare ;;
    finish) backup_finish "$2" ;;
    *) echo "bad phase" && return 2 ;;
  esac
}

while :; do
  for kind in gc backup; do
    dir="$control/$kind"
    [ -f "$dir/request" ] || continue
    id="" words=""
    read -r id words <"$dir/request" || true
    case "$id" in *[!0-9a-z-]* | "") continue ;; esac
    [ -f "$dir/$id.exit" ] && continue
    say "\"event\":\"$kind.start\",\"id\":\"$id\""
    # shellcheck disable=SC2086 # words are checked by gc/backup
    "$kind" $words >"$dir/$id.log" 2>&1
    code=$?
    echo "$code" >"$dir/$id.tmp" && mv "$dir/$id.tmp" "$dir/$id.exit"
    say "\"event\":\"$kind.end\",\"id\":\"$id\",\"exit\":$code"
  done
  sleep 1 &
  wait $!
done
