#include "core/text.h"

#include <cstdint>
#include <cstdio>

#include <simdjson.h>

namespace pingan {
namespace {

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not valid.
size_t ValidSequenceLength(std::string_view text) {
  const auto byte = [&](size_t index) { return static_cast<uint8_t>(text[index]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t min_code = 0;
  uint32_t code = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min_code = 0x80, code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min_code = 0x800, code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min_code = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t index = 1; index < length; ++index) {
    if ((byte(index) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(index) & 0x3F);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

// simdjson's validator (SIMD where the processor has it): the same rules as
// ValidSequenceLength — no overlong forms, surrogates or code points above U+10FFFF — at a
// fraction of the cost per byte.
bool IsValidUtf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

size_t Utf8Length(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return count;
}

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  while (!text.empty()) {
    size_t length = ValidSequenceLength(text);
    std::string piece;
    if (length == 0 || (length == 1 && (static_cast<uint8_t>(text[0]) < 0x20 || text[0] == 0x7F))) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<uint8_t>(text[0]));
      piece = escaped;
      length = 1;
    } else {
      piece = std::string(text.substr(0, length));
    }
    if (out.size() + piece.size() > max_bytes) {
      out += "...";
      break;
    }
    out += piece;
    text.remove_prefix(length);
  }
  return out;
}

}  // namespace pingan
