// Feeding the cube from the store: a full load, the changes since a sequence number, and a
// snapshot file so that a process starts with current aggregates without reading every event
// (docs/cube.md).
//
// The store's change sequence (event_store.h) is bumped by every insert and update, in the same
// transaction as the event row. The cube keeps each event's compact state by id, so following
// the sequence needs only which events changed: each is read as it is now and put in place of
// what it was (Cube::Put takes the old contributions out).
//
// Snapshot (DIR/pingan.db.cube): the event states and sum values, the sequence they reflect, and
// a fingerprint of everything they depend on (catalog measures and major rules, the registry's
// generation, the home city, the time zone, the layout version). A snapshot that does not match
// is ignored and the cube is rebuilt from the store. Written to a temporary file, synced and
// renamed, so a kill -9 leaves the old snapshot or the new one, never a torn one; a checksum
// covers the whole file.
//
// Thread-safety: the functions are thread-compatible; one sqlite3 handle per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/period.h"
#include "cube/cube.h"

struct sqlite3;

namespace pingan {

// Turns stored rows into cube inputs: type and source ids into catalog indexes, unit codes into
// registry units, instants into civil days.
class CubeFeeder {
 public:
  CubeFeeder(const Cube& cube, CivilClock clock);
  ~CubeFeeder();

  // Loads every event of the store into `cube` (emptied first), in one read transaction.
  // Returns the change sequence the cube now reflects.
  absl::StatusOr<int64_t> LoadAll(sqlite3* db, Cube& cube);
  // Applies the changes with seq > `after_seq`. Returns the sequence the cube now reflects
  // (`after_seq` when there was nothing new) and sets `*changed` to the number of events put.
  // At most `max_changes` sequence numbers are applied in one call (the rest on the next).
  absl::StatusOr<int64_t> ApplyChanges(sqlite3* db, int64_t after_seq, Cube& cube, int64_t* changed = nullptr,
                                       int64_t max_changes = INT64_MAX);

  const CivilClock& clock() const { return clock_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  CivilClock clock_;
};

// The fingerprint of what a snapshot depends on.
uint64_t CubeFingerprint(const Cube& cube, std::string_view registry_generation, std::string_view time_zone);

// Writes the cube's event states, atomically (temporary file, fsync, rename).
absl::Status SaveCubeSnapshot(const std::filesystem::path& path, const Cube& cube, int64_t seq,
                              uint64_t fingerprint);
// Restores `cube` from a snapshot. Returns its sequence number. NotFound when there is no file;
// FailedPrecondition when it was made for something else (fingerprint) or is damaged (the
// caller rebuilds from the store).
absl::StatusOr<int64_t> LoadCubeSnapshot(const std::filesystem::path& path, uint64_t fingerprint, Cube& cube);
// The two halves of LoadCubeSnapshot, so that the file is read (and checked) while the registry
// loads: ReadCubeSnapshot needs no cube; AdoptCubeSnapshot checks the fingerprint and adopts.
struct CubeSnapshotData {
  uint64_t fingerprint = 0;
  int64_t seq = 0;
  CubeEvents events;
  std::vector<int64_t> sums;
  std::string aggregates;                            // as stored, unless parsed:
  std::optional<Cube::ParsedAggregates> parsed;       // with `columns` given to ReadCubeSnapshot
};
// With `columns` (Cube::ColumnsOf(catalog)), the aggregates are parsed as well (the costly part
// of adopting them), so that it happens beside the registry's load.
absl::StatusOr<CubeSnapshotData> ReadCubeSnapshot(const std::filesystem::path& path, size_t columns = 0);
absl::StatusOr<int64_t> AdoptCubeSnapshot(CubeSnapshotData data, uint64_t fingerprint, Cube& cube);

struct CubeOpenStats {
  bool from_snapshot = false;   // restored from the snapshot (else rebuilt from the store)
  std::string snapshot_note;    // why the snapshot was not used, when it was not
  int64_t changes_applied = 0;  // events put from the change log after the snapshot
  bool snapshot_saved = false;
  double restore_ms = 0, catch_up_ms = 0, rebuild_ms = 0, save_ms = 0;
};
// Brings `cube` up to date with the store at `db`: from the snapshot at `snapshot` plus the
// changes since when it matches `fingerprint`, else by a full load. With `save`, writes a new
// snapshot when it rebuilt or applied more than `save_after` changes (a failure to write is
// noted in stats, not an error: a read-only directory still answers). Returns the sequence.
absl::StatusOr<int64_t> OpenCube(sqlite3* db, const std::filesystem::path& snapshot, uint64_t fingerprint,
                                 CubeFeeder& feeder, Cube& cube, bool save, CubeOpenStats* stats,
                                 int64_t save_after = 10000, absl::StatusOr<CubeSnapshotData>* preread = nullptr);

}  // namespace pingan
