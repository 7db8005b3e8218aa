#!/bin/sh
# Make the TLS certificate for Pebble's own HTTPS listeners (ACME :14000,
# management :15000): a throw-away test CA (/etc/pebble/ca.pem, key discarded)
# and a server certificate for pebble, localhost, 127.0.0.1 and ::1.
set -eu
dir=/etc/pebble
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -new -nodes -sha256 -days 3650 \
  -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$tmp/ca.key" -out "$dir/ca.pem" \
  -subj "/CN=registry-kit Pebble test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash"

openssl req -new -nodes -sha256 \
  -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$dir/key.pem" -out "$tmp/server.csr" \
  -subj "/CN=pebble"

cat >"$tmp/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:pebble,DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -sha256 -days 3650 \
  -in "$tmp/server.csr" -CA "$dir/ca.pem" -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial \
  -extfile "$tmp/server.ext" -out "$dir/cert.pem"

openssl verify -CAfile "$dir/ca.pem" -x509_strict "$dir/cert.pem"
chmod 0644 "$dir/ca.pem" "$dir/cert.pem" "$dir/key.pem"
