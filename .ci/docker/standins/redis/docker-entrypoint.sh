#!/bin/sh
# As the official redis image: protected mode off (the compose network is the
# boundary), /data owned by redis, the server run as redis.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
fi
exec "$@"
