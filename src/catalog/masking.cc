#include "catalog/masking.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace pingan {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Byte length of the UTF-8 sequence starting with `lead` (1 for stray bytes).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

std::string MaskDigits(std::string_view digits) {
  const size_t keep_front = digits.size() >= 15 ? 6 : 3;
  const size_t keep_back = 4;
  if (digits.size() <= keep_front + keep_back) return std::string(digits.size(), '*');
  std::string out(digits.substr(0, keep_front));
  out.append(digits.size() - keep_front - keep_back, '*');
  out.append(digits.substr(digits.size() - keep_back));
  return out;
}

}  // namespace

std::string MaskValue(std::string_view text) {
  if (text.empty()) return std::string();
  bool digits = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool last = i + 1 == text.size();
    digits &= IsDigit(text[i]) || (last && (text[i] == 'X' || text[i] == 'x')) || text[i] == '-' || text[i] == ' ';
  }
  if (digits) return MaskDigits(text);
  const size_t first = std::min(text.size(), SequenceLength(static_cast<unsigned char>(text[0])));
  std::string out(text.substr(0, first));
  out.append(std::max<size_t>(1, Utf8Length(text.substr(first))), '*');
  return out;
}

std::string MaskDigitRuns(std::string_view text) {
  // Each number keeps its first 3 digits (6 for an ID number, 15 digits or more) and its last 4;
  // the digits between become '*', separators stay (189 1234 5678 -> 189 **** 5678).
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  for (const PersonalNumber& number : FindPersonalNumbers(text)) {
    const size_t count = number.digits.size();
    const size_t keep_front = count >= 15 ? 6 : 3, keep_back = 4;
    for (size_t index = 0; index < count; ++index) {
      const DigitRange& digit = number.digits[index];
      out.append(text.substr(copied, digit.begin - copied));
      const bool kept = count > keep_front + keep_back && (index < keep_front || index >= count - keep_back);
      if (kept) out.append(text.substr(digit.begin, digit.end - digit.begin));
      else out.push_back('*');
      copied = digit.end;
    }
  }
  out.append(text.substr(copied));
  return out;
}

std::string MaskAttributesJson(const Catalog& catalog, std::string_view attributes_json) {
  nlohmann::json object = nlohmann::json::parse(attributes_json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return "{}";
  for (auto& [key, value] : object.items()) {
    const AttributeDef* def = catalog.FindAttribute(key);
    if (def == nullptr || !def->personal) continue;
    value = value.is_string() ? nlohmann::json(MaskValue(value.get<std::string>())) : nlohmann::json("***");
  }
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pingan
