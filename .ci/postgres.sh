# A throwaway PostgreSQL for the tests, from Debian's `postgresql` package (installed as the README says, only if
# missing). Source this file, then `start_postgres`: it initialises a cluster in a new temporary directory, starts it
# on a free loopback port (no Unix socket outside that directory, nothing else listening), exports
# TELLI_MCP_TEST_DATABASE_URL (with a random password) and registers `stop_postgres`, which stops the cluster and
# deletes its directory, on EXIT. As root (CI) the cluster runs as the `postgres` user the package creates.

install_postgres() {
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        return
    fi
    local as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql </dev/null
}

_as_cluster_owner() {
    # From the cluster's directory: the postgres user may not be allowed into the checkout's.
    if [[ $(id -u) -eq 0 ]]; then
        (cd "$PG_TEST_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_TEST_DIR" && "$@")
    fi
}

start_postgres() {
    install_postgres
    local bin port password started
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_TEST_DIR=$(mktemp -d)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$password" >"$PG_TEST_DIR/password"
    [[ $(id -u) -ne 0 ]] || chown -R postgres: "$PG_TEST_DIR"
    trap stop_postgres EXIT
    started=$(date +%s.%N)
    _as_cluster_owner "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=scram-sha-256 \
        --pwfile="$PG_TEST_DIR/password" --no-sync -E UTF8 >"$PG_TEST_DIR/initdb.log"
    _as_cluster_owner "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $PG_TEST_DIR -F -c max_connections=200" start >/dev/null
    PG_TEST_BIN=$bin
    export TELLI_MCP_TEST_DATABASE_URL="postgresql://postgres:$password@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, ready in" \
        "$(python3 -c "import time; print(f'{time.time() - $started:.1f}')") s"
}

stop_postgres() {
    if [[ -n ${PG_TEST_DIR:-} && -d $PG_TEST_DIR ]]; then
        _as_cluster_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_TEST_DIR"
    fi
    PG_TEST_DIR=
}
