# registry-kit: Harbor's lifecycle on its host (create | update | delete), run by HarborInstaller's
# command. The RK_* settings above this line are written by renderers/harbor-scripts.ts; files with
# secrets (harbor.yml, the TLS key, the database password) arrive on stdin, one `<name> <base64>` line
# each, never in arguments or output. Nothing here deletes volumes: no `docker compose down -v`, no
# install.sh (which runs `down -v`).
#
# Markers on the host:
#   $RK_DIR/owner               `<RK_OWNER>:<token>` of the command resource whose create or update last
#                               succeeded here (`<RK_OWNER>` alone from releases before owner tokens): a
#                               delete by another (replaced) resource leaves Harbor running (see ownership)
#   $RK_VERSION_FILE            the installed version (install directory)
#   $RK_DATA_STATE/version      the same, kept with the data, so a new installDir cannot skip the checks
#   $RK_DATA_STATE/database-password.hmac
#                               `<key> <HMAC-SHA256(key, database password)>`, written at the first start:
#                               Postgres in data_volume keeps the password it was initialised with
#   $RK_DIR/acme/container      the certbot renewal container's name (tls.mode acme; RK_ACME=1)
#   $RK_TLS_DIR/.acme           the ACME certificate is installed in $RK_TLS_DIR: the bootstrap one (from
#                               stdin) goes to bootstrap.crt/.key and no longer replaces it
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
            harbor.yml | server.crt | server.key | database-password) ;;
            acme.env | acme.server.conf | acme-ca.pem | certbot-acme.sh | harbor-acme-deploy.sh | harbor-acme.sh) ;;
            *) fail "unexpected file '$name' on stdin" ;;
        esac
        (umask 077 && printf '%s' "$data" | base64 -d >"$stage/$name") || fail "could not decode $name from stdin"
    done
    [ -s "$stage/harbor.yml" ] || fail "no harbor.yml on stdin"
    [ -s "$stage/database-password" ] || fail "no database-password on stdin"
}

need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is not installed on this host"; }

# HMAC-SHA256 with openssl (a Harbor host prerequisite): $1 the key in hex, $2 the message file.
hmac_sha256() { openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -r <"$2" | cut -d' ' -f1; }

# vX.Y.Z → the array named $3 (major minor patch), or fails naming where the version came from ($2).
version_parts() {
    [[ "$1" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || fail "$2 records '$1', which is not a Harbor version such as v2.15.0; fix that file"
    eval "$3=(${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]})"
}

# A patch release is installed in place. A downgrade, or a minor or major change, is refused before
# anything changes: Harbor migrates its database forwards only, and registry-kit does not run the migration.
check_version_change() {
    local from="$1" where="$2" to="$RK_VERSION" f t
    [ -n "$from" ] && [ "$from" != "$to" ] || return 0
    version_parts "$from" "$where" f
    version_parts "$to" "registry-kit:harbor.version" t
    if ((f[0] != t[0] ? f[0] > t[0] : f[1] != t[1] ? f[1] > t[1] : f[2] > t[2])); then
        fail "refusing to downgrade Harbor $from to $to ($where records $from): Harbor migrates its database forwards only, so $from's database may not work with $to. Nothing was changed; Harbor $from keeps running. Set registry-kit:harbor.version (and installerUrl, installerSha256) back to $from and run pulumi up again. To really go back, restore $RK_DATA_VOLUME (with its database) and $RK_DIR from a backup taken before the upgrade, then run pulumi up."
    fi
    if [ "${f[0]}.${f[1]}" != "${t[0]}.${t[1]}" ]; then
        fail "refusing to change Harbor $from to $to ($where records $from): a minor or major version change needs Harbor's migration of harbor.yml and its database, which registry-kit does not run. Nothing was changed; Harbor $from keeps running. To upgrade: 1. back up $RK_DATA_VOLUME (at least $RK_DATA_VOLUME/database) and $RK_DIR; 2. follow Harbor's upgrade procedure for $to (it upgrades only from its two previous minor versions): stop the project (docker compose down, without -v, in $RK_HARBOR_DIR), load the $to images from its offline installer, run 'docker run -it --rm -v /:/hostfs goharbor/prepare:$to migrate -i $RK_HARBOR_YML', install $to and start it; 3. record the version with 'echo $to | tee $RK_VERSION_FILE $RK_DATA_STATE/version'; 4. set registry-kit:harbor.version (and installerUrl, installerSha256) to $to and run pulumi up again."
    fi
}

check_versions() {
    check_version_change "$(cat "$RK_DATA_STATE/version" 2>/dev/null || true)" "$RK_DATA_STATE/version"
    check_version_change "$(installed_version)" "$RK_VERSION_FILE"
}

installed_version() { cat "$RK_VERSION_FILE" 2>/dev/null || true; }

# Postgres in data_volume keeps the password it was initialised with: another one in harbor.yml would
# leave Harbor unable to start. Refused before anything changes.
check_database_password() {
    local file="$RK_DATA_STATE/database-password.hmac" key expected
    database_unchecked=""
    if [ ! -f "$file" ]; then
        # A database from before registry-kit kept fingerprints: it cannot be checked, only recorded.
        if [ -d "$RK_DATA_VOLUME/database" ] && [ -n "$(ls -A "$RK_DATA_VOLUME/database" 2>/dev/null)" ]; then database_unchecked=1; fi
        return 0
    fi
    need openssl
    read -r key expected <"$file" || true
    [[ "$key" =~ ^[0-9a-f]{64}$ ]] || fail "$file is not '<key> <hmac>'; remove it to record the current database password again"
    if [ "$(hmac_sha256 "$key" "$stage/database-password")" != "$expected" ]; then
        fail "refusing to install or update Harbor: the database password differs from the one the database in $RK_DATA_VOLUME was initialised with (its HMAC is in $file), and Postgres keeps the old one, so Harbor could not start. Nothing was changed. Set registry-kit:harbor.databasePassword (pulumi config set --secret) to the original password: from the old stack (pulumi stack output databasePassword --show-secrets, or your backup of it), or 'database.password' in $RK_HARBOR_YML if that file is still the one the database was created with. To change the password for good, change it in Postgres first (ALTER USER postgres PASSWORD ...), then remove $file and run pulumi up with the new one."
    fi
}

tools() {
    local t
    for t in curl sha256sum tar base64 od openssl docker; do need "$t"; done
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
    curl -fsSL --netrc-optional --retry 3 -o "$tarball.part" "$RK_URL" || fail "could not download $RK_URL"
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

# Extracts the verified installer into $RK_DIR/.staging and checks it is a Harbor $RK_VERSION offline
# installer, while the running Harbor is untouched.
stage_installer() {
    staging="$RK_DIR/.staging"
    rm -rf "$staging"
    mkdir -p "$staging"
    local bad=""
    if ! tar -xzf "$tarball" -C "$staging" 2>/dev/null; then
        bad="it does not extract"
    elif [ ! -x "$staging/harbor/prepare" ]; then
        bad="it has no executable harbor/prepare"
    elif [ ! -f "$staging/harbor/harbor.yml.tmpl" ]; then
        bad="it has no harbor/harbor.yml.tmpl"
    elif [ ! -f "$staging/harbor/harbor.$RK_VERSION.tar.gz" ]; then
        bad="it has no images tarball harbor/harbor.$RK_VERSION.tar.gz"
    fi
    if [ -n "$bad" ]; then
        rm -rf "$staging"
        fail "$tarball (checksum verified) is not a Harbor $RK_VERSION offline installer: $bad. Nothing was stopped or replaced. Check registry-kit:harbor.installerUrl and installerSha256 (the release's harbor-offline-installer-$RK_VERSION.tgz), remove $tarball, and run pulumi up again."
    fi
}

# The staged installer takes the place of $RK_HARBOR_DIR; an earlier one moves to $RK_DIR/previous.
swap_installer() {
    if [ -d "$RK_HARBOR_DIR" ]; then
        rm -rf "$RK_DIR/previous"
        mv "$RK_HARBOR_DIR" "$RK_DIR/previous"
        say "the previous installer directory is kept in $RK_DIR/previous"
    fi
    mv "$staging/harbor" "$RK_HARBOR_DIR"
    rm -rf "$staging"
}

acme_dir="$RK_DIR/acme"

install_files() {
    mkdir -p "$RK_TLS_DIR" "$RK_DATA_VOLUME"
    install -m 0600 "$stage/harbor.yml" "$RK_HARBOR_YML"
    if [ -n "${RK_ACME:-}" ]; then
        # The certificate from stdin only bootstraps Harbor until certbot's is installed (harbor-acme-deploy.sh).
        mkdir -p "$acme_dir/bin"
        local f
        for f in certbot-acme.sh harbor-acme-deploy.sh harbor-acme.sh; do install -m 0755 "$stage/$f" "$acme_dir/bin/$f"; done
        install -m 0644 "$stage/acme.env" "$acme_dir/acme.env"
        install -m 0644 "$stage/acme.server.conf" "$acme_dir/acme.server.conf"
        if [ -f "$stage/acme-ca.pem" ]; then install -m 0644 "$stage/acme-ca.pem" "$acme_dir/bin/acme-ca.pem"; else rm -f "$acme_dir/bin/acme-ca.pem"; fi
        install -m 0644 "$stage/server.crt" "$RK_TLS_DIR/bootstrap.crt"
        install -m 0600 "$stage/server.key" "$RK_TLS_DIR/bootstrap.key"
        if [ ! -f "$RK_TLS_DIR/.acme" ]; then
            install -m 0644 "$stage/server.crt" "$RK_CERTIFICATE"
            install -m 0600 "$stage/server.key" "$RK_PRIVATE_KEY"
        fi
        return 0
    fi
    rm -f "$RK_TLS_DIR/.acme" "$RK_TLS_DIR/bootstrap.crt" "$RK_TLS_DIR/bootstrap.key"
    if [ -f "$stage/server.crt" ]; then install -m 0644 "$stage/server.crt" "$RK_CERTIFICATE"; fi
    if [ -f "$stage/server.key" ]; then install -m 0600 "$stage/server.key" "$RK_PRIVATE_KEY"; fi
}

# tls.mode acme: templates/harbor-acme.sh (configure | start), installed by install_files.
acme() {
    RK_ACME_DIR="$acme_dir" RK_HARBOR_DIR="$RK_HARBOR_DIR" RK_DATA_VOLUME="$RK_DATA_VOLUME" RK_TLS_DIR="$RK_TLS_DIR" \
        RK_ACME_IMAGE="${RK_ACME_IMAGE:-}" RK_ACME_CONTAINER="${RK_ACME_CONTAINER:-}" RK_PROXY_CONTAINER=nginx RK_ACME_DOCKER_ARGS= \
        bash "$acme_dir/bin/harbor-acme.sh" "$1"
}

# The certbot renewal container, started after Harbor is up (acme), or removed (any other mode).
acme_after_up() {
    if [ -n "${RK_ACME:-}" ]; then
        acme start
        printf '%s\n' "$RK_ACME_CONTAINER" >"$acme_dir/container"
    else
        acme_remove
    fi
}

acme_remove() {
    local name
    name="$(cat "$acme_dir/container" 2>/dev/null || true)"
    [ -n "$name" ] || return 0
    docker rm -f "$name" >/dev/null 2>&1 || true
    rm -f "$acme_dir/container"
    say "removed the certbot container $name"
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

# After a successful start: the versions, the config HMAC, and (once) the database password's
# fingerprint. The owner is recorded last of all (record_owner).
record() {
    mkdir -p "$RK_DATA_STATE"
    chmod 0700 "$RK_DATA_STATE"
    printf '%s\n' "$RK_VERSION" >"$RK_VERSION_FILE"
    printf '%s\n' "$RK_VERSION" >"$RK_DATA_STATE/version"
    printf '%s\n' "$RK_CONFIG_HMAC" >"$RK_DIR/config.hmac"
    local file="$RK_DATA_STATE/database-password.hmac" key
    if [ ! -f "$file" ]; then
        key="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
        (umask 077 && printf '%s %s\n' "$key" "$(hmac_sha256 "$key" "$stage/database-password")" >"$file")
        if [ -n "${database_unchecked:-}" ]; then
            say "recorded the database password's fingerprint in $file; $RK_DATA_VOLUME/database existed without one, so this password was not checked against it (if Harbor cannot reach its database, see the README's Passwords)"
        fi
    fi
}

# Ownership. RK_OWNER is the same for a resource and its replacement by `pulumi up --replace` (same URN,
# same connection), so each create and update also draws a token here, records `RK_OWNER:token` once
# everything else succeeded, and prints it as its last line. Pulumi keeps that output in state (only when
# the command succeeds) and @pulumi/command passes it to the resource's next update and to its delete as
# PULUMI_COMMAND_STDOUT: each resource knows its own token, and a replaced one finds another recorded.
# The token is not secret; it is drawn at run time, so the command's inputs never change.
record_owner() {
    local token
    token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s:%s\n' "$RK_OWNER" "$token" >"$RK_DIR/owner.new"
    mv -f "$RK_DIR/owner.new" "$RK_DIR/owner"
    say "owner token $token"
}

# Sets owner_is: none (nothing recorded), mine, or theirs (another resource's create or update came
# after this one's). The owner id decides, then the token; where either side has no token (an owner file
# or output from before owner tokens, or output that did not arrive) the owner id alone.
ownership() {
    local recorded id token="" mine
    recorded="$(cat "$RK_DIR/owner" 2>/dev/null || true)"
    id="${recorded%%:*}"
    case "$recorded" in *:*) token="${recorded#*:}" ;; esac
    mine="$(printf '%s\n' "${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^registry-kit harbor: owner token \([0-9a-f]\{32\}\)$/\1/p' | tail -n 1)"
    if [ -z "$recorded" ]; then
        owner_is=none
    elif [ "$id" != "$RK_OWNER" ]; then
        owner_is=theirs
    elif [ -n "$token" ] && [ -n "$mine" ]; then
        if [ "$token" = "$mine" ]; then owner_is=mine; else owner_is=theirs; fi
    else
        owner_is=mine
        if [ -n "$token" ]; then
            say "warning: this command's previous output (PULUMI_COMMAND_STDOUT) did not reach the host, or holds no owner token: ownership is checked by the owner id only, so a 'pulumi up --replace' of this command would stop Harbor. Over SSH, Harbor's sshd must accept the variable: add 'AcceptEnv PULUMI_COMMAND_STDOUT' to its sshd_config and reload sshd."
        fi
    fi
}

# Runs the installer's prepare (harbor.yml → docker-compose.yml and component configs), then starts
# the project; --force-recreate makes every container read its regenerated config.
prepare_and_up() {
    cd "$RK_HARBOR_DIR"
    say "running prepare $RK_PREPARE_ARGS"
    # shellcheck disable=SC2086
    ./prepare $RK_PREPARE_ARGS
    # prepare empties common/config: the ACME server for port 8080 is written after each run.
    if [ -n "${RK_ACME:-}" ]; then acme configure; fi
    say "starting the Harbor compose project"
    docker compose up -d "$@"
    # Harbor is up with this configuration: recorded before certbot, so a failed issuance retried by
    # the next `pulumi up` takes the unchanged path instead of recreating Harbor.
    record
    acme_after_up
    say "Harbor $RK_VERSION is up (config HMAC $RK_CONFIG_HMAC)"
}

# The download is verified and the installer checked in staging before the running Harbor is stopped.
install_version() {
    download_verified
    stage_installer
    stop_project
    swap_installer
    install_files
    load_images
    prepare_and_up --remove-orphans
}

# Same version, same files (the HMAC covers harbor.yml and the TLS files): a replacement of the command
# resource (new SSH key, say) takes Harbor over without restarting it.
unchanged() {
    [ "$(installed_version)" = "$RK_VERSION" ] && [ -x "$RK_HARBOR_DIR/prepare" ] && [ -f "$RK_HARBOR_DIR/docker-compose.yml" ] &&
        [ "$(cat "$RK_DIR/config.hmac" 2>/dev/null || true)" = "$RK_CONFIG_HMAC" ]
}

# The running Harbor has this version and configuration: take it over without a restart.
take_over() {
    say "Harbor $RK_VERSION is installed with this configuration: taking it over without a restart"
    if [ -n "${RK_ACME:-}" ]; then
        install_files
        acme configure
    fi
    (cd "$RK_HARBOR_DIR" && docker compose up -d --remove-orphans)
    record
    acme_after_up
}

# create | update: every refusal before anything changes, then the smallest step that gets there.
create_or_update() {
    read_files
    check_versions
    check_database_password
    tools
    mkdir -p "$RK_DIR"
    if [ "$1" = update ]; then
        ownership
        if [ "$owner_is" = theirs ]; then
            say "another registry-kit resource had taken Harbor in $RK_DIR over since this one's last create or update (owner recorded in $RK_DIR/owner): this update takes it back"
        fi
    fi
    if unchanged; then
        take_over
    elif [ "$(installed_version)" != "$RK_VERSION" ] || [ ! -x "$RK_HARBOR_DIR/prepare" ]; then
        install_version
    else
        install_files
        prepare_and_up --force-recreate --remove-orphans
    fi
    # Last: a failure above leaves the owner (and Pulumi's state, which keeps the previous output) as it was.
    record_owner
}

# delete: stops Harbor (keeping its data) unless a replacement resource owns it now.
delete_harbor() {
    ownership
    if [ "$owner_is" = theirs ]; then
        say "Harbor in $RK_DIR now belongs to another registry-kit resource (a replacement: after an SSH connection change, or pulumi up --replace): leaving it running"
        return 0
    fi
    need docker
    acme_remove
    stop_project
    rm -f "$RK_DIR/owner"
    say "kept $RK_DATA_VOLUME (images, database) and $RK_DIR; remove them by hand to discard the data"
}

case "${1:-}" in
    create | update) create_or_update "$1" ;;
    delete) delete_harbor ;;
    *) fail "usage: create | update | delete" ;;
esac
