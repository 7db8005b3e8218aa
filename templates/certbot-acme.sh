#!/bin/sh
# registry-kit: obtains the registry's certificate over HTTP-01 (certbot, webroot) and renews it.
#   run            (default) obtain if missing, then check for renewal every RK_RENEW_SECONDS
#   once           one issuance attempt (obtain if missing or due), exit code and the likely cause;
#                  then RK_DEPLOY_HOOK, if set
#   wait SECONDS   wait for the certificate; print its issuer and expiry, or why issuance failed
# Environment: RK_DOMAINS (comma-separated), RK_CERT_NAME, RK_SERVER, RK_EMAIL (empty for none),
# RK_KEY_TYPE (ecdsa|rsa), RK_RSA_KEY_SIZE, RK_ELLIPTIC_CURVE, RK_WEBROOT, RK_RENEW_SECONDS,
# RK_RETRY_SECONDS; REQUESTS_CA_BUNDLE to trust a private ACME server. RK_DEPLOY_HOOK (optional): a
# command that installs the certificate where a server reads it; run after the first issuance (or with
# the certificate already there) and by certbot after each renewal.
set -u
live="/etc/letsencrypt/live/${RK_CERT_NAME}"
status="/etc/letsencrypt/registry-kit-${RK_CERT_NAME}.status"
first=${RK_DOMAINS%%,*}

say() { echo "registry-kit-acme: $*"; }

# certbot's output on stdin -> the likely cause, for the person reading the error.
hint() {
    out=$(cat)
    case "$out" in
        *NXDOMAIN*|*"DNS problem"*|*"no valid A records"*|*"No valid IP addresses"*|*"no such host"*|*"could not resolve"*|*"error occurred while resolving"*)
            echo "the DNS name $first does not resolve: point its A/AAAA record at this host's public address" ;;
        *"onnection refused"*|*"Timeout during connect"*|*"Timeout after connect"*|*"firewall"*|*"i/o timeout"*|*"connection reset"*|*"deadline exceeded"*)
            echo "nothing answered on port 80 of $first: open port 80 to this host (HTTP-01 needs it) and check that DNS points here" ;;
        *"Invalid response"*|*"404"*|*unauthorized*)
            echo "$first answered on port 80, but not with the challenge: DNS probably points at another host, or a proxy in front does not pass /.well-known/acme-challenge/" ;;
        *rateLimited*|*"too many"*)
            echo "the ACME server's rate limit was hit: wait before retrying, and use the staging directory while testing" ;;
        *)
            echo "see the certbot output in this container's log" ;;
    esac
}

# issue [early|final]: one attempt; only a final attempt's failure is reported to `wait`.
issue() {
    mode=${1:-final}
    set -- certonly --webroot -w "$RK_WEBROOT" --cert-name "$RK_CERT_NAME" --non-interactive --agree-tos \
        --keep-until-expiring --expand --server "$RK_SERVER" --key-type "$RK_KEY_TYPE"
    for d in $(echo "$RK_DOMAINS" | tr ',' ' '); do set -- "$@" -d "$d"; done
    if [ -n "${RK_EMAIL:-}" ]; then set -- "$@" -m "$RK_EMAIL"; else set -- "$@" --register-unsafely-without-email; fi
    if [ "$RK_KEY_TYPE" = rsa ]; then set -- "$@" --rsa-key-size "$RK_RSA_KEY_SIZE"; else set -- "$@" --elliptic-curve "$RK_ELLIPTIC_CURVE"; fi
    out=$(certbot "$@" 2>&1)
    rc=$?
    echo "$out"
    if [ "$rc" -ne 0 ]; then
        msg="ACME issuance for $RK_DOMAINS from $RK_SERVER failed: $(echo "$out" | hint)"
        say "$msg"
        # Quick retries first (the proxy may still be starting): only then is the failure reported.
        [ "$mode" = final ] && echo "failed $msg" >"$status"
        return 1
    fi
    echo ok >"$status"
}

renew() {
    # The loop already spreads renewals; certbot's own random sleep (up to 8 minutes) is not needed.
    set -- renew --non-interactive --no-random-sleep-on-renew --cert-name "$RK_CERT_NAME"
    if [ -n "${RK_DEPLOY_HOOK:-}" ]; then set -- "$@" --deploy-hook "$RK_DEPLOY_HOOK"; fi
    certbot "$@" || say "renewal check failed; retrying later"
}

deploy() {
    [ -n "${RK_DEPLOY_HOOK:-}" ] || return 0
    sh -c "$RK_DEPLOY_HOOK" || { say "installing the certificate failed ($RK_DEPLOY_HOOK)"; return 1; }
}

describe() {
    python3 - "$live/cert.pem" <<'PY'
import sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
print("issuer=" + cert.issuer.rfc4514_string())
print("notAfter=" + cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ"))
print("serial=%x" % cert.serial_number)
PY
}

case "${1:-run}" in
    wait)
        deadline=$(($(date +%s) + ${2:-300}))
        while [ "$(date +%s)" -lt "$deadline" ]; do
            state=$(cat "$status" 2>/dev/null || echo pending)
            case "$state" in
                ok) describe; exit 0 ;;
                failed*) echo "${state#failed }" >&2; exit 1 ;;
            esac
            sleep 2
        done
        echo "ACME issuance for $RK_DOMAINS did not finish within ${2:-300}s: see this container's log" >&2
        exit 1
        ;;
    once)
        issue && deploy
        ;;
    run)
        trap 'exit 0' TERM INT
        echo pending >"$status"
        attempt=1
        until issue "$([ "$attempt" -ge 3 ] && echo final || echo early)"; do
            if [ "$attempt" -lt 3 ]; then pause=10; else pause=$RK_RETRY_SECONDS; fi
            attempt=$((attempt + 1))
            sleep "$pause" &
            wait $!
        done
        deploy || true
        while :; do
            # Spread renewals over an hour so many hosts do not hit the CA at the same second.
            sleep $((RK_RENEW_SECONDS + $(awk 'BEGIN { srand(); print int(rand() * 3600) }'))) &
            wait $!
            renew
        done
        ;;
    *)
        echo "usage: $0 [run | once | wait SECONDS]" >&2
        exit 2
        ;;
esac
