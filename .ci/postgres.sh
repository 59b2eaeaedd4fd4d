#!/usr/bin/env bash
# Make PostgreSQL answer on 127.0.0.1:5432 for the suite's PostgreSQL lane:
# start the installed server if it is stopped, install it from Debian's
# packages when it is missing (as root), allow local connections of the
# 'postgres' user without password, and create the 'test' database.
# When none of this is possible the lane skips and says why.
set -euo pipefail

answers() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing PostgreSQL from Debian's packages..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "PostgreSQL is not installed and cannot be installed (needs root and apt-get)."
        exit 0
    fi
fi

if ! answers; then
    for version in $(ls /etc/postgresql); do
        if ! pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
            pg_ctlcluster --skip-systemctl-redirect "$version" main start
        fi
    done
fi

if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL runs but refuses user 'postgres' on 127.0.0.1 without a password."
        exit 0
    fi
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
        if ! grep -q "^host all postgres 127.0.0.1/32 trust" "$hba"; then
            sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
        fi
    done
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    done
fi

if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c "create database test" >/dev/null
fi
echo "PostgreSQL answers on 127.0.0.1:5432."
