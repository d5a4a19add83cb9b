#!/bin/sh
# The usual entrypoint script: some set-up, then `exec "$@"` so the command replaces the
# shell and receives the signals itself.
set -e
echo "entrypoint: setting up, then exec $*"
exec "$@"
