#!/bin/sh
# Minimal stand-in for the official nginx image's entrypoint: when starting
# nginx, run any executable /docker-entrypoint.d/*.sh hooks in order, then
# exec the command. (No envsubst templates or IPv6 rewriting.)
set -e

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
  if [ -d /docker-entrypoint.d ]; then
    for f in /docker-entrypoint.d/*.sh; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      echo "$0: running $f"
      "$f"
    done
  fi
fi

exec "$@"
