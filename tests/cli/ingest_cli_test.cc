// `pingan ingest`, `events` and `quarantine` through the binary, on copies of the national
// fixture (the demo city at scale 0.01): masking, audit, and durability under kill -9.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunPingan;
using testing::TempDir;

fs::path CopyFixture(const TempDir& dir, const std::string& name) {
  fs::path target = dir.path() / name;
  fs::copy(testing::NationalData(), target, fs::copy_options::recursive);
  return target;
}

// A feed of `count` police records: addresses of several kinds, codes, some re-sends with
// changes, and a few bad records.
std::string Feed(int count) {
  const char* addresses[] = {"杭州市西湖区", "浙江省杭州市滨江区", "杭州市上城区", "萧山区",
                             "杭州市拱墅区 电话13812345678", "余杭区", "江干区", "杭州市钱塘区",
                             "", "淳安县"};
  std::string out;
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) {
    nlohmann::json record{{"source", "police"},
                          {"source_id", "K" + std::to_string(i % (count - count / 20))},  // 5% re-sends
                          {"type", i % 3 == 0 ? "criminal.theft" : "dispute.call"},
                          {"occurred_at", "2023-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10) +
                                              "T08:00:00+08:00"},
                          {"address", addresses[rng() % 10]}};
    if (i % 3 == 0) record["attributes"] = {{"solved", i % 2 == 0}, {"reporter_name", "测试人"}};
    if (i % 7 == 0) record["code"] = "330106";
    if (i % 500 == 17) record["occurred_at"] = "not a time";
    out += record.dump() + "\n";
    if (i % 1000 == 999) out += "{broken json " + std::to_string(i) + "\n";
  }
  return out;
}

int64_t CountEvents(const fs::path& data, std::string* integrity = nullptr) {
  sqlite3* db = nullptr;
  int64_t count = -1;
  if (sqlite3_open_v2((data / "pingan.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      count = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    statement = nullptr;
    if (integrity != nullptr &&
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      *integrity = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return count;
}

// Quarantine entries without their ids and arrival times, sorted: what must converge.
std::vector<std::string> QuarantineState(const fs::path& data) {
  testing::Output listed = RunPingan("quarantine --json --unmasked", data.string());
  std::vector<std::string> out;
  std::stringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json entry = nlohmann::json::parse(line);
    entry.erase("id");
    entry.erase("received_at");
    entry.erase("file");
    out.push_back(entry.dump());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// `events --indicator --unit` lists the events the report counts: as many as its value, for an
// indicator with a condition (solved) and without, at the city, a district and a management
// unit whose towns are coded under another district.
TEST(IngestCli, EventsOfAnIndicatorAreThoseTheReportCounts) {
  TempDir dir;
  fs::path data = CopyFixture(dir, "data");
  ASSERT_EQ(RunPingan("ingest " + dir.Write("police.jsonl", Feed(600)).string(), data.string()).exit_code, 0);
  int compared = 0, nonzero = 0;
  for (const char* unit : {"3301", "330106", "330190"}) {
    testing::Output report = RunPingan(std::string("report --json --unit ") + unit + " --period 2023-01-01..2023-12-31",
                                       data.string());
    ASSERT_EQ(report.exit_code, 0) << unit << report.err;
    const nlohmann::json figures = nlohmann::json::parse(report.out);
    for (const nlohmann::json& figure : figures["indicators"]) {
      const std::string id = figure["id"];
      if (id != "criminal.filed" && id != "criminal.solved" && id != "criminal.theft") continue;
      testing::Output events = RunPingan(std::string("events --json --unit ") + unit + " --indicator " + id +
                                             " --from 2023-01-01 --to 2024-01-01",
                                         data.string());
      ASSERT_EQ(events.exit_code, 0) << events.err;
      const auto listed = static_cast<double>(std::count(events.out.begin(), events.out.end(), '\n'));
      EXPECT_EQ(listed, figure["value"].get<double>()) << id << " at " << unit;
      ++compared;
      nonzero += figure["value"].get<double>() > 0;
    }
  }
  EXPECT_EQ(compared, 9);
  EXPECT_GE(nonzero, 6);
  // --limit counts the events listed, not the rows read; a bad id is an error.
  testing::Output limited = RunPingan("events --unit 330106 --indicator criminal.solved --limit 3", data.string());
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_THAT(limited.out, HasSubstr("3 events"));
  testing::Output bad = RunPingan("events --indicator no.such", data.string());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("--indicator: no indicator or key type"));
}

TEST(IngestCli, EventsAreMaskedUnlessUnmaskedWhichIsAudited) {
  TempDir dir;
  fs::path data = CopyFixture(dir, "data");
  fs::path feed = dir.Write("police.jsonl", Feed(300));
  testing::Output ingest = RunPingan("ingest " + feed.string(), data.string());
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_THAT(ingest.out, HasSubstr("quarantined"));
  EXPECT_THAT(ingest.out, HasSubstr("placed code/district"));

  testing::Output masked = RunPingan("events --json --type criminal.theft --limit 50", data.string());
  ASSERT_EQ(masked.exit_code, 0) << masked.err;
  EXPECT_THAT(masked.out, Not(HasSubstr("测试人")));
  EXPECT_THAT(masked.out, Not(HasSubstr("13812345678")));
  EXPECT_THAT(masked.out, HasSubstr("测**"));
  EXPECT_EQ(RunPingan("audit --json --action read_unmasked", data.string()).out, "");
  std::stringstream lines(masked.out);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    nlohmann::json event = nlohmann::json::parse(line);
    EXPECT_EQ(event["type"], "criminal.theft");
    EXPECT_EQ(event["unit"].get<std::string>().size(), 27u);
    EXPECT_EQ(event["unit"].get<std::string>().substr(0, 4), "3301");
    EXPECT_THAT(event["occurred_at"].get<std::string>(), HasSubstr("+08:00"));
  }
  EXPECT_EQ(count, 50);

  testing::Output unmasked = RunPingan("events --json --unmasked --unit 330106", data.string());
  ASSERT_EQ(unmasked.exit_code, 0) << unmasked.err;
  EXPECT_THAT(unmasked.out, HasSubstr("测试人"));
  testing::Output audit = RunPingan("audit --json --action read_unmasked", data.string());
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  nlohmann::json entry = nlohmann::json::parse(audit.out);  // exactly one line
  EXPECT_EQ(entry["actor"], "cli");
  EXPECT_EQ(entry["target"], "events");
  EXPECT_THAT(entry["detail"].get<std::string>(), HasSubstr("events --unmasked unit=330106"));
  EXPECT_THAT(entry["detail"].get<std::string>(), Not(HasSubstr("测试人")));
  EXPECT_FALSE(fs::exists(data / "audit.log"));

  // Records without an address are counted at the city, and listed for review.
  testing::Output unplaced = RunPingan("events --json --unplaced", data.string());
  ASSERT_EQ(unplaced.exit_code, 0) << unplaced.err;
  std::stringstream review(unplaced.out);
  int unplaced_count = 0;
  for (std::string line; std::getline(review, line); ++unplaced_count) {
    nlohmann::json event = nlohmann::json::parse(line);
    EXPECT_EQ(event["unit"], "330100000000000000000000000");
    EXPECT_EQ(event["level"], "city");
  }
  EXPECT_GT(unplaced_count, 0);

  testing::Output bad = RunPingan("events --json --from 2023-13-01", data.string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("not a date"));
  testing::Output missing = RunPingan("ingest " + (dir.path() / "nope.jsonl").string(), data.string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot open"));
}

TEST(IngestCli, AGbkFileIsReadWithEncodingAndItsUnreadableEntriesReplaced) {
  TempDir dir;
  fs::path data = CopyFixture(dir, "data");
  // The police CSV as Excel on Chinese Windows saves it: GBK. 警情编号,案件类别,发案时间,发案地址 and
  // 杭州市西湖区, byte by byte from the GB 2312 chart.
  const std::string header = "\xBE\xAF\xC7\xE9\xB1\xE0\xBA\xC5,\xB0\xB8\xBC\xFE\xC0\xE0\xB1\xF0,"
                             "\xB7\xA2\xB0\xB8\xCA\xB1\xBC\xE4,\xB7\xA2\xB0\xB8\xB5\xD8\xD6\xB7\r\n";
  const std::string place = "\xBA\xBC\xD6\xDD\xCA\xD0\xCE\xF7\xBA\xFE\xC7\xF8";
  fs::path feed = dir.Write("police-excel.csv", header + "E-1,0103,2024-01-01 00:00:00," + place + "\r\n" +
                                                    "E-2,0103,2024-01-02 00:00:00," + place + "\r\n");
  testing::Output as_utf8 = RunPingan("ingest --json " + feed.string(), data.string());
  ASSERT_EQ(as_utf8.exit_code, 0) << as_utf8.err;
  EXPECT_EQ(nlohmann::json::parse(as_utf8.out)["quarantined_by_reason"]["bad_utf8"], 2) << as_utf8.out;
  EXPECT_THAT(RunPingan("quarantine", data.string()).out, HasSubstr("--encoding GB18030"));
  // The summary says it once too, when most records were not UTF-8.
  testing::Output summary = RunPingan("ingest " + feed.string(), data.string());
  EXPECT_THAT(summary.out, HasSubstr("most records are not UTF-8"));
  EXPECT_THAT(RunPingan("ingest " + dir.Write("police-ok.csv", "警情编号,案件类别,发案时间,发案地址\n").string(),
                        data.string()).out,
              Not(HasSubstr("not UTF-8")));

  testing::Output unknown = RunPingan("ingest --encoding klingon " + feed.string(), data.string());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("unknown encoding 'klingon'"));

  testing::Output as_gbk = RunPingan("ingest --json --encoding GB18030 " + feed.string(), data.string());
  ASSERT_EQ(as_gbk.exit_code, 0) << as_gbk.err;
  EXPECT_EQ(nlohmann::json::parse(as_gbk.out)["inserted"], 2) << as_gbk.out;
  testing::Output stored = RunPingan("events --json --type criminal.theft", data.string());
  EXPECT_THAT(stored.out, HasSubstr("\"address\":\"杭州市西湖区\""));
  EXPECT_EQ(RunPingan("quarantine --json", data.string()).out, "");  // the unreadable entries went
}

TEST(IngestCli, DemoIngestsItsFeedsOnceAndKeepsThem) {
  TempDir dir;
  fs::path data = CopyFixture(dir, "data");
  const std::string args = "demo --seed 3 --from 2021-03-01 --to 2021-04-30";
  testing::Output first = RunPingan(args, data.string());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("ingested as they were written"));
  EXPECT_THAT(first.out, HasSubstr("demo ready"));
  EXPECT_TRUE(fs::exists(data / "feeds" / "manifest.json"));
  EXPECT_TRUE(fs::exists(data / "feeds" / "police-2021.csv.gz"));
  const int64_t events = CountEvents(data);
  EXPECT_GT(events, 500);
  testing::Output again = RunPingan(args, data.string());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("demo already in"));
  EXPECT_EQ(CountEvents(data), events);
  // Records from before the 2021-04-09 re-districting are counted in today's units (上城区 took
  // most of the former 江干区).
  testing::Output old_names = RunPingan("events --json --from 2021-03-01 --to 2021-04-01 --unit 330102", data.string());
  EXPECT_EQ(old_names.exit_code, 0);
  EXPECT_THAT(old_names.out, HasSubstr("330102"));
}

// kill -9 at random moments of an ingest leaves whole batches, and running the same command
// again converges to the state of an uninterrupted run.
TEST(IngestCli, KillNineLeavesWholeBatchesAndARerunConverges) {
  TempDir dir;
  fs::path reference = CopyFixture(dir, "reference");
  fs::path crashed = CopyFixture(dir, "crashed");
#ifdef NDEBUG
  // Without the sanitizers 24,000 records are ingested before the first kill lands.
  constexpr int kRecords = 400'000;
#else
  constexpr int kRecords = 24'000;
#endif
  constexpr int kBatch = 800;
  fs::path feed = dir.Write("police.jsonl", Feed(kRecords));
  const std::string args = "ingest --batch " + std::to_string(kBatch) + " " + feed.string();

  testing::Output clean = RunPingan(args, reference.string());
  ASSERT_EQ(clean.exit_code, 0) << clean.err;

  // Each attempt kills the ingest at a random point of its progress: as soon as the store holds
  // a number of events drawn between what it held and a batch before the end (a delay after the
  // first commit, as before, let a fast machine finish the feed first).
  const int64_t total = CountEvents(reference);
  ASSERT_GT(total, 4 * kBatch);
  std::mt19937 rng(12345);
  int kills = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t before = std::max<int64_t>(CountEvents(crashed), 0);
    if (before + 2 * kBatch > total) break;  // too little left to land a kill in
    const int64_t target = before + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(total - before - kBatch));
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1), dup2(null, 2);
      execl(PINGAN_BINARY, PINGAN_BINARY, "ingest", "--batch", std::to_string(kBatch).c_str(), feed.c_str(),
            "--data", crashed.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    bool exited = false;
    for (int waited = 0; waited < 12000 && CountEvents(crashed) < target; ++waited) {
      int status = 0;
      if (waitpid(child, &status, WNOHANG) == child) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!exited) {
      kill(child, SIGKILL);
      int status = 0;
      waitpid(child, &status, 0);
      if (WIFSIGNALED(status)) ++kills;
    }
    std::string integrity;
    const int64_t count = CountEvents(crashed, &integrity);
    EXPECT_EQ(integrity, "ok");
    EXPECT_GE(count, 0);
  }
  EXPECT_GE(kills, 1) << "the ingest finished before any kill: make the feed larger";

  testing::Output rerun = RunPingan(args, crashed.string());
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  testing::Output expected = RunPingan("events --json --unmasked", reference.string());
  testing::Output actual = RunPingan("events --json --unmasked", crashed.string());
  ASSERT_EQ(expected.exit_code, 0);
  EXPECT_GT(expected.out.size(), 1000u);
  EXPECT_TRUE(expected.out == actual.out) << "events differ after kill -9 and a re-run";
  EXPECT_EQ(QuarantineState(reference), QuarantineState(crashed));
  EXPECT_FALSE(QuarantineState(reference).empty());
}

}  // namespace
}  // namespace pingan
