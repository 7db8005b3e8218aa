#!/bin/sh
# registry-kit: serves the ACME certificate once certbot has it, the bootstrap certificate until then,
# and reloads nginx gracefully (in-flight requests finish on the old workers) whenever it changes.
# Run by the nginx image's entrypoint from /docker-entrypoint.d/ before nginx starts.
# Environment: RK_CERT_NAME (certbot's certificate name), RK_RELOAD_CHECK_SECONDS.
set -eu
live="/etc/letsencrypt/live/${RK_CERT_NAME}"
bootstrap=/etc/nginx/tls/bootstrap
active=/etc/nginx/tls/active

pick() {
    if [ -s "$live/fullchain.pem" ] && [ -s "$live/privkey.pem" ]; then echo "$live"; else echo "$bootstrap"; fi
}

install_from() {
    mkdir -p "$active"
    cp "$1/fullchain.pem" "$active/fullchain.pem.new"
    (umask 077 && cp "$1/privkey.pem" "$active/privkey.pem.new")
    mv "$active/privkey.pem.new" "$active/privkey.pem"
    mv "$active/fullchain.pem.new" "$active/fullchain.pem"
    echo "registry-kit: serving the certificate from $1"
}

install_from "$(pick)"

watch() {
    while sleep "${RK_RELOAD_CHECK_SECONDS:-30}"; do
        src=$(pick)
        if ! cmp -s "$src/fullchain.pem" "$active/fullchain.pem" || ! cmp -s "$src/privkey.pem" "$active/privkey.pem"; then
            install_from "$src"
            if nginx -t -q; then nginx -s reload && echo "registry-kit: nginx reloaded"; else echo "registry-kit: new certificate rejected by nginx -t"; fi
        fi
    done
}
watch </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 &
