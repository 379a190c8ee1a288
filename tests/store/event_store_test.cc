#include "store/event_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <thread>

#include "core/strings.h"
#include "store/sqlite_store.h"
#include "store/sqlite_util.h"
#include "testing/demo_registry.h"
#include "testing/registry_compare.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using ::testing::ElementsAre;
using sqlite::Statement;
using testing::TempDir;

EventRecord Event(std::string source_id, std::string type = "criminal.theft", int64_t occurred_at = 1'700'000'000,
                  std::string unit = "330106001001000000000000000") {
  EventRecord event;
  event.source = "police";
  event.source_id = std::move(source_id);
  event.type = std::move(type);
  event.occurred_at = occurred_at;
  event.address = "西湖区文三路 1 号";
  event.lon = 120.1;
  event.lat = 30.2;
  event.attributes_json = R"({"solved":false})";
  event.placement = Placement{.method = PlaceMethod::kText, .unit = std::move(unit), .level = 5,
                              .geocode_status = "matched", .confidence = 0.9f};
  return event;
}

// A fresh pingan.db opened read-write (WAL) with its event store.
struct Db {
  explicit Db(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
      auto created = SqliteStore::Create(path);
      EXPECT_TRUE(created.ok()) << created.status();
      EXPECT_TRUE((*created)->Finish().ok());
    }
    auto opened = SqliteStore::Open(path);
    EXPECT_TRUE(opened.ok()) << opened.status();
    store = *std::move(opened);
    auto events_or = EventStore::Open(store->handle());
    EXPECT_TRUE(events_or.ok()) << events_or.status();
    events = *std::move(events_or);
  }
  std::vector<UpsertOutcome> Write(std::vector<EventRecord> batch, std::vector<QuarantineEntry> quarantine = {}) {
    std::vector<UpsertOutcome> outcomes;
    absl::Status status = events->WriteBatch(batch, quarantine, &outcomes);
    EXPECT_TRUE(status.ok()) << status;
    return outcomes;
  }
  std::vector<std::string> Ids(const EventFilter& filter) {
    std::vector<std::string> ids;
    absl::Status status = events->ListEvents(filter, [&](const StoredEvent& stored) {
      ids.push_back(stored.event.source_id);
      return true;
    });
    EXPECT_TRUE(status.ok()) << status;
    return ids;
  }
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<EventStore> events;
};

TEST(EventStore, InsertUpdateUnchangedAndPlacementAloneChangesNothing) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  EXPECT_THAT(db.Write({Event("1"), Event("2")}), ElementsAre(UpsertOutcome::kInserted, UpsertOutcome::kInserted));
  EXPECT_EQ(*db.events->LastSeq(), 2);

  EventRecord moved = Event("1");
  moved.placement.unit = "330106002000000000000000000";  // a better geocoder, same content
  EventRecord changed = Event("2");
  changed.status = EventStatus::kWithdrawn;
  EXPECT_THAT(db.Write({moved, changed}), ElementsAre(UpsertOutcome::kUnchanged, UpsertOutcome::kUpdated));
  EXPECT_EQ(*db.events->LastSeq(), 3);
  EXPECT_EQ(*db.events->CountEvents(), 2);

  auto one = *db.events->FindEvent("police", "1");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->seq, 1);
  EXPECT_EQ(one->event.placement.unit, "330106001001000000000000000");
  auto two = *db.events->FindEvent("police", "2");
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->seq, 3);
  EXPECT_EQ(two->event.status, EventStatus::kWithdrawn);
  EXPECT_EQ(two->event.address, "西湖区文三路 1 号");
  EXPECT_EQ(two->event.lon, 120.1);
  EXPECT_EQ(two->event.placement.geocode_status, "matched");
  EXPECT_FLOAT_EQ(two->event.placement.confidence, 0.9f);
  EXPECT_FALSE(db.events->FindEvent("police", "3")->has_value());
  EXPECT_FALSE(db.events->FindEvent("court", "1")->has_value());
}

TEST(EventStore, HashesWorkedOutByTheCallerDecideAsTheStoresOwn) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  std::vector<EventRecord> batch = {Event("1"), Event("2")};
  std::vector<uint64_t> hashes = {EventStore::ContentHash(batch[0]), EventStore::ContentHash(batch[1])};
  std::vector<UpsertOutcome> outcomes;
  // One hash short: refused, nothing written.
  absl::Status short_status = db.events->WriteBatch(batch, {}, &outcomes, std::span<const uint64_t>(hashes.data(), 1));
  EXPECT_EQ(short_status.code(), absl::StatusCode::kInvalidArgument) << short_status;
  EXPECT_EQ(*db.events->CountEvents(), 0);
  ASSERT_TRUE(db.events->WriteBatch(batch, {}, &outcomes, hashes).ok());
  EXPECT_THAT(outcomes, ElementsAre(UpsertOutcome::kInserted, UpsertOutcome::kInserted));
  // The same records again, hashed by the store: unchanged, so the given hashes were the store's.
  EXPECT_THAT(db.Write(batch), ElementsAre(UpsertOutcome::kUnchanged, UpsertOutcome::kUnchanged));
  // A changed record with its own hash: updated; with the old record's hash: taken as unchanged
  // (the caller's hash is trusted, which is why only ingest, which computes it, passes one).
  batch[1].status = EventStatus::kWithdrawn;
  ASSERT_TRUE(db.events->WriteBatch(batch, {}, &outcomes, hashes).ok());
  EXPECT_THAT(outcomes, ElementsAre(UpsertOutcome::kUnchanged, UpsertOutcome::kUnchanged));
  hashes[1] = EventStore::ContentHash(batch[1]);
  ASSERT_TRUE(db.events->WriteBatch(batch, {}, &outcomes, hashes).ok());
  EXPECT_THAT(outcomes, ElementsAre(UpsertOutcome::kUnchanged, UpsertOutcome::kUpdated));
}

TEST(EventStore, TheLaterOfTwoRecordsWithOneKeyWinsInOrder) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  EventRecord later = Event("1", "criminal.robbery");
  EXPECT_THAT(db.Write({Event("1"), later, later}),
              ElementsAre(UpsertOutcome::kInserted, UpsertOutcome::kUpdated, UpsertOutcome::kUnchanged));
  EXPECT_EQ((*db.events->FindEvent("police", "1"))->event.type, "criminal.robbery");
  EXPECT_EQ(*db.events->CountEvents(), 1);
  EXPECT_EQ(*db.events->LastSeq(), 2);
}

TEST(EventStore, ChangesCarryBeforeImagesAndEachChangeItsOwnAfterState) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  db.Write({Event("1", "criminal.theft", 100, "330106001000000000000000000")});  // seq 1
  db.Write({Event("2")});                                                           // seq 2
  db.Write({Event("1", "criminal.robbery", 200, "330106002000000000000000000")});  // seq 3
  db.Write({Event("1", "criminal.vice", 300, "330106003000000000000000000")});     // seq 4

  auto changes = db.events->ChangesSince(0, 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 4u);
  const auto& first = (*changes)[0];
  EXPECT_EQ(first.seq, 1);
  EXPECT_FALSE(first.before.has_value());
  EXPECT_EQ(first.after.event.type, "criminal.theft");  // what seq 1 left, not the latest
  EXPECT_EQ(first.after.seq, 1);
  const auto& third = (*changes)[2];
  ASSERT_TRUE(third.before.has_value());
  EXPECT_EQ(third.before->type, "criminal.theft");
  EXPECT_EQ(third.before->occurred_at, 100);
  EXPECT_EQ(third.before->unit, "330106001000000000000000000");
  EXPECT_EQ(third.before->level, 5);
  EXPECT_EQ(third.after.event.type, "criminal.robbery");
  const auto& fourth = (*changes)[3];
  EXPECT_EQ(fourth.before->type, "criminal.robbery");
  EXPECT_EQ(fourth.after.event.type, "criminal.vice");
  EXPECT_EQ(fourth.after.seq, 4);

  // A follower that starts anywhere and applies each change alone ends with the current counts.
  for (int64_t start = 0; start <= 4; ++start) {
    std::map<std::string, int> counts;
    auto apply = [&](const EventChange& change) {
      if (change.before) counts[change.before->type]--;
      counts[change.after.event.type]++;
    };
    auto known = db.events->ChangesSince(0, start);  // what a follower at `start` has applied
    ASSERT_TRUE(known.ok());
    for (const EventChange& change : *known) apply(change);
    for (int64_t position = start; position < 4;) {
      auto page = *db.events->ChangesSince(position, 1);
      ASSERT_EQ(page.size(), 1u);
      apply(page[0]);
      position = page[0].seq;
    }
    EXPECT_EQ(counts["criminal.vice"], 1) << start;
    EXPECT_EQ(counts["criminal.theft"], 1) << start;  // event 2
    EXPECT_EQ(counts["criminal.robbery"], 0) << start;
  }
  EXPECT_TRUE(db.events->ChangesSince(4, 10)->empty());
  EXPECT_EQ(db.events->ChangesSince(1, 2)->size(), 2u);
}

// The change rows of inserts are written many to a statement (and the rest one by one); an
// update in the same batch of an event inserted earlier in it must still link that row.
TEST(EventStore, ABigBatchLogsEveryChangeInOrderAndLinksUpdatesOfItsOwnInserts) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  std::vector<EventRecord> batch;
  for (int index = 0; index < 300; ++index) batch.push_back(Event(Cat("e", index)));
  batch.push_back(Event("e5", "criminal.robbery"));  // seq 301, updates seq 6's event
  for (int index = 300; index < 600; ++index) batch.push_back(Event(Cat("e", index)));
  batch.push_back(Event("e450", "criminal.vice"));  // seq 602, updates seq 452's event
  batch.push_back(Event("e7"));                     // unchanged: no change row
  const std::vector<UpsertOutcome> outcomes = db.Write(batch);
  ASSERT_EQ(outcomes.size(), batch.size());
  EXPECT_EQ(outcomes[300], UpsertOutcome::kUpdated);
  EXPECT_EQ(outcomes[601], UpsertOutcome::kUpdated);
  EXPECT_EQ(outcomes[602], UpsertOutcome::kUnchanged);
  EXPECT_EQ(*db.events->LastSeq(), 602);

  auto changes = db.events->ChangesSince(0, 1000);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 602u);
  std::map<std::string, int> counts;
  for (size_t index = 0; index < changes->size(); ++index) {
    const EventChange& change = (*changes)[index];
    EXPECT_EQ(change.seq, static_cast<int64_t>(index) + 1);
    if (change.before) counts[change.before->type]--;
    counts[change.after.event.type]++;
  }
  // Each change carries its own after-state: seq 6 (e5's insert) still says theft.
  EXPECT_EQ((*changes)[5].after.event.source_id, "e5");
  EXPECT_EQ((*changes)[5].after.event.type, "criminal.theft");
  EXPECT_EQ((*changes)[300].after.event.type, "criminal.robbery");
  EXPECT_EQ((*changes)[451].after.event.source_id, "e450");
  EXPECT_EQ((*changes)[451].after.event.type, "criminal.theft");
  EXPECT_EQ((*changes)[601].after.event.type, "criminal.vice");
  EXPECT_EQ(counts["criminal.theft"], 598);
  EXPECT_EQ(counts["criminal.robbery"], 1);
  EXPECT_EQ(counts["criminal.vice"], 1);
}

int64_t LogRows(SqliteStore& store) {
  Statement count(store.handle(), "SELECT count(*) FROM changes");
  EXPECT_EQ(count.Step(), SQLITE_ROW);
  return count.Int(0);
}

// A batch's inserts are logged as runs (one row for many changes); an update of an event
// inside a run cuts the run, and every reader sees one change per insert and update.
TEST(EventStore, RunsOfInsertsAreOneLogRowAndAnUpdateCutsThem) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  std::vector<EventRecord> batch;
  for (int index = 0; index < 1000; ++index) batch.push_back(Event(Cat("e", index)));
  db.Write(batch);
  EXPECT_EQ(LogRows(*db.store), 1);
  EXPECT_EQ(*db.events->LastSeq(), 1000);
  db.Write({Event("e500", "criminal.robbery")});  // seq 1001 supersedes seq 501, mid-run
  EXPECT_EQ(LogRows(*db.store), 4);               // 1-500, 501 (linked), 502-1000, 1001
  db.Write({Event("e0", "criminal.vice")});       // the run's first change
  db.Write({Event("e999", "criminal.vice")});     // and its last
  EXPECT_EQ(LogRows(*db.store), 8);
  EXPECT_EQ(*db.events->LastSeq(), 1003);
  auto all = *db.events->ChangesSince(0, 5000);
  ASSERT_EQ(all.size(), 1003u);
  for (size_t index = 0; index < all.size(); ++index) EXPECT_EQ(all[index].seq, static_cast<int64_t>(index) + 1);
  EXPECT_EQ(all[0].after.event.type, "criminal.theft");  // as seq 1 left it
  EXPECT_EQ(all[500].after.event.type, "criminal.theft");
  EXPECT_EQ(all[500].after.event.source_id, "e500");
  EXPECT_EQ(all[501].after.event.source_id, "e501");
  EXPECT_EQ(all[999].after.event.type, "criminal.theft");
  EXPECT_EQ(all[1000].before->type, "criminal.theft");
  EXPECT_EQ(all[1000].after.event.type, "criminal.robbery");
  EXPECT_EQ(all[1002].after.event.source_id, "e999");
  EXPECT_EQ(all[1002].after.event.type, "criminal.vice");
  // Pages that start and end anywhere, inside runs or not, are slices of the whole.
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t after = static_cast<int64_t>(rng() % 1004), limit = static_cast<int64_t>(rng() % 40);
    auto page = *db.events->ChangesSince(after, limit);
    ASSERT_EQ(page.size(), static_cast<size_t>(std::clamp<int64_t>(1003 - after, 0, limit))) << after << " " << limit;
    for (size_t index = 0; index < page.size(); ++index) {
      const EventChange& expected = all[static_cast<size_t>(after) + index];
      EXPECT_EQ(page[index].seq, expected.seq);
      EXPECT_EQ(page[index].after.id, expected.after.id);
      EXPECT_EQ(page[index].after.event.type, expected.after.event.type);
      EXPECT_EQ(page[index].before.has_value(), expected.before.has_value());
    }
    // The events a range of changes wrote are the ids of those changes, merged into ranges.
    const int64_t upto = std::min<int64_t>(after + limit, 1003);
    auto ranges = ChangedEventIds(db.store->handle(), after, upto);
    ASSERT_TRUE(ranges.ok()) << ranges.status();
    std::set<int64_t> want, got;
    for (const EventChange& change : page) want.insert(change.after.id);
    for (size_t index = 0; index < ranges->size(); ++index) {
      const auto [from, to] = (*ranges)[index];
      ASSERT_LE(from, to);
      if (index > 0) {
        EXPECT_GT(from, (*ranges)[index - 1].second + 1);  // disjoint, not adjacent
      }
      for (int64_t id = from; id <= to; ++id) got.insert(id);
    }
    EXPECT_EQ(got, want) << after << " " << upto;
  }
}

// Random batches of inserts, re-sends and updates, checked against a plain model of the log.
// Every other round is larger and nearly all new keys, with a re-send here and there: long
// runs of inserts cut by updates at any point.
TEST(EventStore, TheLogMatchesAModelOfEveryChangeThroughRandomBatches) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  std::mt19937_64 rng(20261130);
  const char* types[] = {"criminal.theft", "criminal.robbery", "criminal.vice"};
  std::map<std::string, std::string> current;                              // source_id -> type
  std::vector<std::tuple<std::string, std::string, std::string>> model;    // (source_id, before, after)
  int next_id = 0;
  for (int round = 0; round < 120; ++round) {
    std::vector<EventRecord> batch;
    const bool mostly_new = round % 2 == 0;
    const int size = 1 + static_cast<int>(rng() % (mostly_new ? 400 : 60));
    for (int index = 0; index < size; ++index) {
      std::string id;
      if (current.empty() || (mostly_new ? rng() % 200 != 0 : rng() % 3 == 0)) {
        id = Cat("k", next_id++);
      } else {
        id = Cat("k", rng() % static_cast<uint64_t>(next_id));
      }
      std::string type = types[rng() % 3];
      batch.push_back(Event(id, type));
      auto known = current.find(id);
      if (known == current.end()) {
        model.emplace_back(id, "", type);
        current[id] = type;
      } else if (known->second != type) {
        model.emplace_back(id, known->second, type);
        known->second = type;
      }
    }
    db.Write(batch);
  }
  EXPECT_EQ(*db.events->LastSeq(), static_cast<int64_t>(model.size()));
  EXPECT_LT(LogRows(*db.store), static_cast<int64_t>(model.size()));
  auto all = *db.events->ChangesSince(0, 1 << 20);
  ASSERT_EQ(all.size(), model.size());
  for (size_t index = 0; index < all.size(); ++index) {
    const auto& [id, before, after] = model[index];
    EXPECT_EQ(all[index].seq, static_cast<int64_t>(index) + 1);
    EXPECT_EQ(all[index].after.event.source_id, id) << index;
    EXPECT_EQ(all[index].after.event.type, after) << index;
    EXPECT_EQ(all[index].before.has_value(), !before.empty()) << index;
    if (all[index].before) {
      EXPECT_EQ(all[index].before->type, before) << index;
    }
  }
}

QuarantineEntry Bad(std::string source_id, std::string raw) {
  return QuarantineEntry{.source = "police", .source_id = std::move(source_id), .reason = "bad_time",
                         .message = "occurred_at is not a time", .raw = std::move(raw), .file = "in.jsonl",
                         .line = 7, .received_at = 1'700'000'123};
}

TEST(EventStore, QuarantineIsClearedByALaterValidRecordWithTheSameKey) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  const std::string invalid_utf8("{\"a\":\"\xff\xfe\xc3\x28\0tail\"}", 16);
  db.Write({}, {Bad("1", invalid_utf8), Bad("2", "{}")});
  auto listed = *db.events->ListQuarantine();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].raw, invalid_utf8);
  EXPECT_EQ(listed[0].line, 7);
  EXPECT_EQ(listed[0].file, "in.jsonl");
  EXPECT_EQ(listed[0].received_at, 1'700'000'123);

  // The valid record clears its key; the batch's own new entry for key 3 stays.
  db.Write({Event("1")}, {Bad("3", "x")});
  listed = *db.events->ListQuarantine();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].source_id, "2");
  EXPECT_EQ(listed[1].source_id, "3");
  // An unchanged re-send clears too.
  db.Write({}, {Bad("1", "again")});
  db.Write({Event("1")});
  EXPECT_EQ(db.events->ListQuarantine()->size(), 2u);

  const int64_t ids[] = {listed[0].id};
  ASSERT_TRUE(db.events->DeleteQuarantine(ids).ok());
  listed = *db.events->ListQuarantine();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].source_id, "3");
}

TEST(EventStore, TheSameRecordQuarantinedAgainReplacesItsEntry) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  db.Write({}, {Bad("1", "{v1}"), Bad("", "{broken"), Bad("", "{other")});
  db.Write({}, {Bad("1", "{v2}"), Bad("", "{broken")});  // a re-run of the same input
  auto listed = *db.events->ListQuarantine();
  ASSERT_EQ(listed.size(), 3u);
  std::vector<std::string> raws;
  for (const QuarantineEntry& entry : listed) raws.push_back(entry.raw);
  EXPECT_THAT(raws, ::testing::UnorderedElementsAre("{v2}", "{broken", "{other"));
}

TEST(EventStore, ListEventsFiltersStreamsAndOrders) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  db.Write({Event("a", "criminal.theft", 300, "330106001000000000000000000"),
            Event("b", "criminal.robbery", 100, "330106002000000000000000000"),
            Event("c", "dispute.call", 200, "330105001000000000000000000"),
            Event("d", "criminal", 200, "330106001000000000000000000"),
            Event("e", "criminal.theft", 100, "330106001000000000000000000")});
  EXPECT_THAT(db.Ids({}), ElementsAre("b", "e", "c", "d", "a"));
  EXPECT_THAT(db.Ids({.unit_prefix = "330106"}), ElementsAre("b", "e", "d", "a"));
  EXPECT_THAT(db.Ids({.unit_prefix = "330106001"}), ElementsAre("e", "d", "a"));
  EXPECT_THAT(db.Ids({.type = "criminal.*"}), ElementsAre("b", "e", "a"));  // not bare "criminal"
  EXPECT_THAT(db.Ids({.type = "criminal.theft"}), ElementsAre("e", "a"));
  EXPECT_THAT(db.Ids({.from = 100, .to = 300}), ElementsAre("b", "e", "c", "d"));
  EXPECT_THAT(db.Ids({.from = 200}), ElementsAre("c", "d", "a"));
  EXPECT_THAT(db.Ids({.unit_prefix = "3301", .type = "criminal.*", .to = 300, .limit = 1}), ElementsAre("b"));
  EXPECT_THAT(db.Ids({.limit = 0}), ElementsAre());

  int visited = 0;
  ASSERT_TRUE(db.events->ListEvents({}, [&](const StoredEvent&) { return ++visited < 2; }).ok());
  EXPECT_EQ(visited, 2);
  EXPECT_EQ(db.events->ListEvents({.unit_prefix = "33' OR 1"}, [](const StoredEvent&) { return true; }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EventStore, AFailingBatchLeavesNothing) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  db.Write({Event("1")}, {Bad("q", "x")});
  // An error injected in the middle of the batch, after other rows were written.
  ASSERT_EQ(sqlite3_exec(db.store->handle(),
                         "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.events WHEN NEW.source_id = 'boom' "
                         "BEGIN SELECT RAISE(ABORT, 'injected'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EventRecord changed = Event("1", "criminal.vice");
  std::vector<EventRecord> batch = {Event("2"), changed, Event("3"), Event("boom")};
  std::vector<QuarantineEntry> quarantine = {Bad("4", "y")};
  std::vector<UpsertOutcome> outcomes;
  absl::Status status = db.events->WriteBatch(batch, quarantine, &outcomes);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("injected"), std::string::npos) << status;
  EXPECT_TRUE(outcomes.empty());
  EXPECT_EQ(*db.events->CountEvents(), 1);
  EXPECT_EQ(*db.events->LastSeq(), 1);
  EXPECT_EQ((*db.events->FindEvent("police", "1"))->event.type, "criminal.theft");
  EXPECT_EQ(db.events->ListQuarantine()->size(), 1u);

  // The store is usable afterwards, and the same batch without the bad record goes through.
  batch.pop_back();
  EXPECT_THAT(db.Write(batch, quarantine),
              ElementsAre(UpsertOutcome::kInserted, UpsertOutcome::kUpdated, UpsertOutcome::kInserted));
  EXPECT_EQ(*db.events->LastSeq(), 4);
}

TEST(EventStore, HostileFieldsAreStoredExactlyOrRefused) {
  TempDir dir;
  Db db(dir.path() / "pingan.db");
  EventRecord nul = Event(std::string("a\0b", 3));
  nul.source = std::string("p\0", 2);
  nul.address = std::string("\0\0addr\0", 7);
  nul.attributes_json = std::string("{\"x\":\"\0\"}", 9);
  EventRecord long_text = Event("long");
  long_text.address = std::string(1 << 20, 'x');
  EventRecord early = Event("early", "criminal.theft", std::numeric_limits<int64_t>::min());
  EventRecord late = Event("late", "criminal.theft", std::numeric_limits<int64_t>::max());
  EventRecord no_point = Event("no-point");
  no_point.lon.reset(), no_point.lat.reset();
  db.Write({nul, long_text, early, late, no_point});
  EXPECT_THAT(db.Write({nul, long_text, early, late, no_point}), ::testing::Each(UpsertOutcome::kUnchanged));

  auto found = *db.events->FindEvent(std::string("p\0", 2), std::string("a\0b", 3));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->event.address, nul.address);
  EXPECT_EQ(found->event.attributes_json, nul.attributes_json);
  EXPECT_FALSE(db.events->FindEvent("p", "a")->has_value());
  EXPECT_EQ((*db.events->FindEvent("police", "long"))->event.address.size(), 1u << 20);
  EXPECT_FALSE((*db.events->FindEvent("police", "no-point"))->event.lon.has_value());
  EXPECT_THAT(db.Ids({.from = std::numeric_limits<int64_t>::min(), .to = 0}), ElementsAre("early"));
  EXPECT_EQ(db.Ids({})[4], "late");

  std::vector<UpsertOutcome> outcomes;
  EventRecord nan = Event("nan");
  nan.lat = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(db.events->WriteBatch({&nan, 1}, {}, &outcomes).code(), absl::StatusCode::kInvalidArgument);
  EventRecord huge = Event("huge");
  huge.attributes_json = std::string(kMaxEventFieldBytes + 1, ' ');
  EXPECT_EQ(db.events->WriteBatch({&huge, 1}, {}, &outcomes).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*db.events->CountEvents(), 5);
}

TEST(EventStore, ContentHashCoversContentOnlyWithFieldBoundaries) {
  EventRecord base = Event("1");
  const uint64_t hash = EventStore::ContentHash(base);
  EXPECT_EQ(hash, EventStore::ContentHash(base));
  EventRecord other = base;
  other.source_id = "2";
  other.placement = Placement{};
  EXPECT_EQ(EventStore::ContentHash(other), hash);  // neither key nor placement
  auto differs = [&](auto change) {
    EventRecord copy = base;
    change(copy);
    return EventStore::ContentHash(copy) != hash;
  };
  EXPECT_TRUE(differs([](EventRecord& e) { e.type = "criminal.vice"; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.occurred_at++; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.address += " "; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.lon.reset(); }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.lat = 30.2000001; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.code = "330106"; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.status = EventStatus::kWithdrawn; }));
  EXPECT_TRUE(differs([](EventRecord& e) { e.attributes_json = "{}"; }));
  EventRecord ab_c = base, a_bc = base;
  ab_c.address = "ab", ab_c.code = "c";
  a_bc.address = "a", a_bc.code = "bc";
  EXPECT_NE(EventStore::ContentHash(ab_c), EventStore::ContentHash(a_bc));
  EventRecord lon_only = base, lat_only = base;
  lon_only.lat.reset(), lat_only.lon.reset();
  lat_only.lat = base.lon;
  EXPECT_NE(EventStore::ContentHash(lon_only), EventStore::ContentHash(lat_only));
  // Pinned: stored hashes must stay comparable across releases (see ContentHash).
  EventRecord pinned;
  pinned.type = "fire.fire";
  pinned.occurred_at = 1;
  EXPECT_EQ(EventStore::ContentHash(pinned), 0x2295c4288004094fULL);
  // Every field set, numbers of several bytes.
  EventRecord full;
  full.type = "criminal.theft";
  full.occurred_at = 1717200000;
  full.address = "杭州市西湖区文三路478号";
  full.lon = 120.1234567, full.lat = 30.2765432;
  full.code = "330106001001000000000000000";
  full.status = EventStatus::kWithdrawn;
  full.attributes_json = R"({"loss_yuan":350.5,"solved":true})";
  EXPECT_EQ(EventStore::ContentHash(full), 0x03baae771856a190ULL);
}

TEST(EventStore, AVersion1DatabaseIsUpgradedInPlaceKeepingItsRegistry) {
  TempDir dir;
  const auto path = dir.path() / "pingan.db";
  auto demo = testing::ZhejiangDemoRegistry(0.001);
  ASSERT_TRUE(demo.ok()) << demo.status();
  {
    auto store = SqliteStore::Create(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->SaveRegistry(demo->registry).ok());
    // What version 1 wrote: no event tables.
    ASSERT_TRUE((*store)->Exec("DROP TABLE events; DROP TABLE changes; DROP TABLE quarantine;").ok());
    ASSERT_TRUE((*store)->SetMeta("schema_version", "1").ok());
    ASSERT_TRUE((*store)->Finish().ok());
  }
  {
    auto read_only = SqliteStore::Open(path, SqliteStore::Mode::kReadOnly);
    ASSERT_TRUE(read_only.ok()) << read_only.status();
    EXPECT_EQ(EventStore::Open((*read_only)->handle()).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  {
    Db db(path);
    EXPECT_EQ(*db.store->GetMeta("schema_version"), std::optional<std::string>("3"));
    db.Write({Event("1")});
  }
  Db db(path);
  EXPECT_EQ(*db.events->CountEvents(), 1);
  auto loaded = db.store->LoadRegistry();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  testing::ExpectSameRegistry(*loaded, demo->registry);
}

// Version 2 logged one row per change and had no `run` column.
TEST(EventStore, AVersion2DatabaseIsReadAsRunsOfOneAndUpgradedInPlace) {
  TempDir dir;
  const auto path = dir.path() / "pingan.db";
  {
    Db db(path);
    db.Write({Event("1")});
    db.Write({Event("2")});
    db.Write({Event("1", "criminal.robbery")});
    db.events.reset();
    ASSERT_TRUE(db.store->Exec("ALTER TABLE changes DROP COLUMN run;").ok());
    ASSERT_TRUE(db.store->SetMeta("schema_version", "2").ok());
  }
  // A reader that opened the file at version 2 (and so reads it through its view) stays open
  // while a writer upgrades it and logs a run.
  auto read_only = SqliteStore::Open(path, SqliteStore::Mode::kReadOnly);
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  auto reader = EventStore::Open((*read_only)->handle());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(*(*reader)->LastSeq(), 3);
  {
    auto changes = (*reader)->ChangesSince(0, 10);
    ASSERT_TRUE(changes.ok()) << changes.status();
    ASSERT_EQ(changes->size(), 3u);
    EXPECT_EQ((*changes)[0].after.event.type, "criminal.theft");
    EXPECT_EQ((*changes)[2].after.event.type, "criminal.robbery");
    EXPECT_EQ(*(*read_only)->GetMeta("schema_version"), std::optional<std::string>("2"));  // untouched
  }
  Db db(path);
  EXPECT_EQ(*db.store->GetMeta("schema_version"), std::optional<std::string>("3"));
  db.Write({Event("3"), Event("4"), Event("5"), Event("2", "criminal.vice")});
  EXPECT_EQ(LogRows(*db.store), 5);  // three old rows, the run 4-6, the update 7
  for (EventStore* events : {db.events.get(), reader->get()}) {
    EXPECT_EQ(*events->LastSeq(), 7);
    auto changes = *events->ChangesSince(0, 10);
    ASSERT_EQ(changes.size(), 7u);
    EXPECT_EQ(changes[1].after.event.type, "criminal.theft");  // what seq 2 left, now superseded
    EXPECT_EQ(changes[4].after.event.source_id, "4");
    EXPECT_EQ(changes[6].before->type, "criminal.theft");
    EXPECT_EQ(changes[6].after.event.type, "criminal.vice");
  }
  // The view, which named the table's columns with a `*`, now shows the table's own `run`.
  auto ranges = ChangedEventIds((*read_only)->handle(), 3, 6);
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  EXPECT_EQ(*ranges, (std::vector<std::pair<int64_t, int64_t>>{{3, 5}}));
}

// Batch k writes kBatchSize events police/batch-k-i; content is fixed per (k, i).
constexpr int kBatches = 40;
constexpr int kBatchSize = 500;

std::vector<EventRecord> Batch(int batch) {
  std::vector<EventRecord> events;
  for (int index = 0; index < kBatchSize; ++index) {
    events.push_back(Event(Cat("batch-", batch, "-", index), index % 2 ? "criminal.theft" : "fire.fire",
                           1'700'000'000 + batch * 1000 + index));
  }
  return events;
}

std::map<std::string, std::pair<std::string, int64_t>> Rows(EventStore& events) {
  std::map<std::string, std::pair<std::string, int64_t>> rows;
  EXPECT_TRUE(events
                  .ListEvents({}, [&](const StoredEvent& stored) {
                    rows[stored.event.source_id] = {stored.event.type, stored.event.occurred_at};
                    return true;
                  })
                  .ok());
  return rows;
}

std::vector<std::pair<std::string, int64_t>> Hashes(SqliteStore& store) {
  std::vector<std::pair<std::string, int64_t>> hashes;
  Statement select(store.handle(), "SELECT source_id, hash FROM events ORDER BY source, source_id");
  while (select.Step() == SQLITE_ROW) hashes.emplace_back(select.Text(0), select.Int(1));
  return hashes;
}

TEST(EventStore, KillNineMidBatchLeavesWholeBatchesAndRewritingConverges) {
  TempDir dir;
  const auto path = dir.path() / "pingan.db";
  { Db create(path); }
  std::mt19937 random(7);
  size_t batches_seen = 0;
  for (int kill = 0; kill < 4; ++kill) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The writer: batches in a loop until killed. No gtest in here.
      auto store = SqliteStore::Open(path);
      if (!store.ok()) _exit(2);
      auto events = EventStore::Open((*store)->handle());
      if (!events.ok()) _exit(3);
      for (int round = 0;; ++round) {
        for (int batch = (kill * 7) % kBatches; batch < kBatches; ++batch) {
          if (!(*events)->WriteBatch(Batch(batch), {}, nullptr).ok()) _exit(4);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + random() % 150));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status)) << "the writer stopped by itself: " << WEXITSTATUS(wait_status);

    Db db(path);
    std::map<int, int> per_batch;
    for (const auto& [source_id, row] : Rows(*db.events)) {
      per_batch[std::stoi(source_id.substr(6, source_id.find('-', 6) - 6))]++;
    }
    for (const auto& [batch, count] : per_batch) EXPECT_EQ(count, kBatchSize) << "batch " << batch;
    batches_seen = std::max(batches_seen, per_batch.size());
    Statement check(db.store->handle(), "PRAGMA integrity_check");
    ASSERT_EQ(check.Step(), SQLITE_ROW);
    EXPECT_EQ(check.Text(0), "ok");
  }

  EXPECT_GT(batches_seen, 0u);  // the writers got somewhere before they were killed

  // Rewriting every batch converges to what a clean run writes.
  Db survivor(path);
  Db clean(dir.path() / "clean.db");
  for (int batch = 0; batch < kBatches; ++batch) {
    survivor.Write(Batch(batch));
    clean.Write(Batch(batch));
  }
  EXPECT_EQ(Rows(*survivor.events), Rows(*clean.events));
  EXPECT_EQ(Hashes(*survivor.store), Hashes(*clean.store));
  EXPECT_EQ(Hashes(*clean.store).size(), static_cast<size_t>(kBatches * kBatchSize));
}

}  // namespace
}  // namespace pingan
