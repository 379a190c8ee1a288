// The 27-digit address code (统一地址编码) and the levels of the unit tree.
//
// Digits: 1-2 province, 3-4 city, 5-6 district, 7-9 town, 10-12 community (the national
// statistical division codes), 13-15 grid, 16-20 building, 21-22 unit (entrance),
// 23-27 room (floor x 100 + room). See docs/address-codes.md.
//
// An AddressCode is only a string of digits: which unit it names, its level and its parent
// come from the Registry, not from where the zeros start (东莞 441900 has towns straight
// under the city).
//
// Example:
//   auto code = AddressCode::Parse("330106004003001000120301203");
//   if (!code.ok()) std::cerr << code.status().message();
//   auto prefix = AddressCode::ParsePrefix("330106");  // 西湖区, padded with zeros
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pingan {

enum class Level : uint8_t {
  kNation = 0,
  kProvince,
  kCity,
  kDistrict,
  kTown,
  kCommunity,
  kGrid,
  kBuilding,
  kUnit,
  kRoom,
};
inline constexpr int kLevelCount = 10;

// "nation", "province", ... "room".
std::string_view LevelName(Level level);
// Chinese label: 全国, 省, 市, 区县, 镇街, 村社, 网格, 楼幢, 单元, 户室.
std::string_view LevelNameZh(Level level);
std::optional<Level> ParseLevel(std::string_view name);
// Number of leading digits a code of this level may set: 0, 2, 4, 6, 9, 12, 15, 20, 22, 27.
int LevelDigits(Level level);

class AddressCode {
 public:
  static constexpr int kDigits = 27;

  AddressCode() = default;  // the nation: all zeros

  // Exactly 27 ASCII digits; otherwise InvalidArgument saying what is wrong.
  static absl::StatusOr<AddressCode> Parse(std::string_view text);
  // 27 digits, or a significant prefix of 2, 4, 6, 9, 12, 15, 20 or 22 digits padded with zeros.
  static absl::StatusOr<AddressCode> ParsePrefix(std::string_view text);
  // From the two halves. REQUIRES: admin < 10^12, local < 10^15.
  static AddressCode FromParts(uint64_t admin, uint64_t local) { return AddressCode(admin, local); }

  // 27 digits.
  std::string ToString() const;
  // Appends the 27 digits to `out` (no allocation beyond `out`'s growth).
  void AppendTo(std::string& out) const;
  // Digits [start, start + count) (0-based) as a number. REQUIRES: the range is within 27.
  uint64_t Digits(int start, int count) const;
  // The code with every digit from `keep` on set to zero.
  AddressCode Truncate(int keep) const;
  // Index one past the last non-zero digit (0 for the nation).
  int SignificantDigits() const;
  // The smallest level boundary (0, 2, 4, 6, 9, 12, 15, 20, 22, 27) holding every set digit.
  int SignificantBoundary() const;

  uint64_t admin() const { return admin_; }  // digits 1-12
  uint64_t local() const { return local_; }  // digits 13-27
  bool IsNation() const { return admin_ == 0 && local_ == 0; }

  friend bool operator==(const AddressCode&, const AddressCode&) = default;
  friend auto operator<=>(const AddressCode&, const AddressCode&) = default;
  template <typename H>
  friend H AbslHashValue(H state, const AddressCode& code) {
    return H::combine(std::move(state), code.admin_, code.local_);
  }

 private:
  AddressCode(uint64_t admin, uint64_t local) : admin_(admin), local_(local) {}
  uint64_t admin_ = 0;
  uint64_t local_ = 0;
};

}  // namespace pingan
