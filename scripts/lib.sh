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
