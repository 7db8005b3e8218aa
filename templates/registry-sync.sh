#!/bin/sh
# registry-kit sync worker: copies images between this registry and others with skopeo when the
# maintenance job asks for it. It runs in a skopeo image and serves nothing. The job writes a plan,
# $CONTROL/sync/<id>.plan, one line per repository:
#   <entry> <src-registry> <src-tls 0|1> <src-repo> <dest-registry> <dest-tls 0|1> <dest-repo> <tag-ERE>
# then `<id>` to $CONTROL/sync/request. Credentials come from the environment, never from the plan:
# RK_CREDS_LOCAL for this registry and RK_CREDS_<entry> for the other one. For each tag matching the
# pattern, an image (an index with all its platforms) is copied unless the destination already has
# the same manifest; the output says `copied`, `skipped` or `failed` per tag, and <id>.exit the code.
set -u
control="${CONTROL_DIR:-/maintenance}/sync"
mkdir -p "$control"
trap 'exit 0' TERM INT
say() { echo "{\"component\":\"registry-kit-sync-worker\",$1}"; }
say "\"event\":\"start\""

# creds <entry> <registry>: the --creds value for one side ("" when anonymous).
creds() {
  if [ "$2" = "$RK_LOCAL_REGISTRY" ]; then printf '%s' "${RK_CREDS_LOCAL:-}"; else eval "printf '%s' \"\${RK_CREDS_$1:-}\""; fi
}

# digest <tls> <creds> <ref>: sha256 of the manifest as the registry serves it, or nothing.
digest() {
  if [ -n "$2" ]; then
    skopeo inspect --raw --tls-verify="$1" --creds "$2" "docker://$3" 2>/dev/null | sha256sum | cut -d' ' -f1
  else
    skopeo inspect --raw --tls-verify="$1" "docker://$3" 2>/dev/null | sha256sum | cut -d' ' -f1
  fi
}

sync_line() { # entry src stls srepo dest dtls drepo pattern
  entry="$1" src="$2" srepo="$4" dest="$5" drepo="$7" pattern="$8"
  stls=$([ "$3" = 1 ] && echo true || echo false)
  dtls=$([ "$6" = 1 ] && echo true || echo false)
  screds="$(creds "$entry" "$src")"
  dcreds="$(creds "$entry" "$dest")"
  if [ -n "$screds" ]; then tags="$(skopeo list-tags --tls-verify="$stls" --creds "$screds" "docker://$src/$srepo")" || return 1
  else tags="$(skopeo list-tags --tls-verify="$stls" "docker://$src/$srepo")" || return 1; fi
  empty="$(printf '' | sha256sum | cut -d' ' -f1)"
  # {"Repository": "...", "Tags": ["a", "b"]} -> one tag a line
  echo "$tags" | tr -d ' \n\t' | sed 's/.*"Tags":\[//; s/\].*//; s/"//g' | tr ',' '\n' | grep -E "$pattern" | while read -r tag; do
    [ -n "$tag" ] || continue
    have="$(digest "$dtls" "$dcreds" "$dest/$drepo:$tag")"
    want="$(digest "$stls" "$screds" "$src/$srepo:$tag")"
    if [ -n "$want" ] && [ "$want" != "$empty" ] && [ "$have" = "$want" ]; then
      echo "skipped $srepo:$tag"
      continue
    fi
    set -- skopeo copy --all --preserve-digests --retry-times 2 --src-tls-verify="$stls" --dest-tls-verify="$dtls"
    [ -n "$screds" ] && set -- "$@" --src-creds "$screds"
    [ -n "$dcreds" ] && set -- "$@" --dest-creds "$dcreds"
    if "$@" "docker://$src/$srepo:$tag" "docker://$dest/$drepo:$tag" >/dev/null 2>"$control/copy.err"; then
      echo "copied $srepo:$tag"
    else
      echo "failed $srepo:$tag $(tail -n 1 "$control/copy.err" | tr -d '"\\' | cut -c1-300)"
    fi
  done
}

while :; do
  if [ -f "$control/request" ]; then
    id=""
    read -r id <"$control/request" || true
    case "$id" in *[!0-9a-z-]* | "") id="" ;; esac
    if [ -n "$id" ] && [ ! -f "$control/$id.exit" ] && [ -f "$control/$id.plan" ]; then
      say "\"event\":\"sync.start\",\"id\":\"$id\""
      code=0
      # The plan on fd 3: nothing the loop runs can read it from stdin.
      while read -r entry src stls srepo dest dtls drepo pattern <&3; do
        case "$entry" in *[!0-9]* | "") continue ;; esac
        sync_line "$entry" "$src" "$stls" "$srepo" "$dest" "$dtls" "$drepo" "$pattern" </dev/null || { echo "failed $srepo: cannot list its tags"; code=1; }
      done 3<"$control/$id.plan" >"$control/$id.log" 2>&1
      grep -q '^failed ' "$control/$id.log" && code=1
      echo "$code" >"$control/$id.tmp" && mv "$control/$id.tmp" "$control/$id.exit"
      say "\"event\":\"sync.end\",\"id\":\"$id\",\"exit\":$code"
    fi
  fi
  sleep 1 &
  wait $!
done
