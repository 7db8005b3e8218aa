#!/bin/sh
# registry-kit GC worker: runs `registry garbage-collect` when the maintenance job asks for it.
# It runs in a container of the registry's own image (the same Distribution version, storage driver
# and config as the serving replicas) and serves nothing. The job writes `<id> [flags]` to
# $CONTROL/gc/request only while the proxy refuses writes; this loop runs GC once per id and leaves
# the output in <id>.log and the exit code in <id>.exit.
# Usage: registry-gc.sh <config.yml>
set -u
config="$1"
dir="${CONTROL_DIR:-/maintenance}/gc"
mkdir -p "$dir"
trap 'exit 0' TERM INT
echo "{\"component\":\"registry-kit-gc-worker\",\"event\":\"start\",\"config\":\"$config\"}"
while :; do
  if [ -f "$dir/request" ]; then
    id="" flags=""
    read -r id flags <"$dir/request" || true
    case "$id" in
      *[!0-9a-z-]* | "") id="" ;;
    esac
    if [ -n "$id" ] && [ ! -f "$dir/$id.exit" ]; then
      args=""
      for f in $flags; do
        case "$f" in
          --dry-run | --delete-untagged) args="$args $f" ;;
          *) echo "{\"component\":\"registry-kit-gc-worker\",\"event\":\"refused\",\"flag\":\"unknown\"}" ;;
        esac
      done
      echo "{\"component\":\"registry-kit-gc-worker\",\"event\":\"gc.start\",\"id\":\"$id\",\"flags\":\"${args# }\"}"
      # shellcheck disable=SC2086 # the flags are words checked above
      registry garbage-collect $args "$config" >"$dir/$id.log" 2>&1
      code=$?
      echo "$code" >"$dir/$id.tmp" && mv "$dir/$id.tmp" "$dir/$id.exit"
      echo "{\"component\":\"registry-kit-gc-worker\",\"event\":\"gc.end\",\"id\":\"$id\",\"exit\":$code}"
    fi
  fi
  sleep 1 &
  wait $!
done
