#!/bin/sh
# Same argument handling as the official registry:2 image:
#   a config file path        -> registry serve <path>
#   a registry subcommand/flag -> registry <args>
#   anything else              -> run it as given
set -e

case "$1" in
  *.yaml | *.yml)
    set -- registry serve "$@"
    ;;
  serve | garbage-collect | help | -*)
    set -- registry "$@"
    ;;
esac

exec "$@"
