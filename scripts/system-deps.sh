#!/usr/bin/env bash
# Install the Debian packages that tests start for real (Redis, Prometheus, ...), if missing.
# Reads scripts/system-packages.txt: "<package> <binary>" per line. Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
while read -r pkg bin _; do
  [[ -z "${pkg:-}" || "$pkg" == \#* ]] && continue
  command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/bin/$bin" || -x "/usr/sbin/$bin" ]] || missing+=("$pkg")
done < system-packages.txt
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
