#include "address/code.h"

#include <array>

#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

constexpr std::array<int, kLevelCount> kLevelDigits = {0, 2, 4, 6, 9, 12, 15, 20, 22, 27};
constexpr std::array<std::string_view, kLevelCount> kLevelNames = {
    "nation", "province", "city", "district", "town", "community", "grid", "building", "unit",
    "room"};
constexpr std::array<std::string_view, kLevelCount> kLevelNamesZh = {
    "全国", "省", "市", "区县", "镇街", "村社", "网格", "楼幢", "单元", "户室"};

constexpr uint64_t Pow10(int exponent) {
  uint64_t value = 1;
  for (int step = 0; step < exponent; ++step) value *= 10;
  return value;
}

absl::Status CheckDigits(std::string_view text) {
  for (size_t index = 0; index < text.size(); ++index) {
    if (text[index] < '0' || text[index] > '9') {
      return absl::InvalidArgumentError(Cat(
          "'", Printable(text), "' is not a code: character ", index + 1, " is not a digit"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view LevelName(Level level) { return kLevelNames[static_cast<int>(level)]; }
std::string_view LevelNameZh(Level level) { return kLevelNamesZh[static_cast<int>(level)]; }
int LevelDigits(Level level) { return kLevelDigits[static_cast<int>(level)]; }

std::optional<Level> ParseLevel(std::string_view name) {
  for (int index = 0; index < kLevelCount; ++index) {
    if (kLevelNames[index] == name) return static_cast<Level>(index);
  }
  return std::nullopt;
}

absl::StatusOr<AddressCode> AddressCode::Parse(std::string_view text) {
  if (text.size() != kDigits) {
    absl::Status digits = CheckDigits(text);
    if (!digits.ok() && text.size() <= 64) return digits;
    return absl::InvalidArgumentError(Cat("'", Printable(text), "' has ", text.size(),
                                                   " characters; a code has exactly 27 digits"));
  }
  return ParsePrefix(text);
}

absl::StatusOr<AddressCode> AddressCode::ParsePrefix(std::string_view text) {
  if (text.size() > 64) {
    return absl::InvalidArgumentError(
        Cat("code of ", text.size(), " characters is too long; at most 27 digits"));
  }
  if (absl::Status status = CheckDigits(text); !status.ok()) return status;
  bool allowed = false;
  for (int boundary : kLevelDigits) allowed |= boundary != 0 && static_cast<int>(text.size()) == boundary;
  if (!allowed) {
    return absl::InvalidArgumentError(
        Cat("'", Printable(text), "' has ", text.size(),
                     " digits; a code has 27, a prefix 2, 4, 6, 9, 12, 15, 20 or 22"));
  }
  uint64_t admin = 0;
  uint64_t local = 0;
  for (int index = 0; index < kDigits; ++index) {
    int digit = index < static_cast<int>(text.size()) ? text[index] - '0' : 0;
    if (index < 12) {
      admin = admin * 10 + digit;
    } else {
      local = local * 10 + digit;
    }
  }
  return AddressCode(admin, local);
}

std::string AddressCode::ToString() const {
  std::string out;
  AppendTo(out);
  return out;
}

void AddressCode::AppendTo(std::string& out) const {
  // Two digits a division, from a table (a digit a division cost 380 instructions a code).
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  const size_t start = out.size();
  out.resize(start + kDigits);
  char* digits = out.data() + start;
  uint64_t local = local_;
  int at = kDigits;  // the 15 local digits: 7 pairs and a digit
  for (int pair = 0; pair < 7; ++pair, local /= 100) {
    const size_t two = static_cast<size_t>(local % 100) * 2;
    digits[--at] = kPairs[two + 1];
    digits[--at] = kPairs[two];
  }
  digits[--at] = static_cast<char>('0' + local % 10);
  uint64_t admin = admin_;
  for (int pair = 0; pair < 6; ++pair, admin /= 100) {  // the 12 admin digits: 6 pairs
    const size_t two = static_cast<size_t>(admin % 100) * 2;
    digits[--at] = kPairs[two + 1];
    digits[--at] = kPairs[two];
  }
}

uint64_t AddressCode::Digits(int start, int count) const {
  uint64_t value = 0;
  for (int index = start; index < start + count; ++index) {
    uint64_t digit = index < 12 ? (admin_ / Pow10(11 - index)) % 10
                                : (local_ / Pow10(26 - index)) % 10;
    value = value * 10 + digit;
  }
  return value;
}

AddressCode AddressCode::Truncate(int keep) const {
  if (keep >= kDigits) return *this;
  if (keep <= 12) {
    uint64_t scale = Pow10(12 - keep);
    return AddressCode(admin_ / scale * scale, 0);
  }
  uint64_t scale = Pow10(kDigits - keep);
  return AddressCode(admin_, local_ / scale * scale);
}

int AddressCode::SignificantDigits() const {
  if (local_ != 0) {
    int trailing = 0;
    for (uint64_t value = local_; value % 10 == 0; value /= 10) ++trailing;
    return kDigits - trailing;
  }
  if (admin_ == 0) return 0;
  int trailing = 0;
  for (uint64_t value = admin_; value % 10 == 0; value /= 10) ++trailing;
  return 12 - trailing;
}

int AddressCode::SignificantBoundary() const {
  int digits = SignificantDigits();
  for (int boundary : kLevelDigits) {
    if (boundary >= digits) return boundary;
  }
  return kDigits;
}

}  // namespace pingan
