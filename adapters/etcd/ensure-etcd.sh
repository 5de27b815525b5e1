#!/usr/bin/env bash
# Run by `mvn verify` before the etcd adapter's tests: installs Debian's etcd-server when no etcd
# binary is on the PATH (or in $ETCD) and this machine can (root with apt-get). Otherwise it says
# loudly how to install it; the tests then skip, except under CI=true, where they fail.
set -euo pipefail
if [[ -n "${ETCD:-}" && -x "$ETCD" ]] || command -v etcd >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "etcd is missing: installing Debian's etcd-server for the etcd adapter's tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  exit 0
fi
echo "*** etcd is missing and cannot be installed here (needs root and apt-get)."
echo "*** Install it with 'sudo apt-get install etcd-server' or set ETCD to an etcd binary;"
echo "*** until then the etcd adapter's tests are skipped${CI:+ (CI=$CI)}."
