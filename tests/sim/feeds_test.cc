#include "sim/feeds.h"

#include <zlib.h>

#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "catalog/catalog.h"
#include "core/csv.h"
#include "core/text.h"
#include "testing/demo_registry.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string ReadGzip(const fs::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  EXPECT_NE(file, nullptr) << path;
  if (file == nullptr) return {};
  std::string text;
  char buffer[1 << 16];
  for (int read; (read = gzread(file, buffer, sizeof buffer)) > 0;) text.append(buffer, read);
  gzclose(file);
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::vector<std::vector<std::string>> CsvRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  CsvStreamParser parser("feed", [&](const CsvRow& row) {
    rows.emplace_back(row.fields.begin(), row.fields.end());
    return absl::OkStatus();
  }, CsvLimits{.lenient = true});
  EXPECT_TRUE(parser.Feed(text.data(), text.size()).ok());
  EXPECT_TRUE(parser.Finish().ok());
  return rows;
}

// One record as a reader sees it: its fields, or why it is bad.
struct Record {
  std::string source, id, type, time, address;
  std::string raw;
  std::string bad;  // the kind of bad record; empty when valid
  absl::Time at;
};

class FeedsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto demo = testing::ZhejiangDemoRegistry(0.02, 3);
    ASSERT_TRUE(demo.ok()) << demo.status();
    demo_ = new testing::DemoRegistry(*std::move(demo));
    auto catalog = LoadCatalog(fs::path(PINGAN_SOURCE_DIR) / "config");
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = new Catalog(*std::move(catalog));
    dir_ = new testing::TempDir();
    auto files = WriteDemoFeeds(demo_->registry, *catalog_, Options(5), dir_->path() / "a");
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = new std::vector<FeedFile>(*std::move(files));
  }
  static void TearDownTestSuite() {
    delete files_, delete dir_, delete catalog_, delete demo_;
  }

  static FeedOptions Options(uint64_t seed) {
    return FeedOptions{.seed = seed, .scale = 0.02, .from = absl::CivilDay(2021, 1, 1),
                       .to = absl::CivilDay(2021, 12, 31), .home_city = *AddressCode::ParsePrefix("3301")};
  }

  static std::vector<const FeedFile*> FilesOf(std::string_view source) {
    std::vector<const FeedFile*> out;
    for (const FeedFile& file : *files_) {
      if (file.source == source) out.push_back(&file);
    }
    return out;
  }

  // Every record of every feed, read the way the source writes it.
  static const std::vector<Record>& Records() {
    static const std::vector<Record>* records = [] {
      auto* out = new std::vector<Record>;
      for (const FeedFile& file : *files_) {
        if (file.source == "truth") continue;
        const std::string text = ReadGzip(file.path);
        if (file.path.string().ends_with(".csv.gz")) {
          ReadCsv(file.source, text, *out);
        } else {
          for (const std::string& line : Lines(text)) out->push_back(ReadJson(file.source, line));
        }
      }
      return out;
    }();
    return *records;
  }

  static const std::map<std::string, std::vector<std::string>>& Headers() {
    static const std::map<std::string, std::vector<std::string>> kHeaders = {
        {"police", {"警情编号", "案件类别", "发案时间", "发案地址", "经度", "纬度", "状态", "是否破案", "损失金额", "报警人", "报警人电话"}},
        {"court", {"案号", "案件类型", "立案日期", "当事人住所", "结案方式", "调解结果", "当事人", "身份证号"}},
        {"safety", {"source", "source_id", "type", "occurred_at", "address", "lon", "lat", "code", "status", "attr.deaths",
                    "attr.injuries"}}};
    return kHeaders;
  }

  static void ReadCsv(const std::string& source, const std::string& text, std::vector<Record>& out) {
    std::vector<std::vector<std::string>> rows = CsvRows(text);
    EXPECT_FALSE(rows.empty());
    if (rows.empty()) return;
    EXPECT_EQ(rows[0], Headers().at(source)) << source;
    static const std::map<std::string, std::string> kFormats = {
        {"police", "%Y-%m-%d %H:%M:%S"}, {"court", "%Y年%m月%d日"}, {"safety", absl::RFC3339_full}};
    static const std::set<std::string> kPolice = {"0101", "0102", "0103", "0104", "0105", "0199", "0201", "0301", "0302", "0399"};
    static const std::set<std::string> kCourt = {"民事", "行政", "刑事", "诉前调解"};
    for (size_t index = 1; index < rows.size(); ++index) {
      const auto& row = rows[index];
      Record record{.source = source};
      for (const std::string& field : row) record.raw += field + ",";
      if (row.size() < rows[0].size()) {
        record.bad = "too_few_columns";
        out.push_back(record);
        continue;
      }
      const int offset = source == "safety" ? 1 : 0;
      record.id = row[offset], record.type = row[offset + 1], record.time = row[offset + 2], record.address = row[offset + 3];
      Classify(record, kFormats.at(source));
      if (record.bad.empty()) {
        if (source == "police" && !kPolice.contains(record.type)) record.bad = "unknown_type";
        if (source == "court" && !kCourt.contains(record.type)) record.bad = "unknown_type";
        if (source == "safety" && record.type != "safety.accident") record.bad = "unknown_type";
      }
      if (record.bad.empty()) {
        std::string number = source == "police" ? row[8] : source == "safety" ? row[9] : "";
        if (!number.empty() && number.find_first_not_of("0123456789.") != std::string::npos) record.bad = "wrong_kind";
      }
      out.push_back(record);
    }
  }

  static Record ReadJson(const std::string& source, const std::string& line) {
    Record record{.source = source, .raw = line};
    json value = json::parse(line, nullptr, false);
    if (value.is_discarded()) {
      record.bad = IsValidUtf8(line) ? "broken_json" : "invalid_utf8";
      return record;
    }
    if (!value.is_object()) {
      record.bad = "not_object";
      return record;
    }
    struct Keys {
      const char *id, *type, *time, *address, *format;
      std::set<std::string> types;
      std::vector<const char*> numbers;
    };
    static const std::map<std::string, Keys> kKeys = {
        {"traffic", {"acc_no", "kind", "acc_time", "road_text", "%E4Y%m%d%H%M%S", {"ACC"}, {"dead", "hurt", "loss"}}},
        {"petition", {"source_id", "type", "occurred_at", "address", absl::RFC3339_full, {"petition.visit", "petition.letter"}, {}}},
        {"fire", {"alarm_id", "category", "time", "location", absl::RFC3339_full, {"火灾", "火警"}, {}}},
        {"labour", {"case_no", nullptr, "reported", "employer_address", "%Y-%m-%d", {}, {"workers", "amount"}}}};
    const Keys& keys = kKeys.at(source);
    static const std::set<std::string> kOthers = {"lng", "lat", "dead", "hurt", "loss", "source", "attributes",
                                                  "addr_code", "workers", "amount", "complainant", "phone"};
    for (const auto& [key, item] : value.items()) {
      const bool known = key == keys.id || (keys.type && key == keys.type) || key == keys.time ||
                         key == keys.address || kOthers.contains(key);
      EXPECT_TRUE(known) << source << ": " << key;
    }
    auto text = [&](const char* key) { return key && value.contains(key) && value[key].is_string() ? value[key].get<std::string>() : ""; };
    record.id = text(keys.id), record.time = text(keys.time), record.address = text(keys.address);
    record.type = keys.type ? text(keys.type) : "labour.wage_arrears";
    if (source == "petition") {
      EXPECT_EQ(text("source"), "petition");
    }
    Classify(record, keys.format);
    if (record.bad.empty() && !keys.types.empty() && !keys.types.contains(record.type)) record.bad = "unknown_type";
    for (const char* key : keys.numbers) {
      if (record.bad.empty() && value.contains(key) && !value[key].is_number()) record.bad = "wrong_kind";
    }
    const json& attributes = value.contains("attributes") ? value["attributes"] : json::object();
    if (record.bad.empty() && attributes.contains("deaths") && !attributes["deaths"].is_number()) record.bad = "wrong_kind";
    return record;
  }

  // The kinds of bad every format shares.
  static void Classify(Record& record, const std::string& format) {
    if (!IsValidUtf8(record.raw)) {
      record.bad = "invalid_utf8";
    } else if (record.address.size() > 64 * 1024) {
      record.bad = "oversized";
    } else if (record.id.empty()) {
      record.bad = "missing_source_id";
    } else if (!absl::ParseTime(format, record.time, absl::FixedTimeZone(8 * 3600), &record.at, nullptr)) {
      record.bad = "bad_time";
    } else if (record.at > absl::FromCivil(absl::CivilDay(2022, 1, 1), absl::UTCTimeZone())) {
      record.bad = "future_time";
    }
  }

  static testing::DemoRegistry* demo_;
  static Catalog* catalog_;
  static testing::TempDir* dir_;
  static std::vector<FeedFile>* files_;
};

testing::DemoRegistry* FeedsTest::demo_ = nullptr;
Catalog* FeedsTest::catalog_ = nullptr;
testing::TempDir* FeedsTest::dir_ = nullptr;
std::vector<FeedFile>* FeedsTest::files_ = nullptr;

TEST_F(FeedsTest, WritesOneFilePerSourceAndYearAndTheTruth) {
  std::set<std::string> names;
  for (const FeedFile& file : *files_) {
    names.insert(file.path.filename().string());
    EXPECT_GT(file.records, 0) << file.path;
  }
  EXPECT_EQ(names, (std::set<std::string>{"police-2021.csv.gz", "traffic-2021.jsonl.gz", "court-2021.csv.gz",
                                           "petition-2021.jsonl.gz", "fire-2021.jsonl.gz", "safety-2021.csv.gz",
                                           "labour-2021.jsonl.gz", "truth.csv.gz"}));
  EXPECT_EQ(files_->back().source, "truth");
  for (const auto& entry : fs::directory_iterator(dir_->path() / "a")) {
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  auto existing = ExistingDemoFeeds(Options(5), dir_->path() / "a");
  ASSERT_TRUE(existing.has_value());
  EXPECT_EQ(existing->size(), files_->size());
  EXPECT_FALSE(ExistingDemoFeeds(Options(6), dir_->path() / "a").has_value());
}

TEST_F(FeedsTest, AreDeterministicForASeed) {
  auto again = WriteDemoFeeds(demo_->registry, *catalog_, Options(5), dir_->path() / "b");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), files_->size());
  for (size_t index = 0; index < files_->size(); ++index) {
    EXPECT_EQ(ReadGzip((*again)[index].path), ReadGzip((*files_)[index].path)) << (*files_)[index].path;
  }
  auto other = WriteDemoFeeds(demo_->registry, *catalog_, Options(6), dir_->path() / "c");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(ReadGzip((*other)[0].path), ReadGzip((*files_)[0].path));
}

TEST_F(FeedsTest, EachSourceWritesItsOwnStyle) {
  std::map<std::string, size_t> valid;
  for (const Record& record : Records()) {
    if (record.bad.empty()) ++valid[record.source];
  }
  for (const char* source : {"police", "traffic", "court", "petition", "fire", "safety", "labour"}) {
    EXPECT_GT(valid[source], 0u) << source;
  }
  // Points on traffic records, codes on fire alarms, 浙江省杭州市 on court addresses.
  size_t court = 0, court_full = 0;
  for (const Record& record : Records()) {
    if (record.source != "court" || !record.bad.empty()) continue;
    ++court;
    court_full += record.address.starts_with("浙江省杭州市");
  }
  EXPECT_EQ(court_full, court);
  const std::string traffic = ReadGzip(FilesOf("traffic")[0]->path);
  EXPECT_THAT(traffic, ::testing::HasSubstr("\"lng\":"));
  const std::string fire = ReadGzip(FilesOf("fire")[0]->path);
  EXPECT_THAT(fire, ::testing::ContainsRegex("\"addr_code\":\"[0-9]{27}\""));
  const std::string police = ReadGzip(FilesOf("police")[0]->path);
  EXPECT_THAT(police, ::testing::HasSubstr(",已破案,是,"));
  EXPECT_THAT(police, ::testing::HasSubstr("已撤案"));
}

TEST_F(FeedsTest, CountsFollowTheConfiguredRates) {
  const Registry& registry = demo_->registry;
  const double residents = static_cast<double>(registry.figures(*registry.Find(*AddressCode::ParsePrefix("3301"))).resident);
  std::map<std::string, double> counts;
  for (const std::string& line : Lines(ReadGzip(files_->back().path))) {
    size_t comma = line.rfind(',');
    if (comma != std::string::npos) ++counts[line.substr(comma + 1)];
  }
  // Rates per 1,000 residents per year (INDICATORS.md), over one year.
  const std::map<std::string, double> kRates = {
      {"dispute.call", 50},   {"criminal.theft", 1.05}, {"litigation.civil", 17}, {"petition.letter", 6},
      {"petition.visit", 4},  {"traffic.accident", 5},  {"fire.alarm", 2},        {"labour.wage_arrears", 1},
      {"fire.fire", 0.6}};
  for (const auto& [type, rate] : kRates) {
    const double expected = rate * residents / 1000;
    EXPECT_NEAR(counts[type], expected, 5 * std::sqrt(expected) + 0.05 * expected) << type;
  }
  // Telecom fraud halves over the last 12 months of the window: here all of it.
  const double fraud = 1.225 * residents / 1000;
  EXPECT_LT(counts["criminal.telecom_fraud"], 0.6 * fraud);
  EXPECT_GT(counts["criminal.telecom_fraud"], 0.4 * fraud);
}

TEST_F(FeedsTest, BadRecordsAreAboutHalfAPercentOfSeveralKinds) {
  std::map<std::string, size_t> kinds;
  size_t bad = 0;
  for (const Record& record : Records()) {
    if (record.bad.empty()) continue;
    ++bad;
    ++kinds[record.bad];
  }
  const double share = static_cast<double>(bad) / static_cast<double>(Records().size());
  EXPECT_GE(share, 0.003);
  EXPECT_LE(share, 0.008);
  EXPECT_GE(kinds.size(), 7u);
  for (const char* kind : {"missing_source_id", "unknown_type", "bad_time", "future_time", "invalid_utf8", "too_few_columns"}) {
    EXPECT_TRUE(kinds.contains(kind)) << kind;
  }
}

TEST_F(FeedsTest, FormerDistrictNamesBeforeTheRedistricting) {
  const absl::Time change = absl::FromCivil(absl::CivilDay(2021, 4, 9), absl::FixedTimeZone(8 * 3600));
  size_t former_before = 0, former_after = 0, new_before = 0, new_after = 0;
  for (const Record& record : Records()) {
    if (!record.bad.empty()) continue;
    const bool former = record.address.find("江干区") != std::string::npos || record.address.find("下城区") != std::string::npos;
    const bool created = record.address.find("钱塘区") != std::string::npos || record.address.find("临平区") != std::string::npos;
    (record.at < change ? former_before : former_after) += former;
    (record.at < change ? new_before : new_after) += created;
  }
  EXPECT_GT(former_before, 10u);
  EXPECT_EQ(new_before, 0u);
  EXPECT_EQ(former_after, 0u);
  EXPECT_GT(new_after, 10u);
}

TEST_F(FeedsTest, TruthCodesResolveInTheRegistry) {
  std::vector<std::string> lines = Lines(ReadGzip(files_->back().path));
  ASSERT_GT(lines.size(), 1000u);
  EXPECT_EQ(lines[0], "source,source_id,code,type");
  std::set<std::string> keys;
  for (size_t index = 1; index < lines.size(); ++index) {
    std::vector<std::string> fields = absl::StrSplit(lines[index], ',');
    ASSERT_EQ(fields.size(), 4u) << lines[index];
    EXPECT_TRUE(keys.insert(fields[0] + "/" + fields[1]).second) << "twice: " << lines[index];
    ASSERT_EQ(fields[2].size(), 27u) << lines[index];
    auto code = AddressCode::Parse(fields[2]);
    ASSERT_TRUE(code.ok()) << lines[index];
    EXPECT_TRUE(demo_->registry.Resolve(*code).ok()) << lines[index];
    EXPECT_NE(catalog_->FindType(fields[3]), nullptr) << lines[index];
  }
}

TEST_F(FeedsTest, SomeRecordsAreSentAgain) {
  std::map<std::string, std::vector<const Record*>> by_id;
  size_t valid = 0;
  for (const Record& record : Records()) {
    if (!record.bad.empty()) continue;
    ++valid;
    by_id[record.source + "/" + record.id].push_back(&record);
  }
  size_t changed = 0, identical = 0;
  for (const auto& [id, versions] : by_id) {
    if (versions.size() < 2) continue;
    (versions[0]->raw == versions[1]->raw ? identical : changed) += 1;
  }
  EXPECT_GT(changed, valid / 100);
  EXPECT_LT(changed, valid / 20);
  EXPECT_GT(identical, valid / 300);
  EXPECT_LT(identical, valid / 50);
}

TEST_F(FeedsTest, PersonalDataRidesAlong) {
  const std::string court = ReadGzip(FilesOf("court")[0]->path);
  EXPECT_THAT(court, ::testing::ContainsRegex(",[0-9]{17}[0-9X]\n"));
  const std::string labour = ReadGzip(FilesOf("labour")[0]->path);
  EXPECT_THAT(labour, ::testing::HasSubstr("\"complainant\":"));
}

}  // namespace
}  // namespace pingan
