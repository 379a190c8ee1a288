#include "sim/fake_text.h"

#include "core/strings.h"
#include "core/text.h"

namespace pingan {
namespace {

template <size_t N>
std::string_view PickOf(Rng& rng, const std::string_view (&items)[N]) {
  return items[static_cast<size_t>(rng.Int(0, N - 1))];
}

constexpr std::string_view kSurnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "田", "董", "袁", "潘", "蔡", "杜", "叶", "程", "魏", "吕", "丁", "任", "姚", "卢", "崔", "钟",
    "谭", "陆", "范", "金", "廖", "贾", "夏", "方", "邹", "孟", "熊", "秦", "邱", "薛", "雷", "侯"};
constexpr std::string_view kGiven[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "刚", "桂英", "玲", "欣", "浩", "宇", "婷", "晨", "瑶", "鑫", "俊", "佳",
    "倩", "斌", "颖", "琳", "凯", "磊", "晓东", "志强", "海燕", "建国", "丽娟", "子涵", "雨轩"};

}  // namespace

std::string PersonName(Rng& rng) {
  std::string name(PickOf(rng, kSurnames));
  std::string_view given = PickOf(rng, kGiven);
  name += given;
  if (Utf8Length(given) == 1 && rng.Chance(0.4)) {
    std::string_view second = PickOf(rng, kGiven);
    if (Utf8Length(second) == 1) name += second;
  }
  return name;
}

// A synthetic number in one of the test patterns (13800000000, 13912345678, ...), written
// whole or grouped; sometimes a Hangzhou landline of the same kind (0571-88888888).
std::string PhoneNumber(Rng& rng) {
  static constexpr std::string_view kPrefixes[] = {"138", "139", "137", "150", "158", "186", "189", "177"};
  static constexpr std::string_view kTails[] = {"00000000", "00001111", "12345678", "00000001", "88888888",
                                                "66666666", "00002222", "87654321"};
  if (rng.Chance(0.15)) {
    static constexpr std::string_view kLocal[] = {"88888888", "87654321", "86000000", "85000001"};
    std::string_view tail = PickOf(rng, kLocal);
    return rng.Chance(0.5) ? Cat("0571-", tail) : Cat("0571", tail);
  }
  std::string prefix(PickOf(rng, kPrefixes));
  std::string tail(PickOf(rng, kTails));
  switch (rng.Int(0, 2)) {
    case 0: return prefix + tail;
    case 1: return Cat(prefix, " ", tail.substr(0, 4), " ", tail.substr(4));
    default: return Cat(prefix, "-", tail.substr(0, 4), "-", tail.substr(4));
  }
}

std::string ToFullwidth(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-') {
      const char32_t wide = static_cast<char32_t>(c) + 0xFEE0;  // U+FF0D..U+FF5A: three bytes
      out.push_back(static_cast<char>(0xE0 | (wide >> 12)));
      out.push_back(static_cast<char>(0x80 | ((wide >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (wide & 0x3F)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// How a record writes a town: 街道 rather than 街道办事处.
std::string TownText(const Registry& registry, UnitId town) {
  std::string name = registry.name(town);
  if (EndsWith(name, "街道办事处")) name.resize(name.size() - 9);
  return name;
}

}  // namespace pingan
