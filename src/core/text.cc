#include "core/text.h"

#include <algorithm>

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

namespace {

// The digit at `at` (ASCII or full width): its value and byte length, or length 0.
struct DigitAt {
  int value = -1;
  size_t length = 0;
};
DigitAt DigitOf(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  if (at < text.size() && byte(at) >= '0' && byte(at) <= '9') return {byte(at) - '0', 1};
  if (at + 2 < text.size() && byte(at) == 0xEF && byte(at + 1) == 0xBC && byte(at + 2) >= 0x90 && byte(at + 2) <= 0x99) {
    return {byte(at + 2) - 0x90, 3};  // U+FF10..FF19
  }
  return {};
}
// A separator between digit groups at `at`: its byte length, or 0.
size_t SeparatorAt(std::string_view text, size_t at) {
  if (at < text.size() && (text[at] == ' ' || text[at] == '-')) return 1;
  if (text.substr(at, 3) == "\xE3\x80\x80" || text.substr(at, 3) == "\xEF\xBC\x8D") return 3;  // U+3000, U+FF0D
  return 0;
}
// An ID number's last character after 17 digits.
size_t IdCheckAt(std::string_view text, size_t at) {
  if (at < text.size() && (text[at] == 'X' || text[at] == 'x')) return 1;
  if (text.substr(at, 3) == "\xEF\xBC\xB8" || text.substr(at, 3) == "\xEF\xBD\x98") return 3;  // Ｘ ｘ
  return 0;
}

// Whether digits written in groups with separators make a personal number.
bool SeparatedNumber(const std::vector<DigitRange>& digits, int first) {
  const size_t count = digits.size();
  return (count == 11 && first == 1) || (count >= 10 && count <= 12 && first == 0) || count == 15 || count == 18;
}

}  // namespace

std::vector<PersonalNumber> FindPersonalNumbers(std::string_view text) {
  std::vector<PersonalNumber> found;
  // Most texts hold no 7 digits joined (an address's house and room numbers): a first pass
  // without allocating tells.
  {
    size_t joined = 0, most = 0;
    for (size_t at = 0; at < text.size();) {
      if (const DigitAt d = DigitOf(text, at); d.length != 0) {
        most = std::max(most, ++joined);
        at += d.length;
      } else if (const size_t separator = SeparatorAt(text, at); separator != 0 && joined != 0 &&
                                                              DigitOf(text, at + separator).length != 0) {
        at += separator;
      } else {
        joined = 0;
        ++at;
      }
    }
    if (most < 7) return found;
  }
  size_t at = 0;
  struct Group {
    std::vector<DigitRange> digits;
    int first = -1;
  };
  std::vector<Group> groups;
  while (at < text.size()) {
    if (DigitOf(text, at).length == 0) {
      ++at;
      continue;
    }
    // Digit groups joined by single separators.
    groups.clear();
    for (;;) {
      Group group;
      for (DigitAt d; (d = DigitOf(text, at)).length != 0; at += d.length) {
        if (group.digits.empty()) group.first = d.value;
        group.digits.push_back({at, at + d.length});
      }
      if (group.digits.size() == 17) {
        if (const size_t x = IdCheckAt(text, at); x != 0) group.digits.push_back({at, at + x}), at += x;
      }
      groups.push_back(std::move(group));
      const size_t separator = SeparatorAt(text, at);
      if (separator == 0 || DigitOf(text, at + separator).length == 0) break;
      at += separator;
    }
    // From each group, the longest run of groups that makes a number; else the group alone
    // when it is 7 digits or more.
    for (size_t start = 0; start < groups.size();) {
      size_t end = 0;
      for (size_t last = groups.size(); last > start + 1 && end == 0; --last) {
        std::vector<DigitRange> digits;
        for (size_t g = start; g < last; ++g) digits.insert(digits.end(), groups[g].digits.begin(), groups[g].digits.end());
        if (SeparatedNumber(digits, groups[start].first)) end = last;
      }
      if (end != 0) {
        PersonalNumber number;
        for (size_t g = start; g < end; ++g) {
          number.digits.insert(number.digits.end(), groups[g].digits.begin(), groups[g].digits.end());
        }
        found.push_back(std::move(number));
        start = end;
      } else {
        if (groups[start].digits.size() >= 7) found.push_back({groups[start].digits});
        ++start;
      }
    }
  }
  return found;
}

}  // namespace pingan
