#!/bin/sh
# registry-kit: certbot's deploy hook for Harbor. Installs the ACME certificate where Harbor's proxy reads
# it and reloads that nginx gracefully. Runs in the certbot container, which shares the PID namespace of
# Harbor's `nginx` container (`docker run --pid container:nginx`): no Docker socket is mounted anywhere.
#   /etc/registry-kit/harbor-cert  <data_volume>/secret/cert: server.crt and server.key, where prepare
#                                  copies the certificate and nginx reads it (/etc/cert)
#   /etc/registry-kit/harbor-tls   <installDir>/tls: what harbor.yml names, so a later prepare copies the
#                                  ACME certificate, not the bootstrap one; `.acme` marks it installed
# Environment: RK_CERT_NAME.
set -eu
live="/etc/letsencrypt/live/${RK_CERT_NAME}"
say() { echo "registry-kit-acme: $*"; }

[ -s "$live/fullchain.pem" ] && [ -s "$live/privkey.pem" ] || {
    say "no certificate in $live yet"
    exit 1
}
changed=0
for dir in /etc/registry-kit/harbor-cert /etc/registry-kit/harbor-tls; do
    [ -d "$dir" ] || continue
    if cmp -s "$live/fullchain.pem" "$dir/server.crt" && cmp -s "$live/privkey.pem" "$dir/server.key"; then continue; fi
    # Written in place: an existing file keeps its owner and mode (prepare's 10000:10000, 0600).
    (umask 077 && cat "$live/privkey.pem" >"$dir/server.key")
    cat "$live/fullchain.pem" >"$dir/server.crt"
    changed=1
done
[ ! -d /etc/registry-kit/harbor-tls ] || printf '%s\n' "$RK_CERT_NAME" >/etc/registry-kit/harbor-tls/.acme
[ "$changed" = 1 ] || {
    say "Harbor already serves this certificate"
    exit 0
}
for p in /proc/[0-9]*; do
    case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
        "nginx: master process"*)
            kill -HUP "${p#/proc/}"
            say "installed the certificate and reloaded Harbor's nginx (pid ${p#/proc/} in its namespace)"
            exit 0
            ;;
    esac
done
say "installed the certificate, but no nginx master process is visible to reload: run this container with --pid container:<Harbor's nginx>"
exit 1
