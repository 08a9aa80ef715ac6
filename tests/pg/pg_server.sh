#!/usr/bin/env bash
# tests/pg/pg_server.sh start|stop|pause|resume DIR: a real PostgreSQL 15
# for the tests.
# start: initdb into DIR/data (trust authentication, superuser "sealpost"),
# server listening only on a unix socket in DIR (no TCP port to collide
# with), database "sealpost_test". Run as the `postgres` user when we are
# root (the server refuses root). Prints the environment to use:
#   PGHOST=DIR PGUSER=sealpost PGDATABASE=sealpost_test
# stop: fast shutdown, DIR removed. pause: fast shutdown, data kept;
# resume: start it again (the database "went away and came back").
# SEALPOST_PG_FSYNC=on: durable commits (the benchmark; the tests need
# not). Fails loudly (exit != 0) when the server does not start; its log is
# printed then.
set -euo pipefail
BIN=${SEALPOST_PG_BIN:-/usr/lib/postgresql/15/bin}
action=${1:?usage: pg_server.sh start|stop|pause|resume DIR}
dir=${2:?usage: pg_server.sh start|stop|pause|resume DIR}

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
    if [[ -f $dir/data/postmaster.pid ]]; then
        as_pg "$BIN/pg_ctl" -D "$dir/data" -w -m fast stop >/dev/null 2>&1 ||
            as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
}

case $action in
start)
    [[ -x $BIN/initdb ]] || { echo "pg_server: $BIN/initdb missing: apt-get install postgresql (scripts/setup)" >&2; exit 1; }
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    chmod 0755 "$dir"
    as_pg "$BIN/initdb" -D "$dir/data" -A trust -U sealpost -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    if ! as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $dir -c fsync=${SEALPOST_PG_FSYNC:-off} -c max_connections=200" start >/dev/null; then
        cat "$dir/server.log" >&2
        exit 1
    fi
    as_pg "$BIN/createdb" -h "$dir" -U sealpost sealpost_test
    echo "PGHOST=$dir PGUSER=sealpost PGDATABASE=sealpost_test"
    ;;
stop)
    stop
    rm -rf "$dir"
    ;;
pause)
    stop
    ;;
resume)
    if ! as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $dir -c fsync=${SEALPOST_PG_FSYNC:-off} -c max_connections=200" start >/dev/null; then
        cat "$dir/server.log" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: pg_server.sh start|stop DIR" >&2
    exit 64
    ;;
esac
