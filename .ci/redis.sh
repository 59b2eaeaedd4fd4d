#!/usr/bin/env bash
# Make Redis answer on 127.0.0.1:6379 (the broker of the Celery test): start
# the installed server if none answers, install it from Debian's packages when
# it is missing (as root). When neither is possible the Celery test skips and
# says why.
set -euo pipefail

answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Redis from Debian's packages..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "Redis is not installed and cannot be installed (needs root and apt-get)."
        exit 0
    fi
fi

if ! answers; then
    # no service manager needed: a daemon on loopback, nothing written to disk
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
        --logfile "${TMPDIR:-/tmp}/djangoes-redis.log"
    for _ in $(seq 50); do answers && break; sleep 0.1; done
fi

if answers; then
    echo "Redis answers on 127.0.0.1:6379."
else
    echo "Redis does not answer on 127.0.0.1:6379 (see ${TMPDIR:-/tmp}/djangoes-redis.log)."
    exit 1
fi
