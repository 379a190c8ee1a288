// Address normalisation (src/address/normalize.h) over 10,000 generated noisy Hangzhou addresses
// (full-width digits, separators, traditional characters, Chinese numerals, noise words, some
// with a made-up phone number), and over 10,000 clean ones, one core. Needs no data directory.
//
//   build/release/bench/normalize_benchmark
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "address/normalize.h"
#include "core/rng.h"

namespace pingan {
namespace {

template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&items)[N]) {
  return items[rng.Int(0, N - 1)];
}

std::string FullWidth(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    if (c >= '0' && c <= '9') {
      // U+FF10..U+FF19
      out += "\xEF\xBC";
      out += static_cast<char>(0x90 + (c - '0'));
    } else {
      out += c;
    }
  }
  return out;
}

std::string Chinese(int number) {
  static const char* kDigits[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  if (number < 10) return kDigits[number];
  if (number < 20) return std::string("十") + (number % 10 ? kDigits[number % 10] : "");
  return std::string(kDigits[number / 10]) + "十" + (number % 10 ? kDigits[number % 10] : "");
}

std::string Number(Rng& rng, int number) {
  switch (rng.Int(0, 5)) {
    case 0:
      return FullWidth(std::to_string(number));
    case 1:
      return number < 100 ? Chinese(number) : std::to_string(number);
    default:
      return std::to_string(number);
  }
}

std::vector<std::string> Addresses(int count) {
  static const char* kDistricts[] = {"西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "蕭山區",
                                     "余杭区", "临平区", "钱塘区", "富阳区", "临安区", "西湖區"};
  static const char* kRoads[] = {"文三路",   "文一西路", "莫干山路", "学院路",   "教工路",
                                 "天目山路", "古墩路",   "金城路",   "江南大道", "秋涛路",
                                 "延安路",   "解放路",   "體育場路", "凤起路"};
  static const char* kPlaces[] = {"华星时代广场", "翠苑一区",     "桂花城",
                                  "西溪诚园",     "万家花园",     "三墩镇政府",
                                  "五常街道办",   "九堡客运中心", "蕭山機場"};
  static const char* kSeparators[] = {"", "", "", " ", "　", "-", "，", "、", "/"};
  static const char* kNoise[] = {"附近", "对面", "旁边", "门口", "东侧"};
  Rng rng(20240501);
  std::vector<std::string> out;
  out.reserve(count);
  for (int index = 0; index < count; ++index) {
    std::string a;
    const char* sep = Pick(rng, kSeparators);
    if (rng.Chance(0.5)) a += std::string("浙江省") + sep;
    if (rng.Chance(0.7)) a += std::string("杭州市") + sep;
    a += std::string(Pick(rng, kDistricts)) + sep;
    a += Pick(rng, kRoads);
    a += Number(rng, static_cast<int>(rng.Int(1, 999))) + "号";
    switch (rng.Int(0, 3)) {
      case 0:
        a += Number(rng, static_cast<int>(rng.Int(1, 30))) + "幢" +
             Number(rng, static_cast<int>(rng.Int(1, 6))) + "单元" +
             std::to_string(rng.Int(1, 30) * 100 + rng.Int(1, 4)) + "室";
        break;
      case 1:
        a += std::string(sep) + Pick(rng, kPlaces) + std::to_string(rng.Int(1, 30)) + "-" +
             std::to_string(rng.Int(1, 6)) + "-" +
             std::to_string(rng.Int(1, 30) * 100 + rng.Int(1, 4));
        break;
      case 2:
        a += std::string(" 近") + Pick(rng, kPlaces);
        break;
      default:
        a += Pick(rng, kPlaces);
        break;
    }
    if (rng.Chance(0.2)) a += Pick(rng, kNoise);
    if (rng.Chance(0.1)) a += " 电话138" + std::to_string(10000000 + rng.Int(0, 9999999));
    out.push_back(std::move(a));
  }
  return out;
}

// Clean addresses as a registry or a careful clerk writes them: no separators, noise, numerals
// or traditional characters.
std::vector<std::string> CleanAddresses(int count) {
  static const char* kDistricts[] = {"西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区"};
  static const char* kRoads[] = {"文三路", "文一西路", "莫干山路", "学院路", "教工路", "天目山路"};
  static const char* kPlaces[] = {"华星时代广场", "桂花城", "西溪诚园", "万家花园", ""};
  Rng rng(7);
  std::vector<std::string> out;
  for (int index = 0; index < count; ++index) {
    out.push_back(std::string("杭州市") + Pick(rng, kDistricts) + Pick(rng, kRoads) +
                  std::to_string(rng.Int(1, 999)) + "号" + Pick(rng, kPlaces) +
                  std::to_string(rng.Int(1, 30)) + "幢" +
                  std::to_string(rng.Int(1, 30) * 100 + rng.Int(1, 4)) + "室");
  }
  return out;
}

const std::vector<std::string>& Data() {
  static const auto* data = new std::vector<std::string>(Addresses(10000));
  return *data;
}

const std::vector<std::string>& CleanData() {
  static const auto* data = new std::vector<std::string>(CleanAddresses(10000));
  return *data;
}

void SetCounters(benchmark::State& state, const std::vector<std::string>& lines = Data()) {
  size_t bytes = 0;
  for (const std::string& line : lines) bytes += line.size();
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_address"] = static_cast<double>(bytes) / lines.size();
}

// NormalizeAddress: a new NormalizedAddress per line.
void BM_NormalizeAddress(benchmark::State& state) {
  WarmUpNormalizer();
  const auto& lines = Data();
  size_t index = 0;
  for (auto _ : state) {
    auto result = NormalizeAddress(lines[index]);
    benchmark::DoNotOptimize(result);
    if (++index == lines.size()) index = 0;
  }
  SetCounters(state);
}
BENCHMARK(BM_NormalizeAddress);

// NormalizeAddressInto: one NormalizedAddress reused, as a batch import would.
void BM_NormalizeAddressInto(benchmark::State& state) {
  WarmUpNormalizer();
  const auto& lines = Data();
  NormalizedAddress out;
  size_t index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(NormalizeAddressInto(lines[index], {}, out));
    if (++index == lines.size()) index = 0;
  }
  SetCounters(state);
}
BENCHMARK(BM_NormalizeAddressInto);

// With offsets for highlighting.
void BM_NormalizeAddressOffsets(benchmark::State& state) {
  WarmUpNormalizer();
  const auto& lines = Data();
  NormalizedAddress out;
  size_t index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(NormalizeAddressInto(lines[index], {.record_offsets = true}, out));
    if (++index == lines.size()) index = 0;
  }
  SetCounters(state);
}
BENCHMARK(BM_NormalizeAddressOffsets);

// Clean addresses (about 45 bytes), output reused.
void BM_NormalizeCleanAddressInto(benchmark::State& state) {
  WarmUpNormalizer();
  const auto& lines = CleanData();
  NormalizedAddress out;
  size_t index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(NormalizeAddressInto(lines[index], {}, out));
    if (++index == lines.size()) index = 0;
  }
  SetCounters(state, lines);
}
BENCHMARK(BM_NormalizeCleanAddressInto);

// Validation alone (CheckAddressLine), for reference.
void BM_ValidateOnly(benchmark::State& state) {
  const auto& lines = Data();
  size_t index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(CheckAddressLine(lines[index]));
    if (++index == lines.size()) index = 0;
  }
  SetCounters(state);
}
BENCHMARK(BM_ValidateOnly);

}  // namespace
}  // namespace pingan

BENCHMARK_MAIN();
