#!/usr/bin/env bash
# Regenerates src/address/pinyin_table.inc (the toneless Mandarin syllable of each BMP CJK
# ideograph, for homophone typos in addresses) from Unihan_Readings.txt in Debian's
# unicode-data package. Needs: apt-get install unicode-data, python3 (neither is needed to
# build pingan). An explicit path to Unihan_Readings.txt[.bz2] may be given as $1.
set -euo pipefail
cd "$(dirname "$0")/../.."
readings=${1:-}
if [[ -z "$readings" ]]; then
  for candidate in /usr/share/unicode/Unihan_Readings.txt.bz2 /usr/share/unicode/Unihan_Readings.txt; do
    if [[ -f "$candidate" ]]; then readings=$candidate; break; fi
  done
fi
if [[ -z "$readings" || ! -f "$readings" ]]; then
  echo "Unihan_Readings.txt not found: apt-get install unicode-data" >&2
  exit 1
fi
version=$( (bzcat -f "$readings" 2>/dev/null || cat "$readings") | sed -n 's/^# Unicode version: //p' | head -1)
version="Unicode $version"
if command -v dpkg-query >/dev/null && dpkg-query -W unicode-data >/dev/null 2>&1; then
  version="$version; Debian unicode-data $(dpkg-query -W -f='${Version}' unicode-data)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tools/pinyin_table/gen_pinyin_table.py "$readings" "$version" >"$tmp/pinyin_table.inc"
mv "$tmp/pinyin_table.inc" src/address/pinyin_table.inc
echo "wrote src/address/pinyin_table.inc ($(wc -c <src/address/pinyin_table.inc) bytes)"
