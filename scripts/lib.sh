# Shared helpers for the project's scripts (sourced, not run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UV_PYTHON_DOWNLOADS=never   # never fetch an interpreter: use the machine's Python 3.11+
export UV_NO_PROGRESS=1
export PATH="$HOME/.local/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

ensure_python() {
  local py
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$(command -v "$py")"; export PYTHON; return
    fi
  done
  die "Python 3.11+ is required (found: $(python3 --version 2>&1 || echo none))"
}

ensure_uv() {
  ensure_python
  if ! command -v uv >/dev/null 2>&1; then
    log "Installing uv with pip"
    "$PYTHON" -m pip install --quiet --user uv 2>/dev/null || "$PYTHON" -m pip install --quiet uv \
      || "$PYTHON" -m pip install --quiet --break-system-packages --user uv
  fi
  command -v uv >/dev/null 2>&1 || die "uv is not on PATH after installing it"
}

ensure_node() {
  # Matches frontend/package.json "engines": Debian's Node 20.19+ works; 22 LTS is recommended.
  command -v node >/dev/null 2>&1 || die "Node.js 20.19+ is required (22 LTS recommended)"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
    || die "Node.js 20.19+ is required (22 LTS recommended), found $(node --version)"
}

_APT_UPDATED=0
apt_install() {
  # apt_install PACKAGE... : install Debian packages when missing (needs root or passwordless sudo).
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
  if [ "$_APT_UPDATED" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed (need root)"
    _APT_UPDATED=1
  fi
  log "Installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

backend_sync() {
  ensure_uv
  log "Installing backend dependencies (uv sync --frozen)"
  (cd "$ROOT/backend" && uv sync --frozen --quiet --python "$PYTHON" "$@")
}

frontend_install() {
  ensure_node
  if [ ! -d "$ROOT/frontend/node_modules" ] || [ "$ROOT/frontend/package-lock.json" -nt "$ROOT/frontend/node_modules/.package-lock.json" ]; then
    log "Installing frontend dependencies (npm ci)"
    (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
