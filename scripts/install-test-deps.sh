#!/usr/bin/env bash
# Install what the test suite needs and the machine may lack: uv, npm packages, and the
# Debian packages for PostgreSQL's server binaries, redis-server, chromium, prometheus
# (promtool), prometheus-alertmanager (amtool) and kubectl (renders the kustomize overlays).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  missing+=(postgresql)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi
# PostgreSQL refuses to run as root: the test harness runs it as the `postgres` system user.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi
backend_sync
frontend_install
