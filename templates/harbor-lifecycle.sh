# registry-kit: Harbor's lifecycle on its host (create | update | delete), run by HarborInstaller's
# command. The RK_* settings above this line are written by renderers/harbor-scripts.ts; files with
# secrets (harbor.yml, the TLS key) arrive on stdin, one `<name> <base64>` line each, never in
# arguments or output. Nothing here deletes volumes: no `docker compose down -v`, no install.sh
# (which runs `down -v`).
set -euo pipefail

say() { printf 'registry-kit harbor: %s\n' "$*"; }
fail() {
    printf 'registry-kit harbor: error: %s\n' "$*" >&2
    exit 1
}

# Reads the files on stdin into a private staging directory.
read_files() {
    stage="$(mktemp -d)"
    trap 'rm -rf "$stage"' EXIT
    chmod 0700 "$stage"
    local name data
    while IFS=' ' read -r name data || [ -n "$name" ]; do
        [ -n "$name" ] || continue
        case "$name" in
            harbor.yml | server.crt | server.key) ;;
            *) fail "unexpected file '$name' on stdin" ;;
        esac
        (umask 077 && printf '%s' "$data" | base64 -d >"$stage/$name") || fail "could not decode $name from stdin"
    done
    [ -s "$stage/harbor.yml" ] || fail "no harbor.yml on stdin"
}

installed_version() { cat "$RK_VERSION_FILE" 2>/dev/null || true; }

# A patch release is installed in place; a minor or major change needs Harbor's migration: refused.
check_version_change() {
    local from="$1" to="$RK_VERSION"
    [ -z "$from" ] || [ "$from" = "$to" ] && return 0
    if [ "${from%.*}" != "${to%.*}" ]; then
        fail "refusing to change Harbor $from to $to: a minor or major version change needs Harbor's migration of harbor.yml and its database, which registry-kit does not run. Nothing was changed; Harbor $from keeps running. Either set registry-kit:harbor.version back to $from, or upgrade by hand: back up $RK_DATA_VOLUME/database and $RK_HARBOR_DIR (Harbor upgrades only from its two previous minor versions), load the $to images from its offline installer, run 'docker run -it --rm -v /:/hostfs goharbor/prepare:$to migrate -i $RK_HARBOR_YML', install $to, then record it with 'echo $to > $RK_VERSION_FILE' and run pulumi up again."
    fi
}

tools() {
    for t in curl sha256sum tar base64 docker; do
        command -v "$t" >/dev/null 2>&1 || fail "'$t' is not installed on this host"
    done
    docker compose version >/dev/null 2>&1 || fail "'docker compose' (Compose v2) is not available on this host"
}

# Downloads the installer (once) and checks its SHA-256 before anything is extracted or run.
download_verified() {
    tarball="$RK_DOWNLOADS/harbor-offline-installer-$RK_VERSION.tgz"
    mkdir -p "$RK_DOWNLOADS"
    if [ -f "$tarball" ] && [ "$(sha256sum "$tarball" | cut -d' ' -f1)" = "$RK_SHA256" ]; then
        say "installer $tarball already downloaded, checksum verified"
        return 0
    fi
    rm -f "$tarball" "$tarball.part"
    say "downloading $RK_URL"
    curl -fsSL --retry 3 -o "$tarball.part" "$RK_URL" || fail "could not download $RK_URL"
    local actual
    actual="$(sha256sum "$tarball.part" | cut -d' ' -f1)"
    if [ "$actual" != "$RK_SHA256" ]; then
        rm -f "$tarball.part"
        fail "checksum mismatch for $RK_URL: expected sha256 $RK_SHA256, got $actual. Nothing was extracted or run."
    fi
    mv "$tarball.part" "$tarball"
    say "installer checksum verified"
}

# Stops the compose project, keeping every volume and data_volume.
stop_project() {
    if [ -f "$RK_HARBOR_DIR/docker-compose.yml" ]; then
        say "stopping the Harbor compose project (volumes and $RK_DATA_VOLUME are kept)"
        (cd "$RK_HARBOR_DIR" && docker compose down)
    fi
}

# Extracts the verified installer into $RK_HARBOR_DIR; an earlier installation moves aside.
extract() {
    local staging="$RK_DIR/.staging"
    rm -rf "$staging"
    mkdir -p "$staging"
    tar -xzf "$tarball" -C "$staging"
    [ -f "$staging/harbor/prepare" ] || fail "$tarball has no harbor/prepare: not a Harbor offline installer"
    if [ -d "$RK_HARBOR_DIR" ]; then
        rm -rf "$RK_DIR/previous"
        mv "$RK_HARBOR_DIR" "$RK_DIR/previous"
        say "the previous installer directory is kept in $RK_DIR/previous"
    fi
    mv "$staging/harbor" "$RK_HARBOR_DIR"
    rm -rf "$staging"
}

install_files() {
    mkdir -p "$RK_TLS_DIR" "$RK_DATA_VOLUME"
    install -m 0600 "$stage/harbor.yml" "$RK_HARBOR_YML"
    if [ -f "$stage/server.crt" ]; then install -m 0644 "$stage/server.crt" "$RK_CERTIFICATE"; fi
    if [ -f "$stage/server.key" ]; then install -m 0600 "$stage/server.key" "$RK_PRIVATE_KEY"; fi
}

load_images() {
    local f
    for f in "$RK_HARBOR_DIR"/harbor.*.tar.gz; do
        if [ -f "$f" ]; then
            say "loading images from $f"
            (cd "$RK_HARBOR_DIR" && docker load -i "$f" >/dev/null)
        fi
    done
}

# Runs the installer's prepare (harbor.yml → docker-compose.yml and component configs), then starts
# the project; --force-recreate makes every container read its regenerated config.
prepare_and_up() {
    cd "$RK_HARBOR_DIR"
    say "running prepare $RK_PREPARE_ARGS"
    # shellcheck disable=SC2086
    ./prepare $RK_PREPARE_ARGS
    say "starting the Harbor compose project"
    docker compose up -d "$@"
    printf '%s\n' "$RK_VERSION" >"$RK_VERSION_FILE"
    printf '%s\n' "$RK_CONFIG_SHA256" >"$RK_DIR/config.sha256"
    say "Harbor $RK_VERSION is up (harbor.yml sha256 $RK_CONFIG_SHA256)"
}

install_version() {
    download_verified
    stop_project
    extract
    install_files
    load_images
    prepare_and_up --remove-orphans
}

main() {
    case "${1:-}" in
        create)
            read_files
            check_version_change "$(installed_version)"
            tools
            mkdir -p "$RK_DIR"
            install_version
            ;;
        update)
            read_files
            local current
            current="$(installed_version)"
            check_version_change "$current"
            tools
            mkdir -p "$RK_DIR"
            if [ "$current" != "$RK_VERSION" ] || [ ! -f "$RK_HARBOR_DIR/prepare" ]; then
                install_version
            else
                install_files
                prepare_and_up --force-recreate --remove-orphans
            fi
            ;;
        delete)
            command -v docker >/dev/null 2>&1 || fail "'docker' is not installed on this host"
            stop_project
            say "kept $RK_DATA_VOLUME (images, database) and $RK_DIR; remove them by hand to discard the data"
            ;;
        *) fail "usage: create | update | delete" ;;
    esac
}

main "$@"
