# Shared helpers of the scripts in this folder; source it, do not run it.

# Installs Debian packages that are missing (as root, or through sudo).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Makes sure a Rust toolchain with rustfmt and clippy is on PATH.
ensure_rust() {
    if [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found. Install Rust (https://rustup.rs), then run this again." >&2
        exit 1
    fi
    if command -v rustup >/dev/null 2>&1; then
        rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
        rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
    fi
}

# Makes sure the dashboard's build tools are there: the wasm32 target,
# wasm-bindgen-cli of exactly the wasm-bindgen version in site/Cargo.lock, and
# the npm tools in site/node_modules.
ensure_site_tools() {
    if command -v rustup >/dev/null 2>&1; then
        rustup target list --installed | grep -qx wasm32-unknown-unknown ||
            rustup target add wasm32-unknown-unknown
    fi
    local want have
    want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' site/Cargo.lock)
    have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
    if [ "$have" != "$want" ]; then
        echo "installing wasm-bindgen-cli $want (takes a few minutes)" >&2
        # --locked can fail when the registry lacks a locked dependency version;
        # then let cargo resolve compatible ones.
        cargo install wasm-bindgen-cli --version "$want" --locked ||
            cargo install wasm-bindgen-cli --version "$want"
    fi
    ensure_site_node_modules
}

# Installs site/node_modules (binaryen, playwright-core) from the lock file when
# missing or out of date.
ensure_site_node_modules() {
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    if [ ! -x site/node_modules/.bin/wasm-opt ] || [ ! -d site/node_modules/playwright-core ] ||
        [ site/package-lock.json -nt site/node_modules/.package-lock.json ]; then
        (cd site && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# Makes sure redis-server is installed; tests start their own on free ports.
ensure_redis() {
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
}

# Makes sure SecantusDB, the MongoDB wire-protocol server the tests start on
# free ports, is importable; exports ANOMALOG_TEST_PYTHON, the Python that has it.
# Uses the current python3 when it has SecantusDB or pip may install into it,
# otherwise a virtual environment in target/test-python.
SECANTUS_VERSION="0.7.0b3"
ensure_secantus() {
    local python="${ANOMALOG_TEST_PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 || apt_install python3
    if "$python" -c 'import secantus' 2>/dev/null; then
        export ANOMALOG_TEST_PYTHON="$python"
        return 0
    fi
    echo "installing secantusdb==$SECANTUS_VERSION" >&2
    if "$python" -m pip --version >/dev/null 2>&1 &&
        "$python" -m pip install -q "secantusdb==$SECANTUS_VERSION" 2>/dev/null; then
        export ANOMALOG_TEST_PYTHON="$python"
        return 0
    fi
    # An "externally managed" system Python: install into our own environment.
    local venv="$PWD/target/test-python"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" 2>/dev/null || {
            apt_install python3-venv
            "$python" -m venv "$venv"
        }
    fi
    "$venv/bin/python" -c 'import secantus' 2>/dev/null ||
        "$venv/bin/python" -m pip install -q "secantusdb==$SECANTUS_VERSION"
    export ANOMALOG_TEST_PYTHON="$venv/bin/python"
}

# Installs the real shipper clients the protocol tests drive
# (functions/ingest/tests/shippers.rs): pinned pip packages into the Python
# ensure_secantus picked (call that first), util-linux `logger`, syslog-ng
# with its http() module, and the Node.js clients of
# functions/ingest/tests/clients (winston-loki) from their lock file.
PROTOCOL_CLIENTS_PIP=(
    "opentelemetry-sdk==1.45.2"
    "opentelemetry-exporter-otlp-proto-http==1.45.2"
    "python-logging-loki==0.3.1"
    "elasticsearch==9.5.1"
)
ensure_protocol_clients() {
    local python="${ANOMALOG_TEST_PYTHON:?run ensure_secantus first}"
    if ! "$python" -c 'import opentelemetry.exporter.otlp.proto.http, logging_loki, elasticsearch' 2>/dev/null; then
        echo "installing ${PROTOCOL_CLIENTS_PIP[*]}" >&2
        "$python" -m pip install -q "${PROTOCOL_CLIENTS_PIP[@]}"
    fi
    command -v logger >/dev/null 2>&1 || apt_install bsdutils
    # The http() destination is a module of its own in Debian.
    apt_install syslog-ng-core syslog-ng-mod-http
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    local clients=functions/ingest/tests/clients
    if [ ! -d "$clients/node_modules/winston-loki" ] ||
        [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; then
        (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# Makes sure cargo-lambda (the Lambda Runtime API emulator behind
# scripts/lambda-e2e) is on PATH: the prebuilt PyPI wheel, pinned, installed
# into the Python ensure_secantus picked (call that first).
CARGO_LAMBDA_VERSION="1.8.6"
ensure_cargo_lambda() {
    local python="${ANOMALOG_TEST_PYTHON:?run ensure_secantus first}"
    local bin
    bin="$(dirname "$(command -v "$python")")"
    if ! cargo lambda --version 2>/dev/null | grep -q "^cargo-lambda $CARGO_LAMBDA_VERSION"; then
        echo "installing cargo-lambda==$CARGO_LAMBDA_VERSION" >&2
        "$python" -m pip install -q "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
    case ":$PATH:" in *":$bin:"*) ;; *) export PATH="$bin:$PATH" ;; esac
}
