#!/usr/bin/env bash
# registry-kit: ACME (HTTP-01) for Harbor's own proxy, run on Harbor's host by harbor-lifecycle.sh.
#   configure  after every prepare (which empties common/config): the name-based port-8080 server that
#              answers /.well-known/acme-challenge/ for the hostname, and its webroot
#   start      first issuance, synchronously (`pulumi up` fails with the likely cause), installed and
#              nginx reloaded; then the renewal container (`--restart unless-stopped`)
# Environment: RK_ACME_DIR (bin/, letsencrypt/, acme.env, acme.server.conf), RK_HARBOR_DIR,
# RK_DATA_VOLUME, RK_TLS_DIR, RK_ACME_IMAGE, RK_ACME_CONTAINER, RK_PROXY_CONTAINER (Harbor's `nginx`),
# RK_ACME_DOCKER_ARGS (more `docker run` options, space-separated; may be empty).
set -euo pipefail

say() { printf 'registry-kit harbor: %s\n' "$*"; }
fail() {
    printf 'registry-kit harbor: error: %s\n' "$*" >&2
    exit 1
}

nginx_dir="$RK_HARBOR_DIR/common/config/nginx"
webroot="$nginx_dir/registry-kit-acme"
conf="$nginx_dir/conf.d/registry-kit-acme.server.conf"

# certbot's container: Harbor's nginx PID namespace (for the reload), the webroot nginx serves, the
# account and certificates, and the two places the certificate is installed. No Docker socket.
certbot() {
    local mode="$1"
    shift
    local ca=()
    if [ -f "$RK_ACME_DIR/bin/acme-ca.pem" ]; then ca=(-e REQUESTS_CA_BUNDLE=/etc/registry-kit/bin/acme-ca.pem); fi
    # shellcheck disable=SC2086
    docker run "$@" --pid "container:$RK_PROXY_CONTAINER" --env-file "$RK_ACME_DIR/acme.env" ${ca[@]+"${ca[@]}"} \
        -v "$RK_ACME_DIR/letsencrypt:/etc/letsencrypt" \
        -v "$webroot:/var/www/acme" \
        -v "$RK_DATA_VOLUME/secret/cert:/etc/registry-kit/harbor-cert" \
        -v "$RK_TLS_DIR:/etc/registry-kit/harbor-tls" \
        -v "$RK_ACME_DIR/bin:/etc/registry-kit/bin:ro" \
        ${RK_ACME_DOCKER_ARGS:-} \
        --entrypoint /bin/sh "$RK_ACME_IMAGE" /etc/registry-kit/bin/certbot-acme.sh "$mode"
}

case "${1:-}" in
    configure)
        mkdir -p "$nginx_dir/conf.d" "$webroot" "$RK_ACME_DIR/letsencrypt"
        chmod 0755 "$webroot"
        install -m 0644 "$RK_ACME_DIR/acme.server.conf" "$conf"
        say "wrote $conf (ACME HTTP-01 challenges on port 8080 of Harbor's nginx)"
        ;;
    start)
        docker rm -f "$RK_ACME_CONTAINER" >/dev/null 2>&1 || true
        say "obtaining (or checking) the ACME certificate"
        issued=1
        certbot once --rm || issued=0
        # The renewal container runs either way: its loop retries a failed issuance (RK_RETRY_SECONDS).
        certbot run -d --name "$RK_ACME_CONTAINER" --restart unless-stopped >/dev/null
        say "certbot renews the certificate in the container $RK_ACME_CONTAINER"
        [ "$issued" = 1 ] || fail "the ACME certificate could not be obtained (the cause is above). Harbor keeps running with the certificate it had (the bootstrap one before the first issuance), and $RK_ACME_CONTAINER keeps retrying; fix the cause and run pulumi up again."
        ;;
    *) fail "usage: configure | start" ;;
esac
