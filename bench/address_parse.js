#!/usr/bin/env node
// Runs the npm package address-parse (pinned in package.json) over address lines, timing only
// the parsing, and scores it on labelled lines (pingan's DIR/eval/*.jsonl) at the levels it
// returns: province, city, district (it returns no town or below).
//
//   node bench/address_parse.js FILE [--texts OUT]
//
// FILE: a labelled JSONL set ({"text": ..., "expect": {...}}) or plain lines. With --texts, the
// texts are also written to OUT, one a line (for feeding the same lines to pingan geocode).
// Prints one JSON object on stdout.
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error('usage: address_parse.js FILE [--texts OUT]');
  process.exit(2);
}
const file = args[0];
const textsOut = args.indexOf('--texts') >= 0 ? args[args.indexOf('--texts') + 1] : null;

let AddressParse;
try {
  AddressParse = require(path.join(__dirname, '..', 'node_modules', 'address-parse'));
} catch (e) {
  console.error('address-parse is not installed: run scripts/deps.sh (npm ci)');
  process.exit(1);
}
const parser = AddressParse.default || AddressParse;

const items = [];
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (line.length === 0) continue;
  if (line[0] === '{') {
    const item = JSON.parse(line);
    items.push({ text: item.text, expect: item.expect || {} });
  } else {
    items.push({ text: line, expect: {} });
  }
}
if (textsOut) fs.writeFileSync(textsOut, items.map((item) => item.text).join('\n') + '\n');

// Parse everything first, timing only the parsing.
const results = new Array(items.length);
const start = process.hrtime.bigint();
for (let i = 0; i < items.length; ++i) results[i] = parser.parse(items[i].text);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;

// Names compared by prefix, without their level word: 西湖区 ~ 西湖, 广西壮族自治区 ~ 广西.
const SUFFIXES = ['特别行政区', '维吾尔自治区', '壮族自治区', '回族自治区', '自治区', '自治州', '自治县', '自治旗',
                  '地区', '省', '市', '区', '县', '盟', '旗'];
function stem(name) {
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix) && name.length - suffix.length >= 2) return name.slice(0, -suffix.length);
  }
  return name;
}
function same(expected, got) {
  if (!expected || !got) return false;
  const a = stem(expected);
  const b = stem(got);
  return a === b || (Math.min(a.length, b.length) >= 2 && (a.startsWith(b) || b.startsWith(a)));
}

const FIELDS = { province: 'province', city: 'city', district: 'area' };
const levels = {};
for (const level of Object.keys(FIELDS)) levels[level] = { right: 0, total: 0 };
let returned = 0;
for (let i = 0; i < items.length; ++i) {
  const best = Array.isArray(results[i]) ? results[i][0] : results[i];
  if (best && (best.province || best.city || best.area)) ++returned;
  for (const [level, field] of Object.entries(FIELDS)) {
    const expected = items[i].expect[level];
    if (expected === undefined) continue;
    ++levels[level].total;
    if (best && same(expected, best[field])) ++levels[level].right;
  }
}
const accuracy = {};
for (const [level, counts] of Object.entries(levels)) {
  if (counts.total) accuracy[level] = { percent: (100 * counts.right) / counts.total, right: counts.right, total: counts.total };
}
console.log(JSON.stringify({
  file, lines: items.length, seconds, lines_per_second: items.length / seconds, returned, accuracy,
  not_returned: ['town', 'community', 'building', 'unit', 'room'],
}));
