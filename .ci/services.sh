#!/usr/bin/env bash
# Everything the suite talks to besides the Python packages, in one command
# (`make services`): PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379,
# started (and installed from Debian's packages, as root) when they are not
# running; Java and Maven for the real OpenSearch lanes, and the OpenSearch
# artifacts from Maven Central in their cache (~/.cache/djangoes/engines).
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/postgres.sh
.ci/redis.sh

missing=()
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing ${missing[*]} from Debian's packages..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "Missing ${missing[*]}: the real OpenSearch lanes will be skipped (they say why)."
    fi
fi
# Java 21 or newer (OpenSearch 3.8) is not in Debian 12: python -m tests.engines java
# says which Java each lane runs on, or why it cannot run.
python3 -m tests.engines java || true
python3 -m tests.engines resolve || true
