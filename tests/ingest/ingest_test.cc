#include "ingest/ingest.h"

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iconv.h>

#include <nlohmann/json.hpp>
#include <xlsxwriter.h>
#include <zip.h>

#include "absl/strings/str_join.h"
#include "core/datum.h"
#include "core/strings.h"
#include "core/text.h"
#include "geocode/matcher.h"
#include "geocode/point_index.h"
#include "ingest/listing_json.h"
#include "ingest/record.h"
#include "store/sqlite_store.h"
#include "testing/demo_registry.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr int64_t kNow = 1719792000;  // 2024-07-01T00:00:00Z

// One Zhejiang registry with the demo city, its geocoder and the catalog, built once per test
// binary run (each test case still gets its own store).
struct World {
  testing::DemoRegistry demo;
  Catalog catalog;
  Deployment deployment;
  std::unique_ptr<Matcher> matcher;
  std::unique_ptr<PointIndex> points;
};

World& SharedWorld() {
  static World* world = [] {
    auto* made = new World{*testing::ZhejiangDemoRegistry(0.01), {}, {}, nullptr, nullptr};
    made->catalog = *LoadCatalog(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
    made->deployment.home_city = *AddressCode::ParsePrefix("3301");
    std::vector<Alias> aliases;
    for (const AliasConfig& alias : made->demo.config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
    made->matcher = *Matcher::Create(made->demo.registry, made->deployment.home_city, aliases);
    made->points = *PointIndex::Create(made->demo.registry, *made->demo.registry.Find(made->deployment.home_city));
    return made;
  }();
  return *world;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    World& world = SharedWorld();
    store_ = *SqliteStore::Create(dir_.path() / "pingan.db");
    ASSERT_TRUE(store_->Finish().ok());
    events_ = *EventStore::Open(store_->handle());
    env_ = IngestEnv{.catalog = &world.catalog,
                     .registry = &world.demo.registry,
                     .deployment = &world.deployment,
                     .matcher = world.matcher.get(),
                     .points = world.points.get(),
                     .store = events_.get(),
                     .threads = 2,
                     .batch_size = 7,  // several batches even in small files
                     .now = kNow};
    ingester_ = *Ingester::Create(env_);
  }

  IngestSummary Ingest(const std::string& name, const std::string& text, std::string_view source = "") {
    IngestSummary summary;
    absl::Status status = ingester_->IngestFile(dir_.Write(name, text), &summary, source);
    EXPECT_TRUE(status.ok()) << status;
    return summary;
  }

  StoredEvent Find(std::string_view source, std::string_view id) {
    auto found = events_->FindEvent(source, id);
    EXPECT_TRUE(found.ok() && found->has_value()) << source << "/" << id;
    return found.ok() && found->has_value() ? **found : StoredEvent{};
  }

  std::vector<QuarantineEntry> Quarantine() { return *events_->ListQuarantine(); }
  // An HTTP body of the police source, named http:police: its summary.
  IngestSummary PoliceBody(const std::string& body, Ingester::BodyFormat format, const std::string& encoding = "") {
    IngestSummary summary;
    absl::Status status = ingester_->IngestBody(body, format, "http:police", &summary, "police", encoding);
    EXPECT_TRUE(status.ok()) << status;
    return summary;
  }
  // An ingester over a copy of the shared catalog whose police mapping `change` alters. The
  // ingester keeps a pointer to the catalog, which lives beside it; it keeps its own copy of the
  // environment (made here, gone when this returns).
  struct Altered {
    Catalog catalog;
    std::unique_ptr<Ingester> ingester;
  };
  std::unique_ptr<Altered> WithPoliceMapping(const std::function<void(SourceMapping&)>& change) {
    auto altered = std::make_unique<Altered>();
    altered->catalog = SharedWorld().catalog;
    for (SourceDef& source : altered->catalog.sources) {
      if (source.id == "police") change(*source.mapping);
    }
    IngestEnv env = env_;
    env.catalog = &altered->catalog;
    altered->ingester = *Ingester::Create(env);
    return altered;
  }

  const Registry& registry() { return SharedWorld().demo.registry; }
  std::string CodeOf(UnitId id) { return registry().code(id).ToString(); }
  // Some community of the demo city with a name, and a grid in it.
  UnitId DemoCommunity() {
    return registry().Descendants(*registry().Find(*AddressCode::ParsePrefix("330106")), Level::kCommunity).at(3);
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<EventStore> events_;
  IngestEnv env_;
  std::unique_ptr<Ingester> ingester_;
};

std::string Canonical(const std::string& id, const std::string& type, const std::string& extra = "") {
  return R"({"source":"police","source_id":")" + id + R"(","type":")" + type +
         R"(","occurred_at":"2024-03-05T10:20:00+08:00")" + extra + "}\n";
}

TEST_F(IngestTest, InsertsThenCountsIdenticalResendsAsUnchangedAndChangesAsUpdates) {
  const std::string community = CodeOf(DemoCommunity());
  std::string file = Canonical("A1", "criminal.theft", R"(,"code":")" + community + R"(","attributes":{"solved":false,"loss_yuan":1200})") +
                     Canonical("A2", "dispute.call", R"(,"address":"杭州市西湖区")");
  IngestSummary first = Ingest("first.jsonl", file);
  EXPECT_EQ(first.read, 2);
  EXPECT_EQ(first.inserted, 2) << first.Text();
  EXPECT_EQ(first.quarantined_total(), 0);
  EXPECT_EQ(*events_->CountEvents(), 2);

  IngestSummary again = Ingest("again.jsonl", file);
  EXPECT_EQ(again.inserted, 0);
  EXPECT_EQ(again.unchanged, 2);

  // Solved later, and the dispute withdrawn: updated, still two events.
  std::string changed = Canonical("A1", "criminal.theft", R"(,"code":")" + community + R"(","attributes":{"solved":true,"loss_yuan":1200})") +
                        Canonical("A2", "dispute.call", R"(,"address":"杭州市西湖区","status":"withdrawn")");
  IngestSummary third = Ingest("third.jsonl", changed);
  EXPECT_EQ(third.updated, 2);
  EXPECT_EQ(third.withdrawn, 1);
  EXPECT_EQ(*events_->CountEvents(), 2);
  StoredEvent a1 = Find("police", "A1");
  EXPECT_EQ(a1.event.attributes_json, R"({"loss_yuan":1200.0,"solved":true})");
  EXPECT_EQ(a1.event.occurred_at, 1709605200);  // 2024-03-05T02:20:00Z
  EXPECT_EQ(a1.event.placement.method, PlaceMethod::kCode);
  EXPECT_EQ(a1.event.placement.unit, community);
  EXPECT_EQ(Find("police", "A2").event.status, EventStatus::kWithdrawn);
}

TEST_F(IngestTest, ReadsThePoliceFeedThroughItsMapping) {
  std::string csv =
      "警情编号,案件类别,发案时间,发案地址,经度,纬度,状态,是否破案,损失金额,报警人,报警人电话\n"
      "P-1,0103,2023-12-31 23:59:59,杭州市西湖区,,,已破案,是,350.5,王某,13812345678\n"
      "P-2,0201,2023-06-01 08:00:00,,,,在办,,,,\n"
      "P-3,0102,2023-06-01 08:00:00,杭州市滨江区,,,已撤案,否,10000,,\n";
  IngestSummary summary = Ingest("police-2023.csv", csv);  // the source comes from the file name
  EXPECT_EQ(summary.inserted, 3) << summary.Text();
  EXPECT_EQ(summary.withdrawn, 1);
  StoredEvent theft = Find("police", "P-1");
  EXPECT_EQ(theft.event.type, "criminal.theft");
  EXPECT_EQ(theft.event.occurred_at, 1704038399);  // 2023-12-31T15:59:59Z: the city's zone
  nlohmann::json attributes = nlohmann::json::parse(theft.event.attributes_json);
  EXPECT_EQ(attributes["solved"], true);
  EXPECT_EQ(attributes["loss_yuan"], 350.5);
  EXPECT_EQ(attributes["reporter_phone"], "13812345678");
  EXPECT_EQ(theft.event.placement.method, PlaceMethod::kText);
  EXPECT_EQ(theft.event.placement.unit.substr(0, 6), "330106");
  EXPECT_EQ(theft.event.placement.level, static_cast<uint8_t>(Level::kDistrict));
  EXPECT_EQ(theft.event.placement.geocode_status, "matched");
  // No place at all: counted at the home city, unplaced.
  StoredEvent dispute = Find("police", "P-2");
  EXPECT_EQ(dispute.event.placement.method, PlaceMethod::kNone);
  EXPECT_EQ(dispute.event.placement.unit, "330100000000000000000000000");
  EXPECT_TRUE(dispute.event.placement.in_home_city);
  EXPECT_EQ(Find("police", "P-3").event.status, EventStatus::kWithdrawn);
  EXPECT_EQ(nlohmann::json::parse(Find("police", "P-3").event.attributes_json)["solved"], false);
}

TEST_F(IngestTest, PlacesByCodeThenPointThenText) {
  const UnitId community = DemoCommunity();
  UnitId grid = registry().Descendants(community, Level::kGrid).front();
  const BoundingBox& box = registry().box(grid);
  const double lon = (box.min_lon + box.max_lon) / 2, lat = (box.min_lat + box.max_lat) / 2;
  std::string file =
      // a code beats the point and the text
      Canonical("C1", "criminal.theft", R"(,"code":")" + CodeOf(community).substr(0, 12) +
                                            R"(","lon":)" + std::to_string(lon) + R"(,"lat":)" + std::to_string(lat) +
                                            R"(,"address":"杭州市滨江区")") +
      // a point beats the text
      Canonical("C2", "criminal.theft", R"(,"lon":)" + std::to_string(lon) + R"(,"lat":)" + std::to_string(lat) +
                                            R"(,"address":"杭州市滨江区")") +
      // a code that names no unit falls through to the text
      Canonical("C3", "criminal.theft", R"(,"code":"339999","address":"杭州市滨江区")") +
      // outside the home city: stored, not counted
      Canonical("C4", "criminal.theft", R"(,"address":"浙江省宁波市海曙区")");
  IngestSummary summary = Ingest("places.jsonl", file);
  EXPECT_EQ(summary.inserted, 4) << summary.Text();
  EXPECT_EQ(summary.outside_home_city, 1);
  StoredEvent by_code = Find("police", "C1");
  EXPECT_EQ(by_code.event.placement.method, PlaceMethod::kCode);
  EXPECT_EQ(by_code.event.placement.unit, CodeOf(community));
  StoredEvent by_point = Find("police", "C2");
  EXPECT_EQ(by_point.event.placement.method, PlaceMethod::kPoint);
  auto placed = registry().Resolve(*AddressCode::Parse(by_point.event.placement.unit));
  ASSERT_TRUE(placed.ok());
  EXPECT_TRUE(registry().IsWithin(placed->unit, grid));
  StoredEvent by_text = Find("police", "C3");
  EXPECT_EQ(by_text.event.placement.method, PlaceMethod::kText);
  EXPECT_EQ(by_text.event.placement.unit.substr(0, 6), "330108");
  EXPECT_FALSE(Find("police", "C4").event.placement.in_home_city);
  EXPECT_EQ(summary.placed["code/community"], 1);
}

TEST_F(IngestTest, APlaceAboveTheHomeCityIsTheCitysButUnplaced) {
  // "浙江省" alone, by text or by code, holds the home city: counted there as unplaced, for
  // review, never stored at the province (where the city's figures would not see it).
  IngestSummary summary = Ingest("province.jsonl", Canonical("V1", "criminal.theft", R"(,"address":"浙江省")") +
                                                       Canonical("V2", "criminal.theft", R"(,"code":"33")"));
  EXPECT_EQ(summary.inserted, 2) << summary.Text();
  EXPECT_EQ(summary.outside_home_city, 0);
  for (const char* id : {"V1", "V2"}) {
    const Placement placement = Find("police", id).event.placement;
    EXPECT_EQ(placement.method, PlaceMethod::kNone) << id;
    EXPECT_EQ(placement.unit, "330100000000000000000000000") << id;
    EXPECT_EQ(placement.level, static_cast<uint8_t>(Level::kCity)) << id;
    EXPECT_TRUE(placement.in_home_city) << id;
  }
  EXPECT_EQ(Find("police", "V1").event.placement.geocode_status, "matched");
}

TEST_F(IngestTest, ACodeSeenAgainIsPlacedAsTheFirstTime) {
  // The converter keeps the codes it resolved: a code inside the city, one above it (unplaced),
  // one outside it (stored, not counted) and one of no unit (the text decides), three times each.
  const std::string community = CodeOf(DemoCommunity()).substr(0, 12);
  std::string file;
  for (int round = 0; round < 3; ++round) {
    const std::string key = Cat("K", round, "-");
    file += Canonical(key + "1", "criminal.theft", R"(,"code":")" + community + R"(")") +
            Canonical(key + "2", "criminal.theft", R"(,"code":"33")") +
            Canonical(key + "3", "criminal.theft", R"(,"code":"3302")") +
            Canonical(key + "4", "criminal.theft", R"(,"code":"339999","address":"杭州市滨江区")");
  }
  IngestSummary summary = Ingest("codes.jsonl", file);
  EXPECT_EQ(summary.inserted, 12) << summary.Text();
  EXPECT_EQ(summary.outside_home_city, 3);
  for (int round = 0; round < 3; ++round) {
    const std::string key = Cat("K", round, "-");
    const Placement inside = Find("police", key + "1").event.placement;
    EXPECT_EQ(inside.method, PlaceMethod::kCode) << key;
    EXPECT_EQ(inside.unit, CodeOf(DemoCommunity())) << key;
    EXPECT_TRUE(inside.in_home_city) << key;
    const Placement above = Find("police", key + "2").event.placement;
    EXPECT_EQ(above.method, PlaceMethod::kNone) << key;
    EXPECT_EQ(above.unit, "330100000000000000000000000") << key;
    EXPECT_TRUE(above.in_home_city) << key;
    const Placement outside = Find("police", key + "3").event.placement;
    EXPECT_EQ(outside.method, PlaceMethod::kCode) << key;
    EXPECT_EQ(outside.unit, "330200000000000000000000000") << key;
    EXPECT_FALSE(outside.in_home_city) << key;
    const Placement by_text = Find("police", key + "4").event.placement;
    EXPECT_EQ(by_text.method, PlaceMethod::kText) << key;
    EXPECT_EQ(by_text.unit.substr(0, 6), "330108") << key;
  }
}

TEST_F(IngestTest, TheWorkersShareTheirGeocodedTextsAndPlaceARepeatAsTheFirstTime) {
  // 1,024 distinct texts (matched, partial and unmatched ones), then the same texts twice more
  // in other orders, in batches of 1,024 converted by two workers: each text is geocoded once,
  // whichever worker meets it again, and placed the same way every time.
  IngestEnv env = env_;
  env.batch_size = 1024;
  auto ingester = *Ingester::Create(env);
  const std::vector<UnitId> communities =
      registry().Descendants(*registry().Find(*AddressCode::ParsePrefix("3301")), Level::kCommunity);
  ASSERT_GT(communities.size(), 10u);
  constexpr int kTexts = 1024;
  std::vector<std::string> texts;
  for (int i = 0; i < kTexts; ++i) {
    const std::string community = registry().name(communities[i % communities.size()]);
    texts.push_back(i % 5 == 4 ? Cat("无名路", i, "号") : Cat(community, i % 97, "号"));
  }
  std::string file;
  std::vector<int> order(kTexts);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kTexts; ++i) order[i] = round == 0 ? i : (i * (round == 1 ? 389 : 613) + round) % kTexts;
    for (int i : order) {
      file += Canonical(Cat("M", round, "-", i), "criminal.theft", R"(,"address":")" + texts[i] + "\"");
    }
  }
  IngestSummary summary;
  ASSERT_TRUE(ingester->IngestFile(dir_.Write("repeats.jsonl", file), &summary).ok());
  EXPECT_EQ(summary.inserted, 3 * kTexts) << summary.Text();
  EXPECT_EQ(summary.geocoded, kTexts) << summary.Text();
  EXPECT_EQ(summary.geocode_cache_hits, 2 * kTexts) << summary.Text();
  int placed = 0;
  for (int i = 0; i < kTexts; ++i) {
    const Placement first = Find("police", Cat("M0-", i)).event.placement;
    placed += first.method == PlaceMethod::kText;
    for (int round = 1; round < 3; ++round) {
      const Placement again = Find("police", Cat("M", round, "-", i)).event.placement;
      EXPECT_EQ(again.method, first.method) << texts[i];
      EXPECT_EQ(again.unit, first.unit) << texts[i];
      EXPECT_EQ(again.level, first.level) << texts[i];
      EXPECT_EQ(again.geocode_status, first.geocode_status) << texts[i];
      EXPECT_EQ(again.confidence, first.confidence) << texts[i];
      EXPECT_EQ(again.in_home_city, first.in_home_city) << texts[i];
    }
  }
  EXPECT_GT(placed, kTexts / 2);
}

// Everything stored about an event, as one comparable line.
std::string Describe(const StoredEvent& stored) {
  const EventRecord& e = stored.event;
  const Placement& p = e.placement;
  return Cat(e.source, "|", e.source_id, "|", e.type, "|", e.occurred_at, "|", e.address, "|",
             e.lon ? std::to_string(*e.lon) : "-", "|", e.lat ? std::to_string(*e.lat) : "-", "|", e.code, "|",
             static_cast<int>(e.status), "|", e.attributes_json, "|", static_cast<int>(p.method), "|", p.unit, "|",
             p.level, "|", p.geocode_status, "|", p.confidence, "|", p.in_home_city);
}

// Ingests `file` into a fresh store with `env` in batches of `batch_size`, and describes what was
// stored: the events in order of their description, then the quarantine entries (with their
// line numbers when `with_line`); and how many records were quarantined.
std::pair<std::vector<std::string>, int64_t> StoreAndDescribe(IngestEnv env, const std::string& file,
                                                              size_t batch_size, bool with_line) {
  TempDir dir;
  auto store = *SqliteStore::Create(dir.path() / "pingan.db");
  EXPECT_TRUE(store->Finish().ok());
  auto events = *EventStore::Open(store->handle());
  env.store = events.get();
  env.batch_size = batch_size;
  auto ingester = *Ingester::Create(env);
  IngestSummary summary;
  EXPECT_TRUE(ingester->IngestFile(dir.Write("input.jsonl", file), &summary).ok());
  std::vector<std::string> lines;
  EXPECT_TRUE(events->ListEvents(EventFilter{}, [&](const StoredEvent& event) {
    lines.push_back(Describe(event));
    return true;
  }).ok());
  std::sort(lines.begin(), lines.end());
  const std::vector<QuarantineEntry> quarantine = *events->ListQuarantine();
  for (const QuarantineEntry& entry : quarantine) {
    lines.push_back(with_line ? Cat("Q|", entry.line, "|", entry.reason, "|", entry.raw) : Cat("Q|", entry.reason, "|", entry.raw));
  }
  return {lines, summary.quarantined_total()};
}

TEST_F(IngestTest, TitleLinesAboveTheHeaderAreSkippedAndNothingElse) {
  // Excel exports often carry a title (and a blank line) above the header.
  const std::string titled = "杭州市公安局2024年6月警情清单,\n"
                             "\n"
                             "制表单位：指挥中心,2024-07-01\n"
                             "警情编号,案件类别,发案时间,发案地址\n"
                             "T-1,0103,2024-06-01 08:00:00,杭州市西湖区\n";
  IngestSummary summary = Ingest("police-titled.csv", titled);
  EXPECT_EQ(summary.read, 1) << summary.Text();
  EXPECT_EQ(summary.inserted, 1);
  EXPECT_EQ(Find("police", "T-1").event.type, "criminal.theft");
  // Canonical names are known to every source: a title above them is skipped too, and the
  // records keep their own line numbers.
  IngestSummary canonical = Ingest("titled.csv", "清单\nsource,source_id,type,occurred_at,address\n"
                                                "police,T-2,criminal.theft,2024-06-01T08:00:00+08:00,杭州市\n"
                                                "police,T-3,criminal.theft,not a time,杭州市\n");
  EXPECT_EQ(canonical.inserted, 1) << canonical.Text();
  bool found = false;
  for (const QuarantineEntry& entry : Quarantine()) found = found || (entry.source_id == "T-3" && entry.line == 4);
  EXPECT_TRUE(found);
  // A first line of three or more cells is the header, known names or not: a file without a
  // header loses no row silently; its rows fail as records without their fields.
  IngestSummary headless = Ingest("police-headless.csv", "T-4,0103,2024-06-01 08:00:00,杭州市西湖区\n"
                                                          "T-5,0103,2024-06-01 08:00:00,杭州市西湖区\n");
  EXPECT_EQ(headless.read, 1) << headless.Text();
  EXPECT_EQ(headless.inserted, 0);
  EXPECT_EQ(headless.quarantined_total(), 1);
}

TEST_F(IngestTest, EachCommittedBatchIsReportedWithTheRunningTotals) {
  IngestEnv env = env_;
  env.batch_size = 3;
  std::vector<IngestSummary> reports;
  env.on_batch = [&](const IngestSummary& so_far) { reports.push_back(so_far); };
  auto ingester = *Ingester::Create(env);
  std::string body;
  for (int i = 0; i < 10; ++i) body += Canonical(Cat("B", i), "criminal.theft");
  body += "not json\n";
  IngestSummary summary;
  ASSERT_TRUE(ingester->IngestBody(body, Ingester::BodyFormat::kJsonLines, "http", &summary, "police").ok());
  ASSERT_EQ(reports.size(), 4u);  // 3 + 3 + 3 + 2 records
  for (size_t at = 1; at < reports.size(); ++at) EXPECT_GT(reports[at].read, reports[at - 1].read);
  EXPECT_EQ(reports.front().read, 3);
  EXPECT_EQ(reports.back().read, summary.read);
  EXPECT_EQ(reports.back().inserted, 10);
  EXPECT_EQ(reports.back().quarantined_total(), 1);
}

TEST_F(IngestTest, AnExcelWorkbookIsReadLikeACsvFileOfItsFirstSheet) {
  // The police system's export as an analyst saves it from Excel: its own column names, the time
  // a date cell, the point numbers, a row with a time that is text and no time, a blank row.
  const std::filesystem::path path = dir_.path() / "police-2024.xlsx";
  lxw_workbook* book = workbook_new(path.c_str());
  lxw_worksheet* sheet = workbook_add_worksheet(book, nullptr);
  lxw_format* when = workbook_add_format(book);
  format_set_num_format(when, "yyyy/m/d h:mm");
  // Text cells by row (an empty string: no cell); the date, the number and the rest below.
  const std::vector<std::vector<std::string>> text = {
      {"警情编号", "案件类别", "发案时间", "发案地址", "是否破案"},
      {"X-1", "0103", "", "杭州市西湖区", "是"},
      {},
      {"X-2", "0103", "昨天"},
      {"", "0105", "2024-03-05 10:20:00"},
      {"X-5", "0103", "2024-03-05 10:20:00", "", "", "", "多出一列"},  // a value past the header
  };
  for (size_t row = 0; row < text.size(); ++row) {
    for (size_t col = 0; col < text[row].size(); ++col) {
      if (!text[row][col].empty()) worksheet_write_string(sheet, row, col, text[row][col].c_str(), nullptr);
    }
  }
  lxw_datetime at{2024, 3, 5, 10, 20, 0};
  worksheet_write_datetime(sheet, 1, 2, &at, when);
  worksheet_write_blank(sheet, 1, 9, when);  // a formatted empty cell past the header: no value
  worksheet_write_number(sheet, 4, 0, 3, nullptr);  // an id typed as a number
  ASSERT_EQ(workbook_close(book), LXW_NO_ERROR);
  IngestSummary summary;
  ASSERT_TRUE(ingester_->IngestFile(path, &summary).ok());
  EXPECT_EQ(summary.read, 4) << summary.Text();
  EXPECT_EQ(summary.inserted, 2);
  EXPECT_EQ(summary.quarantined["bad_time"], 1);
  EXPECT_EQ(summary.quarantined["bad_columns"], 1);
  const StoredEvent theft = Find("police", "X-1");
  EXPECT_EQ(theft.event.type, "criminal.theft");
  EXPECT_EQ(theft.event.occurred_at, 1709605200);  // 2024-03-05T10:20 in the city's zone
  EXPECT_EQ(theft.event.address, "杭州市西湖区");
  EXPECT_EQ(nlohmann::json::parse(theft.event.attributes_json)["solved"], true);
  EXPECT_EQ(Find("police", "3").event.type, "criminal.vice");
  const std::vector<QuarantineEntry> quarantine = Quarantine();
  ASSERT_EQ(quarantine.size(), 2u);
  for (const QuarantineEntry& entry : quarantine) {
    if (entry.reason == "bad_time") {
      EXPECT_EQ(entry.line, 4);  // the row as Excel numbers it
      EXPECT_THAT(entry.raw, HasSubstr("昨天"));
    }
  }
  // The same again changes nothing; what is not a workbook is refused whole.
  IngestSummary again;
  ASSERT_TRUE(ingester_->IngestFile(path, &again).ok());
  EXPECT_EQ(again.unchanged, 2) << again.Text();
  IngestSummary none;
  absl::Status refused = ingester_->IngestFile(dir_.Write("police-x.xlsx", "警情编号,案件类别\n"), &none);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("not an XLSX workbook"));
  EXPECT_THAT(std::string(ingester_->IngestFile(dir_.Write("police-x.xls", "x"), &none).message()), HasSubstr(".xls"));
  EXPECT_EQ(none.read, 0);
}

TEST_F(IngestTest, AWorkbookBodyInflatesToTenTimesItsSizeAtMost) {
  // A small workbook body whose sheet inflates to 10.25 MiB of rows: read up to 10 MiB (ten times
  // the body, at least 1 MiB's worth), then refused; the rows read before are stored, as a
  // file's are before a read error. A file of one's own has no such bound.
  std::string sheet = R"(<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)"
                      R"(<row r="1"><c t="inlineStr"><is><t>source_id</t></is></c><c t="inlineStr"><is><t>type</t></is></c>)"
                      R"(<c t="inlineStr"><is><t>occurred_at</t></is></c></row>)";
  for (int row = 2; sheet.size() < (10 << 20) + (256 << 10); ++row) {
    sheet += Cat(R"(<row r=")", row, R"("><c t="inlineStr"><is><t>W-)", row,
                 R"(</t></is></c><c t="inlineStr"><is><t>dispute.call</t></is></c><c t="inlineStr"><is><t>2024-03-05T10:20:00+08:00</t></is></c></row>)");
  }
  sheet += "</sheetData></worksheet>";
  const std::filesystem::path path = dir_.path() / "police-long.xlsx";
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(archive, nullptr);
  ASSERT_GE(zip_file_add(archive, "xl/worksheets/sheet1.xml", zip_source_buffer(archive, sheet.data(), sheet.size(), 0), 0), 0);
  ASSERT_EQ(zip_close(archive), 0);
  std::ifstream in(path, std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_LT(body.size(), size_t{1} << 20);
  IngestSummary summary;
  absl::Status status = ingester_->IngestBody(body, Ingester::BodyFormat::kXlsx, "http:police", &summary, "police");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("xl/worksheets/sheet1.xml is over 10 MiB"));
  IngestSummary whole;
  ASSERT_TRUE(ingester_->IngestFile(path, &whole).ok());
  EXPECT_GT(whole.read, summary.read);
  EXPECT_EQ(whole.read, whole.inserted + whole.unchanged) << whole.Text();
}

TEST_F(IngestTest, TimesInMillisecondsOrSecondsSince1970AreReadWhenTheSourceSaysSo) {
  // A Java system's JSON (Jackson writes a Date as epoch milliseconds), and seconds by "%s".
  for (const std::string format : {"epoch_ms", "%s"}) {
    SCOPED_TRACE(format);
    const bool millis = format == "epoch_ms";
    auto altered = WithPoliceMapping([&](SourceMapping& mapping) { mapping.time_format = format; });
    Ingester* ingester = altered->ingester.get();
    const std::string stamp = millis ? "1717200000123" : "1717200000";  // 2024-06-01T00:00:00Z
    const std::string prefix = millis ? "M" : "S";
    auto line = [&](int n, const std::string& time) {
      return Cat(R"({"source":"police","警情编号":")", prefix, n, R"(","type":"criminal.theft","发案时间":)", time,
                 R"(,"address":"杭州市西湖区"})", "\n");
    };
    const std::string body = line(1, stamp) + line(2, Cat("\"", stamp, "\"")) + line(3, "\"2024-06-01T08:00:00+08:00\"") +
                             line(4, "\"1717200000.5\"") + line(5, "99999999999999") + line(6, "\"-17172000\"");
    IngestSummary summary;
    ASSERT_TRUE(ingester->IngestBody(body, Ingester::BodyFormat::kJsonLines, "http", &summary, "police").ok());
    EXPECT_EQ(Find("police", prefix + "1").event.occurred_at, 1717200000);
    EXPECT_EQ(Find("police", prefix + "2").event.occurred_at, 1717200000);
    EXPECT_EQ(Find("police", prefix + "3").event.occurred_at, 1717200000);  // ISO 8601 still reads
    // A fraction is no whole number; 99999999999999 is the year 5138 in milliseconds (in the
    // future) and further in seconds.
    EXPECT_EQ(summary.quarantined["future_time"], 1) << summary.Text();
    if (millis) {
      EXPECT_EQ(summary.inserted, 3) << summary.Text();
      EXPECT_EQ(summary.quarantined["bad_time"], 2) << summary.Text();  // and a sign
      for (const QuarantineEntry& entry : Quarantine()) {
        if (entry.reason == "bad_time") {
          EXPECT_THAT(entry.message, HasSubstr("epoch_ms"));
        }
      }
    } else {
      EXPECT_EQ(summary.inserted, 4) << summary.Text();  // absl's %s takes a sign: 1969
      EXPECT_EQ(Find("police", prefix + "6").event.occurred_at, -17172000);
    }
  }
}

TEST_F(IngestTest, ASourcesPointsInGcj02OrBd09AreKeptInWgs84) {
  // A grid's centre as a source on AutoNavi maps (GCJ-02) or Baidu's (BD-09) writes it.
  const UnitId grid = registry().Descendants(DemoCommunity(), Level::kGrid).front();
  const BoundingBox& box = registry().box(grid);
  const LonLat centre{(box.min_lon + box.max_lon) / 2, (box.min_lat + box.max_lat) / 2};
  const LonLat gcj = FromWgs84(Datum::kGcj02, centre), bd = FromWgs84(Datum::kBd09, centre);
  ASSERT_GT(std::abs(gcj.lon - centre.lon), 0.003);  // some 400 m apart
  auto point = [](LonLat p) {
    char text[96];
    std::snprintf(text, sizeof text, R"(,"lon":%.9f,"lat":%.9f)", p.lon, p.lat);
    return std::string(text);
  };
  for (const auto& [datum, written] : {std::pair{Datum::kGcj02, gcj}, std::pair{Datum::kBd09, bd}}) {
    SCOPED_TRACE(std::string(DatumName(datum)));
    auto altered = WithPoliceMapping([&](SourceMapping& mapping) { mapping.coordinates = datum; });
    Ingester* ingester = altered->ingester.get();
    const std::string id = Cat("D-", DatumName(datum));
    IngestSummary summary;
    ASSERT_TRUE(ingester->IngestBody(Canonical(id, "criminal.theft", point(written)), Ingester::BodyFormat::kJsonLines,
                                     "http", &summary, "police")
                    .ok());
    ASSERT_EQ(summary.inserted, 1) << summary.Text();
    const StoredEvent stored = Find("police", id);
    ASSERT_TRUE(stored.event.lon.has_value());
    EXPECT_NEAR(*stored.event.lon, centre.lon, 1e-7);  // within a centimetre of where it is
    EXPECT_NEAR(*stored.event.lat, centre.lat, 1e-7);
    EXPECT_EQ(stored.event.placement.method, PlaceMethod::kPoint);
    auto placed = registry().Resolve(*AddressCode::Parse(stored.event.placement.unit));
    ASSERT_TRUE(placed.ok());
    EXPECT_TRUE(registry().IsWithin(placed->unit, grid) || placed->unit == grid);
  }
  // The same point from a source on WGS-84 (the default) is taken as written.
  IngestSummary summary = Ingest("police-wgs.jsonl", Canonical("D-WGS", "criminal.theft", point(gcj)));
  ASSERT_EQ(summary.inserted, 1) << summary.Text();
  EXPECT_NEAR(*Find("police", "D-WGS").event.lon, gcj.lon, 1e-9);
}

TEST_F(IngestTest, ReusedRecordsAreStoredExactlyLikeFreshOnes) {
  // Batches and their records are reused (their strings keep their capacity): a record left
  // with anything of the one before it in the same slot — a point, an address, an attribute,
  // a withdrawn status, a placement — would be stored wrong. The same varied file goes in
  // batches of 3 (each slot reused many times, quarantined records closing up the slots) and
  // in one batch (nothing reused); every stored event must be the same.
  const UnitId community = DemoCommunity();
  const UnitId grid = registry().Descendants(community, Level::kGrid).front();
  const BoundingBox& box = registry().box(grid);
  const std::string point = Cat(R"(,"lon":)", (box.min_lon + box.max_lon) / 2, R"(,"lat":)", (box.min_lat + box.max_lat) / 2);
  const std::string code = CodeOf(community);
  const std::vector<std::string> kinds = {
      Cat(R"(,"code":")", code, R"(","attributes":{"solved":true,"loss_yuan":1200.5,"reporter_name":"测试甲"})"),
      R"(,"address":"杭州市西湖区","status":"withdrawn")",
      point,
      "",  // unplaced
      R"(,"address":"浙江省宁波市海曙区","attributes":{"note":"外地","x":[1,{"y":2}]})",
      Cat(R"(,"code":")", code.substr(0, 9), R"(")", point, R"(,"attributes":{"deaths":2})"),
      R"(,"attributes":{"loss_yuan":"lots"})",  // quarantined: bad_attribute
      R"(,"address":"杭州市上城区解放路32号","attributes":{"reporter_phone":"13800000000"})",
  };
  std::string file;
  for (int i = 0; i < 120; ++i) {
    file += Canonical(Cat("R", i), i % 3 == 0 ? "criminal.theft" : "dispute.call", kinds[(i * 7 + i / 8) % kinds.size()]);
    if (i % 17 == 5) file += "{not json\n";
  }
  const auto [reused, reused_quarantined] = StoreAndDescribe(env_, file, 3, true);
  const auto [fresh, fresh_quarantined] = StoreAndDescribe(env_, file, 1000, true);
  EXPECT_EQ(reused_quarantined, 15 + 7);  // the bad attribute, the lines that are not JSON
  EXPECT_EQ(fresh_quarantined, reused_quarantined);
  ASSERT_EQ(reused.size(), fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) EXPECT_EQ(reused[i], fresh[i]);
}

TEST_F(IngestTest, EachRecordMeansWhatItSaysWhateverTheRecordsBeforeIt) {
  // A converter remembers what the last records' fields meant, by position, and their source
  // and type. Records of two sources with the same keys at the same positions (meaning
  // different things: "dead" is traffic's deaths attribute and nothing to the police), keys in
  // another order, the same name nested or not, types that repeat or not: ingested together,
  // every record must be stored as when it is ingested alone.
  const std::vector<std::string> lines = {
      R"({"source":"traffic","acc_no":"T1","kind":"ACC","acc_time":"20240305102000","road_text":"杭州市西湖区","dead":1,"hurt":2})",
      R"({"source":"police","source_id":"P1","type":"criminal.theft","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区","dead":1,"hurt":2})",
      R"({"source":"traffic","acc_no":"T2","kind":"ACC","acc_time":"20240305102000","road_text":"杭州市上城区","dead":3,"hurt":0})",
      R"({"source":"traffic","kind":"ACC","acc_no":"T3","road_text":"杭州市上城区","acc_time":"20240305102000","hurt":5,"dead":0})",
      R"({"source":"police","source_id":"P2","type":"criminal.theft","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区","attributes":{"dead":1,"loss_yuan":5}})",
      R"({"source":"police","source_id":"P3","type":"criminal.robbery","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区","attr.loss_yuan":7,"attributes":{"solved":true}})",
      R"({"source":"police","source_id":"P4","type":"criminal.robbery","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区","loss_yuan":7,"attributes":{"solved":"maybe"}})",
      R"({"source":"traffic","acc_no":"T4","kind":"criminal.theft","acc_time":"20240305102000","road_text":"杭州市西湖区","dead":1,"hurt":2})",
      R"({"source":"police","source_id":"P5","type":"0104","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区"})",
      R"({"source":"police","source_id":"P6","type":"0104","occurred_at":"2024-03-05T10:20:00+08:00","address":"杭州市西湖区"})",
      R"({"source":"traffic","acc_no":"T5","kind":"ACC","acc_time":"20240305102000","road_text":"杭州市西湖区","attributes":{"dead":2}})",
  };
  std::string together;
  std::vector<std::string> alone;
  for (const std::string& line : lines) {
    together += line + "\n";
    for (std::string& one : StoreAndDescribe(env_, line + "\n", 1000, false).first) alone.push_back(std::move(one));
  }
  std::vector<std::string> all = StoreAndDescribe(env_, together, 1000, false).first;
  std::sort(all.begin(), all.end());
  std::sort(alone.begin(), alone.end());
  EXPECT_EQ(all, alone);
  // The file means what it should: traffic's "dead" is deaths, the police's top-level one nothing.
  const std::string joined = absl::StrJoin(all, "\n");
  EXPECT_NE(joined.find(R"(traffic|T1|traffic.accident)"), std::string::npos) << joined;
  EXPECT_NE(joined.find(R"("deaths":1,"injuries":2)"), std::string::npos) << joined;
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const std::string& line) {
              return line.starts_with("police|P1|") && line.find("deaths") == std::string::npos;
            }), 1) << joined;
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const std::string& line) { return line.starts_with("Q|"); }), 1)
      << joined;  // T4, with a police type
}

TEST(StoredEventJsonTest, AConfidenceIsShownAsStoredNotAsItsDoubleExpansion) {
  // Confidences are stored as floats: 0.9f widened to a double is 0.8999999761581421, which is
  // not what the geocoder said. The listing shows the shortest decimal that reads back as the float.
  StoredEvent stored;
  stored.event.source = "police";
  stored.event.source_id = "C";
  stored.event.type = "criminal.theft";
  stored.event.placement.method = PlaceMethod::kText;
  stored.event.placement.unit = "330106000000000000000000000";
  stored.event.placement.level = static_cast<uint8_t>(Level::kDistrict);
  stored.event.placement.geocode_status = "partial";
  for (const auto& [value, shown] : std::vector<std::pair<float, std::string>>{
           {0.9f, "0.9"}, {0.55f, "0.55"}, {0.99f, "0.99"}, {1.0f / 3.0f, "0.33333334"}, {1.0f, "1.0"}}) {
    stored.event.placement.confidence = value;
    const nlohmann::json line = StoredEventJson(SharedWorld().catalog, stored, absl::UTCTimeZone(), false);
    EXPECT_EQ(line["geocode"]["confidence"].dump(), shown) << value;
  }
}

TEST_F(IngestTest, InvalidUtf8AnywhereInAJsonLineIsBadUtf8) {
  // simdjson checks a line's UTF-8 as it reads it: invalid bytes in a key, in a value, after the
  // object, in a line that is not JSON either, an overlong form or an encoded surrogate are
  // bad_utf8 (never bad_json, never stored). An escaped lone surrogate is valid UTF-8 but not a
  // valid JSON string: bad_json.
  const std::string ok = Canonical("fine", "criminal.theft");
  std::string file = ok;
  file += "{\"source\":\"police\",\"source_id\":\"k\",\"type\":\"criminal.theft\",\"occurred_at\":\"2024-01-01\",\"k\xff\":1}\n";
  file += "{\"source\":\"police\",\"source_id\":\"t\",\"type\":\"criminal.theft\",\"occurred_at\":\"2024-01-01\"}\xfe\n";
  file += "{\"source\":\"police\",\"source_id\":\"\xff\n";
  file += "{\"source\":\"police\",\"source_id\":\"o\",\"type\":\"criminal.theft\",\"occurred_at\":\"2024-01-01\",\"address\":\"\xc0\xaf\"}\n";
  file += "{\"source\":\"police\",\"source_id\":\"s\",\"type\":\"criminal.theft\",\"occurred_at\":\"2024-01-01\",\"address\":\"\xed\xa0\x80\"}\n";
  file += R"({"source":"police","source_id":"e","type":"criminal.theft","occurred_at":"2024-01-01","address":"\ud800"})" "\n";
  IngestSummary summary = Ingest("utf8.jsonl", file);
  EXPECT_EQ(summary.inserted, 1) << summary.Text();
  EXPECT_EQ(summary.quarantined["bad_utf8"], 5) << summary.Text();
  EXPECT_EQ(summary.quarantined["bad_json"], 1) << summary.Text();
}

// The premise of going straight to ISO 8601: absl::ParseTime with a format said not to read a
// 'T' fails on every text holding one, whatever the digits around it.
TEST(TimeFormatTest, AFormatThatCannotReadTFailsOnEveryTextWithAT) {
  const std::vector<std::string> cannot = {
      "%Y-%m-%d %H:%M:%S", "%E4Y%m%d%H%M%S", "%Y年%m月%d日", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%F %T",
      "%Y-%m-%d %H:%M:%S%Ez", "%Y-%m-%d %H:%M:%E*S", "%s", "%Y%m%d %z", "%d.%m.%Y", "%e/%m/%y %I:%M"};
  const std::vector<std::string> texts = {
      "2024-06-01T08:00:00+08:00", "2024-06-01T08:00:00Z", "2024-06-01T08:00", "2024-06-01T08:00:00.125+08:00",
      "2024-06-01 T 08:00:00", "20240601T080000", "T", "2024-06-01T", "  2024-06-01T08:00:00+08:00  ", "1717200000T"};
  const absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);
  for (const std::string& format : cannot) {
    EXPECT_TRUE(TimeFormatCannotReadT(format)) << format;
    for (const std::string& text : texts) {
      absl::Time parsed;
      EXPECT_FALSE(absl::ParseTime(format, text, zone, &parsed, nullptr)) << format << " read " << text;
    }
  }
  // Formats that read letters or a literal T: the format is tried first, as before.
  for (const std::string format : {"%Y-%m-%dT%H:%M:%S", "%FT%T%Ez", "%d %b %Y", "%a %Y-%m-%d", "%Y-%m-%d %Z",
                                   "%I:%M %p", "%c", "%Y%m%dt", "", "%", "%E"}) {
    EXPECT_FALSE(TimeFormatCannotReadT(format)) << format;
  }
  absl::Time parsed;
  EXPECT_TRUE(absl::ParseTime("%FT%T%Ez", "2024-06-01T08:00:00+08:00", zone, &parsed, nullptr));
}

// A source with a time format reads its own times with it, and ISO 8601 times (with or without
// an offset, with a T or a space) as ISO 8601.
TEST_F(IngestTest, ASourceWithATimeFormatReadsItsOwnTimesAndIso8601Alike) {
  std::string csv =
      "警情编号,案件类别,发案时间,发案地址,经度,纬度,状态,是否破案,损失金额,报警人,报警人电话\n"
      "T-1,0103,2024-06-01 08:00:00,杭州市西湖区,,,在办,,,,\n"
      "T-2,0103,2024-06-01T08:00:00+08:00,杭州市西湖区,,,在办,,,,\n"
      "T-3,0103,2024-06-01T08:00:00Z,杭州市西湖区,,,在办,,,,\n"
      "T-4,0103,2024-06-01T08:00:00,杭州市西湖区,,,在办,,,,\n"
      "T-5,0103,2024-06-01T08:00:00+09:00,杭州市西湖区,,,在办,,,,\n"
      "T-6,0103,2024-06-31T08:00:00+08:00,杭州市西湖区,,,在办,,,,\n"
      "T-7,0103,2024-06-01T8:00:00+08:00,杭州市西湖区,,,在办,,,,\n"
      // As a spreadsheet saves them (Excel on Chinese Windows: 2024/6/1 8:00).
      "T-8,0103,2024/6/1 8:00,杭州市西湖区,,,在办,,,,\n"
      "T-9,0103,2024/06/01 08:00:00,杭州市西湖区,,,在办,,,,\n"
      "T-10,0103,2024/6/1,杭州市西湖区,,,在办,,,,\n"
      "T-11,0103,2024-6-1 8:00,杭州市西湖区,,,在办,,,,\n"
      "T-12,0103,2024/6/31 8:00,杭州市西湖区,,,在办,,,,\n"
      "T-13,0103,24/6/1 8:00,杭州市西湖区,,,在办,,,,\n"
      "T-14,0103,2024/6-1 8:00,杭州市西湖区,,,在办,,,,\n"
      "T-15,0103,2024/6/1 8:0,杭州市西湖区,,,在办,,,,\n"
      "T-16,0103,2024/6/1 24:00,杭州市西湖区,,,在办,,,,\n";
  IngestSummary summary = Ingest("police-times.csv", csv);
  EXPECT_EQ(summary.inserted, 9) << summary.Text();
  EXPECT_EQ(summary.quarantined["bad_time"], 7) << summary.Text();
  const int64_t eight_local = 1717200000;  // 2024-06-01T00:00:00Z = 08:00 in the city
  EXPECT_EQ(Find("police", "T-1").event.occurred_at, eight_local);
  EXPECT_EQ(Find("police", "T-2").event.occurred_at, eight_local);
  EXPECT_EQ(Find("police", "T-3").event.occurred_at, eight_local + 8 * 3600);
  EXPECT_EQ(Find("police", "T-4").event.occurred_at, eight_local);  // no offset: the city's zone
  EXPECT_EQ(Find("police", "T-5").event.occurred_at, eight_local - 3600);
  for (const char* id : {"T-8", "T-9", "T-11"}) EXPECT_EQ(Find("police", id).event.occurred_at, eight_local) << id;
  EXPECT_EQ(Find("police", "T-10").event.occurred_at, eight_local - 8 * 3600);  // midnight in the city
  // A source without a format reads the spreadsheet's form too.
  IngestSummary canonical = Ingest("safety-times.csv", "source,source_id,type,occurred_at,address\n"
                                                       "safety,X-1,safety.accident,2024/6/1 8:00,杭州市萧山区\n");
  EXPECT_EQ(canonical.inserted, 1) << canonical.Text();
  EXPECT_EQ(Find("safety", "X-1").event.occurred_at, eight_local);
}

TEST(AppendJsonStringTest, WritesEveryStringAsNlohmannDoes) {
  // Stored attributes are hashed to tell identical re-sends: the writer must agree with the
  // nlohmann dump it replaced on every string, valid UTF-8 or not.
  auto nlohmann_dump = [](const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  auto ours = [](const std::string& text) {
    std::string out = "prefix";
    AppendJsonString(out, text);
    return out.substr(6);
  };
  for (int byte = 0; byte < 256; ++byte) {
    const std::string alone(1, static_cast<char>(byte));
    EXPECT_EQ(ours(alone), nlohmann_dump(alone)) << byte;
    const std::string inside = "甲" + alone + "b";
    EXPECT_EQ(ours(inside), nlohmann_dump(inside)) << byte;
  }
  const std::vector<std::string> pieces = {"a", "杭州", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "/", "😀",
                                           "\xc3\xa9", "\xff", "\xe6\x9d", "\xed\xa0\x80", "\xc0\xaf", "\x80", "", " ", "\u2028"};
  uint64_t state = 12345;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int count = static_cast<int>(state % 7);
    for (int i = 0; i < count; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      text += pieces[(state >> 33) % pieces.size()];
    }
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    ASSERT_EQ(ours(text), nlohmann_dump(text)) << Printable(text);
  }
}

TEST_F(IngestTest, UndeclaredAttributesAreKeptAsNlohmannWritesThem) {
  // Undeclared attributes are kept as sent: keys sorted bytewise, the last of a repeated key,
  // objects and arrays as nlohmann reads and writes them, strings escaped, numbers as doubles.
  const std::vector<std::string> objects = {
      R"({"b":"2","a":"1","b":"3"})",
      R"({"键":"值","key":"v\"q\\s\n\u0001","K":"Z"})",
      R"({"n":0.1,"m":-2.5e-7,"l":1.5e300,"k":-0.0,"t":true,"f":false})",
      R"({"obj":{"z":1,"a":[1,2,{"c":null}]},"arr":[],"e":{}})",
      R"({"😀":"🙂","é":"e","\u00e9x":"y"})",
      R"({})",
      // Sixteen and more keys (a different sort), in reverse order, a key repeated far apart.
      R"({"p":"1","o":"2","n":"3","m":"4","l":"5","k":"6","j":"7","i":"8","h":"9","g":"10","f":"11","e":"12","d":"13","c":"14","b":"15","p":"16"})",
      R"({"t":"1","s":"2","r":"3","q":"4","p":"5","o":"6","n":"7","m":"8","l":"9","k":"10","j":"11","i":"12","h":"13","g":"14","f":"15","e":"16","d":"17","t":"18","c":"19","b":"20","a":"21"})",
  };
  std::string file;
  for (size_t i = 0; i < objects.size(); ++i) {
    file += Canonical(Cat("U", i), "criminal.theft", R"(,"attributes":)" + objects[i]);
  }
  IngestSummary summary = Ingest("undeclared.jsonl", file);
  ASSERT_EQ(summary.inserted, static_cast<int64_t>(objects.size())) << summary.Text();
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string expected =
        nlohmann::json::parse(objects[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    EXPECT_EQ(Find("police", Cat("U", i)).event.attributes_json, expected) << objects[i];
  }
  // A whole number is kept as a double, as it always was (hashes of stored events depend on it).
  Ingest("whole.jsonl", Canonical("W", "criminal.theft", R"(,"attributes":{"count":3})"));
  EXPECT_EQ(Find("police", "W").event.attributes_json, R"({"count":3.0})");
}

TEST_F(IngestTest, AnAmbiguousAddressIsCountedWhereAllItsCandidatesLie) {
  // A compound name that two districts of the demo city share, written alone.
  std::map<std::string, std::vector<UnitId>> by_name;
  for (const Compound& compound : registry().compounds()) by_name[compound.name].push_back(compound.community);
  std::string name;
  for (const auto& [text, communities] : by_name) {
    for (UnitId other : communities) {
      if (registry().AncestorAt(other, Level::kDistrict) != registry().AncestorAt(communities[0], Level::kDistrict)) {
        name = text;
      }
    }
    if (!name.empty()) break;
  }
  ASSERT_FALSE(name.empty()) << "no compound name shared across districts";
  Ingest("ambiguous.jsonl", Canonical("AMB", "criminal.theft", R"(,"address":")" + name + R"(1幢"})"));
  StoredEvent event = Find("police", "AMB");
  EXPECT_EQ(event.event.placement.geocode_status, "ambiguous");
  // The city (or a unit above every candidate), never one candidate's community or grid.
  EXPECT_LE(event.event.placement.level, static_cast<uint8_t>(Level::kDistrict));
  EXPECT_EQ(event.event.placement.unit.substr(0, 4), "3301");
}

TEST_F(IngestTest, QuarantinesEachKindOfBadRecordAndKeepsTheRest) {
  std::string big(70 * 1024, 'x');
  std::string file = Canonical("ok-1", "criminal.theft") +
                     "{not json\n" +
                     "[1,2,3]\n" +
                     R"({"source":"police","type":"criminal.theft","occurred_at":"2024-01-01"})" "\n" +
                     Canonical("bad-type", "criminal.jaywalking") +
                     R"({"source":"police","source_id":"bad-time","type":"criminal.theft","occurred_at":"2024-02-30T10:00:00"})" "\n" +
                     R"({"source":"police","source_id":"future","type":"criminal.theft","occurred_at":"2031-01-01T00:00:00Z"})" "\n" +
                     R"({"source":"police","source_id":"utf8","type":"criminal.theft","occurred_at":"2024-01-01","address":"杭州)" "\xff\xfe" R"("})" "\n" +
                     R"({"source":"police","source_id":"big","type":"criminal.theft","occurred_at":"2024-01-01","address":")" + big + "\"}\n" +
                     Canonical("bad-attr", "criminal.theft", R"(,"attributes":{"loss_yuan":"a lot"})") +
                     Canonical("court-type", "litigation.civil") +
                     R"({"source":"metro","source_id":"m1","type":"criminal.theft","occurred_at":"2024-01-01"})" "\n" +
                     Canonical("ok-2", "criminal.vice");
  IngestSummary summary = Ingest("mixed.jsonl", file);
  EXPECT_EQ(summary.read, 13);
  EXPECT_EQ(summary.inserted, 2) << summary.Text();
  EXPECT_EQ(summary.quarantined_total(), 11);
  EXPECT_EQ(summary.quarantined["bad_json"], 1);
  EXPECT_EQ(summary.quarantined["not_object"], 1);
  EXPECT_EQ(summary.quarantined["missing_field"], 1);
  EXPECT_EQ(summary.quarantined["unknown_type"], 2);
  EXPECT_EQ(summary.quarantined["bad_time"], 1);
  EXPECT_EQ(summary.quarantined["future_time"], 1);
  EXPECT_EQ(summary.quarantined["bad_utf8"], 1);
  EXPECT_EQ(summary.quarantined["oversized"], 1);
  EXPECT_EQ(summary.quarantined["bad_attribute"], 1);
  EXPECT_EQ(summary.quarantined["unknown_source"], 1);
  std::vector<QuarantineEntry> entries = Quarantine();
  ASSERT_EQ(entries.size(), 11u);
  for (const QuarantineEntry& entry : entries) {
    EXPECT_FALSE(entry.message.empty());
    EXPECT_THAT(entry.file, HasSubstr("mixed.jsonl"));
    EXPECT_GE(entry.line, 2);
    EXPECT_LE(entry.raw.size(), 16u << 10);
    if (entry.reason == "bad_time") {
      EXPECT_EQ(entry.source_id, "bad-time");
    }
  }
  // A later valid record with the same key clears its entry.
  Ingest("fixed.jsonl", R"({"source":"police","source_id":"bad-time","type":"criminal.theft","occurred_at":"2024-02-29T10:00:00"})" "\n");
  EXPECT_EQ(Quarantine().size(), 10u);
}

TEST_F(IngestTest, CsvRowsOfTheWrongWidthAndOversizedFieldsAreQuarantinedNotFatal) {
  std::string csv = "source,source_id,type,occurred_at,address,attr.deaths,attr.injuries\n"
                    "safety,S1,safety.accident,2024-01-02T03:04:05+08:00,杭州市萧山区,1,2\n"
                    "safety,S2,safety.accident\n"
                    "safety,S3,safety.accident,2024-01-02,\"" + std::string(70 * 1024, 'y') + "\",0,0\n"
                    "safety,S4,safety.accident,2024-01-02,\"杭州市\n余杭区\",0,\"three\"\n"
                    "safety,S5,safety.accident,2024-01-02,杭州市余杭区,3,0\n"
                    // 杭 (E6 9D AD) split across two fields: each is invalid UTF-8, together they are not.
                    "safety,S6,safety.accident,2024-01-02,\xE6,\x9D\xAD,0\n";
  IngestSummary summary = Ingest("safety.csv", csv);
  EXPECT_EQ(summary.inserted, 2) << summary.Text();
  EXPECT_EQ(summary.quarantined["bad_utf8"], 1);
  EXPECT_EQ(summary.quarantined["bad_columns"], 1);
  EXPECT_EQ(summary.quarantined["oversized"], 1);
  EXPECT_EQ(summary.quarantined["bad_attribute"], 1);
  EXPECT_EQ(nlohmann::json::parse(Find("safety", "S5").event.attributes_json)["deaths"], 3);
  // A quarantined CSV row is kept as a JSON object of its columns.
  for (const QuarantineEntry& entry : Quarantine()) {
    if (entry.reason == "bad_attribute") {
      EXPECT_THAT(entry.raw, HasSubstr(R"("attr.injuries":"three")"));
    }
  }
}

TEST_F(IngestTest, ReadsGzipAndRetriesQuarantineAfterAConfigFix) {
  // A catalog whose police mapping lacks theft's code: records with it are quarantined.
  Catalog narrow = SharedWorld().catalog;
  for (SourceDef& source : narrow.sources) {
    if (source.id == "police") source.mapping->types.erase("0103");
  }
  IngestEnv env = env_;
  env.catalog = &narrow;
  auto ingester = *Ingester::Create(env);
  std::string csv = "警情编号,案件类别,发案时间,发案地址\n"
                    "R-1,0103,2024-01-01 00:00:00,杭州市\n"
                    "R-2,0105,2024-01-01 00:00:00,杭州市\n";
  std::filesystem::path path = dir_.path() / "police.csv.gz";
  gzFile out = gzopen(path.c_str(), "wb");
  gzwrite(out, csv.data(), static_cast<unsigned>(csv.size()));
  gzclose(out);
  IngestSummary summary;
  ASSERT_TRUE(ingester->IngestFile(path, &summary).ok());
  EXPECT_EQ(summary.inserted, 1);
  EXPECT_EQ(summary.quarantined["unknown_type"], 1);
  ASSERT_EQ(Quarantine().size(), 1u);
  EXPECT_EQ(Quarantine()[0].source, "police");

  IngestSummary retried;  // with the full catalog
  ASSERT_TRUE(ingester_->RetryQuarantine(&retried).ok());
  EXPECT_EQ(retried.inserted, 1) << retried.Text();
  EXPECT_TRUE(Quarantine().empty());
  EXPECT_EQ(Find("police", "R-1").event.type, "criminal.theft");
}

TEST_F(IngestTest, ARecordLongerThanTheLineLimitIsQuarantinedAndTheNextLineRead) {
  std::string file = R"({"source":"police","source_id":"huge","address":")" + std::string(2 << 20, 'a') + "\"}\n" +
                     Canonical("after", "criminal.theft");
  IngestSummary summary = Ingest("huge.jsonl", file);
  EXPECT_EQ(summary.quarantined["oversized"], 1);
  EXPECT_EQ(summary.inserted, 1);
}

TEST_F(IngestTest, ABodyOfJsonLinesIsReadLikeAFile) {
  // CRLF endings, a blank line, no final newline, a line over the 1 MiB bound, a NUL byte.
  std::string body = Canonical("H1", "criminal.theft");
  body.insert(body.size() - 1, "\r");
  body += "\r\n";
  body += R"({"source":"police","source_id":"H2","type":"dispute.call","occurred_at":"2024-01-01","address":")" +
          std::string((1 << 20) + 10, 'z') + "\"}\n";
  body += std::string(R"({"source":"police","source_id":"H3","type":"dispute.call","occurred_at":"2024-01-01","address":"a)") +
          std::string(1, '\0') + "b\"}\n";
  body += R"({"source_id":"H4","type":"dispute.call","occurred_at":"2024-01-01"})";
  IngestSummary summary;
  ASSERT_TRUE(ingester_->IngestJsonLines(body, "http", &summary, "police").ok());
  EXPECT_EQ(summary.read, 4) << summary.Text();
  EXPECT_EQ(summary.inserted, 2);
  EXPECT_EQ(summary.quarantined["oversized"], 1);
  EXPECT_EQ(summary.quarantined["bad_json"], 1);  // a raw control byte inside a JSON string
  EXPECT_EQ(Find("police", "H4").event.source, "police");  // the body's source
  for (const QuarantineEntry& entry : Quarantine()) EXPECT_EQ(entry.file, "http");
}

// `text` (UTF-8) in `encoding`, through iconv: what a source system exporting GBK writes.
std::string Encode(const std::string& text, const char* encoding) {
  iconv_t cd = iconv_open(encoding, "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(text.size() * 4, '\0');
  char* in = const_cast<char*>(text.data());
  size_t in_left = text.size();
  char* to = out.data();
  size_t room = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &to, &room), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - room);
  return out;
}

TEST_F(IngestTest, ABodyOfCsvIsReadLikeAFileInTheSourcesMapping) {
  // The police source's own column names (its mapping in config/), a BOM, CRLF, a quoted field
  // with a comma and a newline, a blank line, a bad time, a row short of columns.
  const std::string body =
      "\xEF\xBB\xBF警情编号,案件类别,发案时间,发案地址\r\n"
      "C-1,0103,2024-01-01 00:00:00,\"杭州市西湖区,文三路\n478号\"\r\n"
      "\r\n"
      "C-2,0105,not a time,杭州市萧山区\r\n"
      "C-3,0103\r\n"
      "C-4,0103,2024-01-02 08:00:00,杭州市余杭区";
  IngestSummary summary = PoliceBody(body, Ingester::BodyFormat::kCsv);
  EXPECT_EQ(summary.read, 4) << summary.Text();
  EXPECT_EQ(summary.inserted, 2);
  EXPECT_EQ(summary.quarantined_total(), 2);
  EXPECT_EQ(Find("police", "C-1").event.type, "criminal.theft");
  EXPECT_EQ(Find("police", "C-1").event.address, "杭州市西湖区,文三路\n478号");
  EXPECT_EQ(Find("police", "C-4").event.address, "杭州市余杭区");
  for (const QuarantineEntry& entry : Quarantine()) EXPECT_EQ(entry.file, "http:police");
  // The same rows read as JSON Lines are no records at all: the format matters.
  IngestSummary as_json;
  ASSERT_TRUE(ingester_->IngestBody(body, Ingester::BodyFormat::kJsonLines, "http:police", &as_json, "police").ok());
  EXPECT_EQ(as_json.inserted, 0) << as_json.Text();
  // GBK, named by the request.
  IngestSummary gbk;
  ASSERT_TRUE(ingester_->IngestBody(Encode("警情编号,案件类别,发案时间,发案地址\nC-5,0103,2024-01-01 00:00:00,杭州市上城区\n",
                                           "GBK"),
                                    Ingester::BodyFormat::kCsv, "http:police", &gbk, "police", "GBK")
                  .ok());
  EXPECT_EQ(gbk.inserted, 1) << gbk.Text();
  EXPECT_EQ(Find("police", "C-5").event.address, "杭州市上城区");
  // A header alone, and an empty body: nothing read, nothing wrong.
  IngestSummary empty;
  ASSERT_TRUE(ingester_->IngestBody("警情编号,案件类别\n", Ingester::BodyFormat::kCsv, "http", &empty, "police").ok());
  ASSERT_TRUE(ingester_->IngestBody("", Ingester::BodyFormat::kCsv, "http", &empty, "police").ok());
  EXPECT_EQ(empty.read, 0);
}

TEST_F(IngestTest, AFileInGbkIsReadInTheEncodingAskedForOrItsSourcesOne) {
  const std::string utf8 = "警情编号,案件类别,发案时间,发案地址\n"
                           "G-1,0103,2024-01-01 00:00:00,杭州市西湖区\n"
                           "G-2,0105,2024-01-01 00:00:00,杭州市萧山区\n";
  const std::string gbk = Encode(utf8, "GBK");
  ASSERT_NE(gbk, utf8);
  // As UTF-8 (the default), every row is bad_utf8, and the reason says what to do.
  IngestSummary as_utf8 = Ingest("police-gbk.csv", gbk);
  EXPECT_EQ(as_utf8.inserted, 0);
  EXPECT_EQ(as_utf8.quarantined["bad_utf8"], 2) << as_utf8.Text();
  ASSERT_FALSE(Quarantine().empty());
  EXPECT_THAT(Quarantine()[0].message, HasSubstr("--encoding GB18030"));

  // Asked for: read as the UTF-8 file would be, and the quarantine entries cleared.
  IngestSummary asked;
  ASSERT_TRUE(ingester_->IngestFile(dir_.Write("police-gbk.csv", gbk), &asked, "", "GB18030").ok());
  EXPECT_EQ(asked.inserted, 2) << asked.Text();
  EXPECT_EQ(Find("police", "G-1").event.type, "criminal.theft");
  EXPECT_EQ(Find("police", "G-2").event.address, "杭州市萧山区");
  EXPECT_TRUE(Quarantine().empty());

  // The source's encoding in the catalog; a byte that is not GBK costs its row only.
  auto gbk_police = WithPoliceMapping([](SourceMapping& mapping) { mapping.encoding = "GB18030"; });
  Ingester* ingester = gbk_police->ingester.get();
  const std::string more = Encode("警情编号,案件类别,发案时间,发案地址\n"
                                  "G-3,0103,2024-01-01 00:00:00,杭州市余杭区\n", "GBK") +
                           "G-4,0103,2024-01-01 00:00:00,\xFF\xFF\n" +
                           Encode("G-5,0103,2024-01-01 00:00:00,杭州市滨江区\n", "GBK");
  IngestSummary configured;
  ASSERT_TRUE(ingester->IngestFile(dir_.Write("police-2024.csv", more), &configured).ok());
  EXPECT_EQ(configured.inserted, 2) << configured.Text();
  EXPECT_EQ(configured.quarantined["bad_utf8"], 1);
  EXPECT_EQ(Find("police", "G-5").event.address, "杭州市滨江区");
  // The same body over HTTP, in the encoding the request names.
  IngestSummary body;
  const std::string line = Encode(Canonical("G-6", "criminal.theft", R"(,"address":"杭州市上城区")"), "GB18030");
  ASSERT_TRUE(ingester_->IngestJsonLines(line, "http", &body, "police", "gbk").ok());
  EXPECT_EQ(body.inserted, 1) << body.Text();
  EXPECT_EQ(Find("police", "G-6").event.address, "杭州市上城区");

  // An encoding nobody knows stops the file before anything is read or stored.
  IngestSummary unknown;
  absl::Status refused = ingester_->IngestFile(dir_.Write("police-x.csv", gbk), &unknown, "", "klingon");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("unknown encoding 'klingon'"));
  EXPECT_EQ(unknown.read, 0);
  EXPECT_FALSE(ingester_->IngestJsonLines(line, "http", &body, "police", "GBK//IGNORE").ok());
}

TEST_F(IngestTest, AJsonArrayBodyIsReadWholeThenRecordByRecord) {
  // Pretty-printed, as a Java client may send it: records, a number, a nested array.
  std::string first = Canonical("A-1", "criminal.theft");
  first.pop_back();  // its newline
  const std::string body = "[\n  " + first +
                           ",\n  5,\n  [1, 2],\n  {\"source\": \"police\",\n   \"source_id\": \"A-2\", \"type\": \"criminal.theft\",\n"
                           "   \"occurred_at\": \"2024-03-05T10:20:00+08:00\", \"address\": \"杭州市西湖区\"}\n]\n";
  IngestSummary summary = PoliceBody(body, Ingester::BodyFormat::kJsonArray);
  EXPECT_EQ(summary.read, 4) << summary.Text();
  EXPECT_EQ(summary.inserted, 2);
  EXPECT_EQ(summary.quarantined["not_object"], 2) << summary.Text();
  EXPECT_EQ(Find("police", "A-2").event.address, "杭州市西湖区");
  std::vector<int64_t> lines;
  for (const QuarantineEntry& entry : Quarantine()) lines.push_back(entry.line);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3}));  // their places in the array
  // Not one whole array: refused before anything is stored.
  for (const std::string& bad : {std::string("[") + Canonical("A-3", "criminal.theft") + ",", std::string("{\"a\":1}"),
                                std::string("[{\"a\":1}] [2]"), std::string("[{\"a\":1},]"), std::string("")}) {
    IngestSummary refused;
    absl::Status status = ingester_->IngestBody(bad, Ingester::BodyFormat::kJsonArray, "http:police", &refused, "police");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("not a JSON array of records")) << bad;
    EXPECT_EQ(refused.read, 0);
  }
  EXPECT_FALSE(events_->FindEvent("police", "A-3").value().has_value());
  // In GBK when the request says so.
  PoliceBody(Encode("[" + Canonical("A-4", "criminal.theft", R"(,"address":"杭州市上城区")") + "]", "GBK"),
             Ingester::BodyFormat::kJsonArray, "GBK");
  EXPECT_EQ(Find("police", "A-4").event.address, "杭州市上城区");
}

TEST_F(IngestTest, AJsonFileHoldingOneArrayIsReadAsOne) {
  std::string records;
  for (int i = 0; i < 3; ++i) {
    std::string record = Canonical(Cat("J-", i), "criminal.theft");
    record.pop_back();
    records += (i == 0 ? "" : ",\n") + record;
  }
  // After white space longer than a read, plain and gzip; and JSON Lines in a .json file still.
  const std::string array = std::string(100000, ' ') + "\n[" + records + "]\n";
  IngestSummary plain = Ingest("police-array.json", array);
  EXPECT_EQ(plain.inserted, 3) << plain.Text();
  IngestSummary lines = Ingest("police-lines.json", Canonical("J-9", "criminal.theft") + Canonical("J-8", "criminal.theft"));
  EXPECT_EQ(lines.inserted, 2) << lines.Text();
  const std::filesystem::path gz = dir_.path() / "police-array.json.gz";
  gzFile out = gzopen(gz.c_str(), "wb");
  gzwrite(out, array.data(), static_cast<unsigned>(array.size()));
  gzclose(out);
  IngestSummary zipped;
  ASSERT_TRUE(ingester_->IngestFile(gz, &zipped).ok());
  EXPECT_EQ(zipped.unchanged, 3) << zipped.Text();
  // An array cut short is refused whole.
  IngestSummary cut;
  absl::Status status = ingester_->IngestFile(dir_.Write("police-cut.json", "[" + records), &cut);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a JSON array of records"));
  EXPECT_EQ(cut.read, 0);
}

TEST(IngestSummaryTest, AddsAndPrints) {
  IngestSummary a, b;
  a.read = 3, a.inserted = 2, a.quarantined["bad_time"] = 1, a.placed["text/community"] = 2;
  b.read = 1, b.unchanged = 1, b.placed["text/community"] = 1;
  a.Add(b);
  EXPECT_EQ(a.read, 4);
  EXPECT_EQ(a.placed["text/community"], 3);
  EXPECT_THAT(a.Text(), HasSubstr("quarantined 1"));
  nlohmann::json json = nlohmann::json::parse(a.Json());
  EXPECT_EQ(json["quarantined_by_reason"]["bad_time"], 1);
  EXPECT_EQ(json["unchanged"], 1);
}

// With lazy geocoder parts (what `pingan ingest` uses), a file of codes builds neither the
// matcher nor the point index; the first point or text builds the part it needs, once; a part
// that cannot be made stops the ingest before the batch that needed it is written.
TEST_F(IngestTest, TheGeocoderIsMadeOnlyWhenARecordNeedsIt) {
  World& world = SharedWorld();
  int matchers_made = 0, indexes_made = 0;
  Lazy<Matcher> matcher([&]() -> absl::StatusOr<std::unique_ptr<Matcher>> {
    ++matchers_made;
    return Matcher::Create(world.demo.registry, world.deployment.home_city, {});
  });
  Lazy<PointIndex> points([&]() -> absl::StatusOr<std::unique_ptr<PointIndex>> {
    ++indexes_made;
    return PointIndex::Create(world.demo.registry, *world.demo.registry.Find(world.deployment.home_city));
  });
  IngestEnv env = env_;
  env.matcher = nullptr, env.points = nullptr;
  env.lazy_matcher = &matcher, env.lazy_points = &points;
  auto ingester = *Ingester::Create(env);
  auto ingest = [&](const std::string& name, const std::string& text) {
    IngestSummary summary;
    absl::Status status = ingester->IngestFile(dir_.Write(name, text), &summary);
    EXPECT_TRUE(status.ok()) << status;
    return summary;
  };

  const UnitId community = DemoCommunity();
  std::string coded;
  for (int i = 0; i < 20; ++i) coded += Canonical("L" + std::to_string(i), "criminal.theft", R"(,"code":")" + CodeOf(community) + "\"");
  EXPECT_EQ(ingest("codes.jsonl", coded).inserted, 20);
  EXPECT_FALSE(matcher.made());
  EXPECT_FALSE(points.made());

  const BoundingBox& box = registry().box(registry().Descendants(community, Level::kGrid).front());
  std::string point_text = R"(,"lon":)" + std::to_string((box.min_lon + box.max_lon) / 2) + R"(,"lat":)" +
                           std::to_string((box.min_lat + box.max_lat) / 2);
  std::string pointed;
  for (int i = 0; i < 20; ++i) pointed += Canonical("P" + std::to_string(i), "criminal.theft", point_text);
  IngestSummary by_point = ingest("points.jsonl", pointed);
  EXPECT_EQ(by_point.inserted, 20);
  EXPECT_TRUE(points.made());
  EXPECT_FALSE(matcher.made());
  EXPECT_EQ(Find("police", "P7").event.placement.method, PlaceMethod::kPoint);

  std::string texts;
  for (int i = 0; i < 20; ++i) texts += Canonical("T" + std::to_string(i), "criminal.theft", R"(,"address":"杭州市滨江区")");
  EXPECT_EQ(ingest("texts.jsonl", texts).inserted, 20);
  EXPECT_TRUE(matcher.made());
  EXPECT_EQ(Find("police", "T3").event.placement.method, PlaceMethod::kText);
  EXPECT_EQ(matchers_made, 1);  // once, though two workers converted the file
  EXPECT_EQ(indexes_made, 1);

  // A matcher that cannot be made: the ingest fails with its error; the codes before the
  // first text are written, the batch with the text is not.
  Lazy<Matcher> broken([]() -> absl::StatusOr<std::unique_ptr<Matcher>> {
    return absl::DataLossError("the alias dictionary is corrupt");
  });
  env.lazy_matcher = &broken;
  auto failing = *Ingester::Create(env);
  std::string mixed;
  for (int i = 0; i < 7; ++i) mixed += Canonical("M" + std::to_string(i), "criminal.theft", R"(,"code":")" + CodeOf(community) + "\"");
  mixed += Canonical("M7", "criminal.theft", R"(,"address":"杭州市滨江区")");
  IngestSummary summary;
  absl::Status status = failing->IngestFile(dir_.Write("mixed.jsonl", mixed), &summary);
  EXPECT_THAT(status.message(), HasSubstr("alias dictionary is corrupt"));
  EXPECT_EQ(summary.inserted, 7);  // the first batch (batch size 7)
  EXPECT_FALSE(events_->FindEvent("police", "M7")->has_value());
}

}  // namespace
}  // namespace pingan
