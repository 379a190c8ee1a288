#include "ingest/ingest.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "absl/container/flat_hash_map.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "address/normalize.h"
#include "absl/strings/ascii.h"
#include "core/csv.h"
#include "core/xlsx.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "core/transcode.h"
#include "geocode/matcher.h"
#include "geocode/point_index.h"
#include "ingest/record.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxLineBytes = 1 << 20;   // a longer JSON line or CSV record: oversized
constexpr size_t kCsvMaxFieldBytes = 64 << 10;
constexpr size_t kMaxJsonArrayBytes = size_t{1} << 30;  // a .json file holding one array, read whole
constexpr XlsxLimits kXlsxLimits{.max_cell_bytes = kCsvMaxFieldBytes, .max_columns = 1024};

// ---------------------------------------------------------------------------------------------
// Reading: gzip or plain files through zlib (gzread reads plain files as they are).

class GzFile {
 public:
  static absl::StatusOr<std::unique_ptr<GzFile>> Open(const fs::path& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) return absl::NotFoundError(Cat(path.string(), ": cannot open"));
    gzbuffer(file, 1 << 17);
    return std::unique_ptr<GzFile>(new GzFile(file, path.string()));
  }
  ~GzFile() { gzclose(file_); }

  // Bytes read into `buffer` (0 at the end); an error for a corrupt or unreadable file.
  absl::StatusOr<size_t> Read(char* buffer, size_t size) {
    int read = gzread(file_, buffer, static_cast<unsigned>(size));
    if (read < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      return absl::DataLossError(Cat(name_, ": ", message != nullptr ? message : "read error"));
    }
    return static_cast<size_t>(read);
  }

 private:
  GzFile(gzFile file, std::string name) : file_(file), name_(std::move(name)) {}
  gzFile file_;
  std::string name_;
};

// Splits a stream into lines of at most kMaxLineBytes ('\n' ends a line, a trailing '\r' is
// dropped); the rest of a longer line is skipped and the line is marked too long.
class LineSplitter {
 public:
  // Calls on_line(line, number, too_long) for each line; returns the reader's error if any.
  template <typename Read, typename OnLine>
  static absl::Status Run(Read read, OnLine on_line) {
    std::vector<char> buffer(1 << 20);
    std::string line;
    bool too_long = false;
    int64_t number = 0;
    while (true) {
      PA_ASSIGN_OR_RETURN(size_t got, read(buffer.data(), buffer.size()));
      if (got == 0) break;
      const char* at = buffer.data();
      const char* end = at + got;
      while (at < end) {
        const char* newline = static_cast<const char*>(std::memchr(at, '\n', end - at));
        const char* stop = newline != nullptr ? newline : end;
        size_t room = kMaxLineBytes - std::min(kMaxLineBytes, line.size());
        size_t take = std::min<size_t>(stop - at, room);
        line.append(at, take);
        if (static_cast<size_t>(stop - at) > take) too_long = true;
        if (newline == nullptr) break;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        PA_RETURN_IF_ERROR(on_line(line, ++number, too_long));
        line.clear();
        too_long = false;
        at = newline + 1;
      }
    }
    if (!line.empty() || too_long) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      PA_RETURN_IF_ERROR(on_line(line, ++number, too_long));
    }
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// The pipeline: chunks of raw records are converted on worker threads, then written by one
// writer thread in batches (one transaction each), in input order.

struct Chunk {
  std::vector<RawRecord> records;  // [0, size): this chunk's; the rest are spare, kept for their buffers
  size_t size = 0;
  RawRecord& Next() {
    if (size == records.size()) records.emplace_back();
    return records[size++];
  }
};

// A buffer this large is not kept for reuse: one odd record must not pin its size for the run.
constexpr size_t kMaxKeptBuffer = 64 << 10;
void Release(std::string& text) {
  if (text.capacity() > kMaxKeptBuffer) std::string().swap(text);
}

// A queue of at most `capacity` items between two threads. Close: no more items (Pop drains
// what is left, then returns nullopt). Cancel: stop now (Push returns false, Pop nullopt).
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  size_t size() {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

  bool Push(T item) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return items_.size() < capacity_ || cancelled_; });
    if (cancelled_) return false;
    items_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }
  std::optional<T> Pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !items_.empty() || closed_ || cancelled_; });
    if (cancelled_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    changed_.notify_all();
    return item;
  }
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  void Cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> items_;
  size_t capacity_;
  bool closed_ = false, cancelled_ = false;
};

struct Converted {
  std::vector<EventRecord> events;  // [0, event_count): this batch's; the rest are spare
  std::vector<uint64_t> hashes;     // EventStore::ContentHash of each event, worked out by the workers
  size_t event_count = 0;
  std::vector<QuarantineEntry> quarantine;
  IngestSummary summary;  // placed, withdrawn (of converted events), quarantined, read
};

// Chunks and batches go back to the stage that fills them once they are done with, so that the
// records' strings are reused: allocating and freeing them (on another thread) record by record
// cost the workers about a fifth of their time, and the kernel as much again in fresh pages.
template <typename T>
class Pool {
 public:
  T Take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return T();
    T item = std::move(free_.back());
    free_.pop_back();
    return item;
  }
  void Give(T item) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(item));
  }

 private:
  std::mutex mutex_;
  std::vector<T> free_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

int64_t IngestSummary::quarantined_total() const {
  int64_t total = 0;
  for (const auto& [reason, count] : quarantined) total += count;
  return total;
}

void IngestSummary::Add(const IngestSummary& other) {
  read += other.read;
  inserted += other.inserted;
  updated += other.updated;
  unchanged += other.unchanged;
  withdrawn += other.withdrawn;
  outside_home_city += other.outside_home_city;
  geocoded += other.geocoded;
  geocode_cache_hits += other.geocode_cache_hits;
  for (const auto& [key, count] : other.quarantined) quarantined[key] += count;
  for (const auto& [key, count] : other.placed) placed[key] += count;
  seconds += other.seconds;
}

std::string IngestSummary::Text() const {
  std::string out = fmt::format(
      "read {}  inserted {}  updated {}  unchanged {}  withdrawn {}  quarantined {}\n", read,
      inserted, updated, unchanged, withdrawn, quarantined_total());
  for (const auto& [reason, count] : quarantined) out += fmt::format("  quarantined {:<16} {}\n", reason, count);
  // Most files that are not UTF-8 are GBK (Excel on Chinese Windows): say so once, where it shows.
  if (auto bad = quarantined.find("bad_utf8"); bad != quarantined.end() && bad->second * 2 > read) {
    out += "  most records are not UTF-8: a file in GBK or GB18030 (as Excel on Chinese Windows saves CSV) "
           "needs --encoding GB18030, or the source's encoding in the catalog\n";
  }
  for (const auto& [key, count] : placed) out += fmt::format("  placed {:<22} {}\n", key, count);
  if (outside_home_city > 0) out += fmt::format("  outside the home city (stored, not counted) {}\n", outside_home_city);
  if (geocoded + geocode_cache_hits > 0) {
    out += fmt::format("  address texts geocoded {}, answered from the cache of recent texts {}\n", geocoded,
                       geocode_cache_hits);
  }
  if (seconds > 0) {
    out += fmt::format("  {:.1f} s, {:.0f} records/s\n", seconds, read / std::max(seconds, 1e-9));
  }
  return out;
}

std::string IngestSummary::Json() const {
  json out{{"read", read},         {"inserted", inserted},
           {"updated", updated},   {"unchanged", unchanged},
           {"withdrawn", withdrawn}, {"quarantined", quarantined_total()},
           {"quarantined_by_reason", quarantined}, {"placed", placed},
           {"outside_home_city", outside_home_city}, {"geocoded", geocoded},
           {"geocode_cache_hits", geocode_cache_hits}, {"seconds", seconds}};
  return out.dump();
}

struct Ingester::Impl {
  IngestEnv env;
  RecordConverter converter;
  std::vector<ConverterScratch> scratches;  // one per worker, kept across chunks (caches)

  // The converter reads this copy of the environment, not the caller's: an ingester outlives the
  // IngestEnv it was made from.
  Impl(const IngestEnv& env_in, RecordConverter converter_in)
      : env(env_in), converter(std::move(converter_in)), scratches(std::max(1, env_in.threads)) {
    converter.Rebind(env);
  }

  // Converts `chunk` on at most `workers` threads into `out` (a batch from the pool: its events
  // are reused).
  void Convert(const Chunk& chunk, int workers, Converted& out) {
    const size_t n = chunk.size;
    out.event_count = 0;
    out.quarantine.clear();
    out.summary = IngestSummary();
    if (out.events.size() < n) out.events.resize(n);
    if (out.hashes.size() < n) out.hashes.resize(n);
    const int threads = std::max(1, std::min({workers, static_cast<int>(scratches.size()), static_cast<int>(n / 256) + 1}));
    int64_t hits = 0, misses = 0;
    for (const ConverterScratch& scratch : scratches) hits -= scratch.cache_hits(), misses -= scratch.cache_misses();
    // Blocks of records handed out as workers free up, so that no worker idles while another
    // still has a slow half (geocoding costs vary from record to record).
    constexpr size_t kBlock = 128;
    std::atomic<size_t> next{0};
    std::vector<std::vector<std::pair<size_t, QuarantineEntry>>> rejected(threads);
    auto work = [&](int worker) {
      ConverterScratch& scratch = scratches[worker];
      QuarantineEntry entry;
      for (size_t begin; (begin = next.fetch_add(kBlock)) < n;) {
        for (size_t i = begin; i < std::min(n, begin + kBlock); ++i) {
          EventRecord& event = out.events[i];
          Release(event.address), Release(event.attributes_json);  // after an odd record in this slot
          if (converter.Convert(chunk.records[i], scratch, event, entry)) {
            out.hashes[i] = EventStore::ContentHash(event);
          } else {
            rejected[worker].emplace_back(i, std::move(entry));
          }
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& thread : pool) thread.join();
    for (const ConverterScratch& scratch : scratches) hits += scratch.cache_hits(), misses += scratch.cache_misses();
    out.summary.geocode_cache_hits = hits;
    out.summary.geocoded = misses;
    out.summary.read = static_cast<int64_t>(n);
    // The quarantined records in input order; the events close up over their slots.
    std::vector<std::pair<size_t, QuarantineEntry>> all;
    for (auto& list : rejected) {
      for (auto& item : list) all.push_back(std::move(item));
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t kept = 0, next_rejected = 0;
    for (size_t i = 0; i < n; ++i) {
      if (next_rejected < all.size() && all[next_rejected].first == i) {
        ++next_rejected;
        continue;
      }
      if (kept != i) std::swap(out.events[kept], out.events[i]), out.hashes[kept] = out.hashes[i];
      ++kept;
    }
    out.event_count = kept;
    for (auto& [index, entry] : all) {
      out.summary.quarantined[entry.reason] += 1;
      out.quarantine.push_back(std::move(entry));
    }
    int64_t placed[4][kLevelCount] = {};
    for (size_t i = 0; i < kept; ++i) {
      const EventRecord& event = out.events[i];
      ++placed[static_cast<int>(event.placement.method)][std::min<int>(event.placement.level, kLevelCount - 1)];
      if (!event.placement.in_home_city) out.summary.outside_home_city += 1;
    }
    for (int method = 0; method < 4; ++method) {
      for (int level = 0; level < kLevelCount; ++level) {
        if (placed[method][level] > 0) {
          out.summary.placed[PlacedKey(static_cast<PlaceMethod>(method), static_cast<Level>(level))] +=
              placed[method][level];
        }
      }
    }
  }

  absl::Status GeocoderStatus() const {
    if (env.lazy_matcher != nullptr) PA_RETURN_IF_ERROR(env.lazy_matcher->status());
    if (env.lazy_points != nullptr) PA_RETURN_IF_ERROR(env.lazy_points->status());
    return absl::OkStatus();
  }

  static std::string PlacedKey(PlaceMethod method, Level level) {
    if (method == PlaceMethod::kNone) return "none (unplaced)";
    return Cat(PlaceMethodName(method), "/", LevelName(level));
  }

  absl::Status Write(Converted& batch, IngestSummary* summary) {
    std::vector<UpsertOutcome> outcomes;
    PA_RETURN_IF_ERROR(env.store->WriteBatch(std::span<const EventRecord>(batch.events.data(), batch.event_count),
                                             batch.quarantine, &outcomes,
                                             std::span<const uint64_t>(batch.hashes.data(), batch.event_count)));
    for (size_t i = 0; i < outcomes.size(); ++i) {
      switch (outcomes[i]) {
        case UpsertOutcome::kInserted: ++batch.summary.inserted; break;
        case UpsertOutcome::kUpdated: ++batch.summary.updated; break;
        case UpsertOutcome::kUnchanged: ++batch.summary.unchanged; break;
      }
      if (outcomes[i] != UpsertOutcome::kUnchanged && batch.events[i].status == EventStatus::kWithdrawn) {
        ++batch.summary.withdrawn;
      }
    }
    summary->Add(batch.summary);
    return absl::OkStatus();
  }

  // Runs the pipeline over records produced by `produce(emit)`, where emit(fill) calls
  // fill(RawRecord&) on the next record to fill (a reused one: fill sets every field, with
  // RawRecord::Set*) and returns a status: a reader thread runs `produce` and hands over chunks of env.batch_size records;
  // this thread converts them (with env.threads workers); a writer thread commits each as one
  // batch, in input order. Reading, converting and writing overlap.
  template <typename Produce>
  absl::Status Run(Produce produce, IngestSummary* summary) {
    auto started = std::chrono::steady_clock::now();
    BoundedQueue<Chunk> read_queue(2);
    BoundedQueue<Converted> write_queue(2);
    Pool<Chunk> chunks;
    Pool<Converted> batches;
    absl::Status read_status, write_status, convert_status;
    IngestSummary written;
    // PINGAN_INGEST_TIMING: where each stage spent its time, on stderr at the end.
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    double convert_s = 0, wait_read_s = 0, wait_write_s = 0, write_s = 0, writer_idle_s = 0;
    std::vector<int> batches_by_workers(std::max(1, env.threads) + 1, 0);
    std::thread reader([&] {
      Chunk chunk;
      chunk.records.reserve(env.batch_size);
      read_status = produce([&](auto&& fill) -> absl::Status {
        fill(chunk.Next());
        if (chunk.size < env.batch_size) return absl::OkStatus();
        if (!read_queue.Push(std::move(chunk))) return absl::CancelledError("ingest stopped");
        chunk = chunks.Take();
        chunk.size = 0;
        return absl::OkStatus();
      });
      // What was read before a read error is still ingested.
      if (chunk.size > 0) read_queue.Push(std::move(chunk));
      read_queue.Close();
    });
    std::thread writer([&] {
      for (auto idle = Clock::now();; idle = Clock::now()) {
        std::optional<Converted> batch = write_queue.Pop();
        writer_idle_s += since(idle);
        if (!batch) break;
        auto busy = Clock::now();
        write_status = Write(*batch, &written);
        write_s += since(busy);
        if (!write_status.ok()) {
          write_queue.Cancel();
          read_queue.Cancel();
          return;
        }
        if (env.on_batch) env.on_batch(written);
        batches.Give(std::move(*batch));
      }
    });
    // Converting takes as many workers as keep the writer busy, no more. The writer is the one
    // stage that cannot be split, and a worker beyond what keeps it fed only takes a core from
    // it: records with a code convert faster than SQLite writes them, and two workers beside the
    // writer on this 2-core machine made the writer 1.5x slower (coded.jsonl: 5.1-5.6 s busy,
    // 3.3 s with one worker). Address texts convert slower than they are written, and keep all.
    int workers = std::max(1, env.threads);
    for (auto at = Clock::now();; at = Clock::now()) {
      std::optional<Chunk> chunk = read_queue.Pop();
      wait_read_s += since(at);
      if (!chunk) break;
      const size_t queued = write_queue.size();
      if (queued >= write_queue.capacity()) workers = std::max(1, workers - 1);           // the writer is behind
      if (queued == 0) workers = std::min(std::max(1, env.threads), workers + 1);      // the writer waits for us
      at = Clock::now();
      Converted converted = batches.Take();
      Convert(*chunk, workers, converted);
      convert_s += since(at);
      ++batches_by_workers[workers];
      for (size_t i = 0; i < chunk->size; ++i) Release(chunk->records[i].text);
      chunks.Give(std::move(*chunk));
      // A lazy part of the geocoder that could not be made placed none of this chunk's texts
      // or points: nothing of it is written.
      if (absl::Status geocoder = GeocoderStatus(); !geocoder.ok()) {
        convert_status = geocoder;
        break;
      }
      at = Clock::now();
      const bool pushed = write_queue.Push(std::move(converted));
      wait_write_s += since(at);
      if (!pushed) break;
    }
    write_queue.Close();
    writer.join();
    if (std::getenv("PINGAN_INGEST_TIMING") != nullptr) {
      fmt::print(stderr, "ingest timing: convert {:.2f} s, waiting for the reader {:.2f} s, for the writer {:.2f} s; "
                 "writer busy {:.2f} s, idle {:.2f} s; batches by workers {}\n", convert_s, wait_read_s, wait_write_s,
                 write_s, writer_idle_s, fmt::join(batches_by_workers.begin() + 1, batches_by_workers.end(), "/"));
    }
    read_queue.Cancel();
    reader.join();
    written.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summary->Add(written);
    if (!write_status.ok()) return write_status;
    if (!convert_status.ok()) return convert_status;
    return read_status;
  }

  // Whether a row before any header is a title above it (Excel exports often carry one: "2024年6月
  // 警情清单") or blank: at most two cells with text, none naming a field the source is read by;
  // at most kTitleRows of them. Otherwise the row is the header, as it always was.
  static constexpr int kTitleRows = 10;
  using Header = std::shared_ptr<const std::vector<std::string>>;
  // A CSV's or a sheet's rows until `header` is set: title rows are counted in `titles` and
  // skipped, the first other row becomes the header (a UTF-8 BOM before it dropped). True when
  // the row was taken so; false once there is a header (the row is a record).
  template <typename Cells>
  bool TakeHeader(const Cells& cells, const std::string& source, int& titles, Header& header) const {
    if (header != nullptr) return false;
    if (IsTitleRow(cells, source, titles)) {
      ++titles;
      return true;
    }
    auto columns = std::make_shared<std::vector<std::string>>(cells.begin(), cells.end());
    if (!columns->empty() && StartsWithBom(columns->front())) columns->front().erase(0, 3);
    header = std::move(columns);
    return true;
  }
  template <typename Cells>
  bool IsTitleRow(const Cells& cells, const std::string& source, int titles_so_far) const {
    if (titles_so_far >= kTitleRows) return false;
    int filled = 0;
    for (const auto& cell : cells) {
      if (absl::StripAsciiWhitespace(absl::string_view(cell.data(), cell.size())).empty()) continue;
      if (++filled > 2 || converter.KnowsField(source, cell)) return false;
    }
    return true;  // a title, or a blank line
  }

  // The elements of a JSON array (`body`, UTF-8), each a record whose line is its position
  // (1-based). The array is walked whole first (simdjson On Demand, each element's text a view
  // into the body), so a body that is not one array is refused before anything is read.
  absl::Status RunJsonArray(std::string_view body, const std::string& source, const std::string& name,
                            IngestSummary* summary) {
    const simdjson::padded_string padded(body);
    simdjson::ondemand::parser parser;
    std::vector<std::string_view> elements;
    auto refuse = [&](simdjson::error_code error) {
      return absl::InvalidArgumentError(Cat(name, ": not a JSON array of records (", simdjson::error_message(error),
                                            " after ", elements.size(), " elements)"));
    };
    simdjson::ondemand::document document;
    if (auto error = parser.iterate(padded).get(document); error) return refuse(error);
    simdjson::ondemand::array array;
    if (auto error = document.get_array().get(array); error) return refuse(error);
    for (auto item : array) {
      simdjson::ondemand::value value;
      if (auto error = item.get(value); error) return refuse(error);
      simdjson::ondemand::json_type type;
      if (auto error = value.type().get(type); error) return refuse(error);
      std::string_view text;
      simdjson::error_code error = simdjson::SUCCESS;
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object object;
        error = value.get_object().get(object);
        if (!error) error = object.raw_json().get(text);
      } else if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array inner;
        error = value.get_array().get(inner);
        if (!error) error = inner.raw_json().get(text);
      } else {
        text = value.raw_json_token();
      }
      if (error) return refuse(error);
      elements.push_back(text);
    }
    // What follows the array: white space only (the document's end), or the body is refused.
    const char* end = nullptr;
    if (auto error = document.current_location().get(end); error != simdjson::OUT_OF_BOUNDS) {
      return refuse(error ? error : simdjson::TRAILING_CONTENT);
    }
    return Run(
        [&](auto emit) -> absl::Status {
          for (size_t at = 0; at < elements.size(); ++at) {
            const std::string_view text = elements[at];
            PA_RETURN_IF_ERROR(emit([&](RawRecord& record) {
              const bool too_long = text.size() > kMaxLineBytes;
              record.SetJsonLine(too_long ? text.substr(0, kMaxLineBytes) : text, too_long, source, name,
                                 static_cast<int64_t>(at + 1));
            }));
          }
          return absl::OkStatus();
        },
        summary);
  }

  // JSON Lines from `read`: one record per line; blank lines are skipped.
  absl::Status RunJsonLines(const Transcoder::Read& read, const std::string& source, const std::string& name,
                            IngestSummary* summary) {
    return Run(
        [&](auto emit) {
          return LineSplitter::Run(read, [&](const std::string& line, int64_t number, bool too_long) {
            if (line.empty() && !too_long) return absl::OkStatus();
            return emit([&](RawRecord& record) { record.SetJsonLine(line, too_long, source, name, number); });
          });
        },
        summary);
  }

  // The first sheet of an Excel workbook (core/xlsx.h): the first row with a cell is the header,
  // as in CSV; each row after it a record, its number in the sheet its line. A sheet leaves out
  // empty cells at a row's end, and may keep formatted empty ones past the last column: a row
  // is as wide as the header unless it holds a value past it.
  // `read_rows(on_row)` is ReadXlsx or ReadXlsxBytes with their other arguments bound.
  using XlsxRows = std::function<absl::Status(const std::function<absl::Status(const XlsxRow&)>&)>;
  absl::Status RunXlsx(const XlsxRows& read_rows, const std::string& source, const std::string& name,
                       IngestSummary* summary) {
    return Run(
        [&](auto emit) {
          Header header;
          std::vector<std::string_view> fields;
          int titles = 0;
          return read_rows([&](const XlsxRow& row) -> absl::Status {
                            if (TakeHeader(row.cells, source, titles, header)) return absl::OkStatus();
                            size_t width = row.cells.size();
                            while (width > header->size() && row.cells[width - 1].empty()) --width;
                            fields.assign(row.cells.begin(), row.cells.begin() + static_cast<std::ptrdiff_t>(width));
                            fields.resize(std::max(width, header->size()));
                            return emit([&](RawRecord& record) {
                              record.SetCsvRow(header, fields, row.oversized, source, name, row.number);
                            });
                          });
        },
        summary);
  }

  // CSV (RFC 4180) from `read`: the first record is the header (a UTF-8 BOM before it is
  // dropped); blank lines are skipped.
  absl::Status RunCsv(const Transcoder::Read& read, const std::string& source, const std::string& name,
                      IngestSummary* summary) {
    return Run(
        [&](auto emit) {
          Header header;
          int titles = 0;
          CsvStreamParser parser(name, [&](const CsvRow& row) -> absl::Status {
            if (TakeHeader(row.fields, source, titles, header)) return absl::OkStatus();
            if (row.fields.size() == 1 && row.fields[0].empty()) return absl::OkStatus();  // blank
            return emit([&](RawRecord& record) {
              record.SetCsvRow(header, row.fields, row.oversized, source, name, static_cast<int64_t>(row.number));
            });
          }, CsvLimits{.max_field_bytes = kCsvMaxFieldBytes, .max_fields = 1024, .lenient = true});
          std::vector<char> buffer(1 << 20);
          while (true) {
            PA_ASSIGN_OR_RETURN(size_t got, read(buffer.data(), buffer.size()));
            if (got == 0) break;
            PA_RETURN_IF_ERROR(parser.Feed(buffer.data(), got));
          }
          return parser.Finish();
        },
        summary);
  }
};

Ingester::Ingester(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ingester::~Ingester() = default;

absl::StatusOr<std::unique_ptr<Ingester>> Ingester::Create(const IngestEnv& env) {
  if (env.catalog == nullptr || env.registry == nullptr || env.deployment == nullptr ||
      env.store == nullptr) {
    return absl::InvalidArgumentError("ingest needs a catalog, a registry, a deployment and a store");
  }
  if (env.batch_size == 0 || env.batch_size > 1'000'000) {
    return absl::InvalidArgumentError("ingest batch size must be between 1 and 1,000,000");
  }
  PA_ASSIGN_OR_RETURN(RecordConverter converter, RecordConverter::Create(env));
  return std::unique_ptr<Ingester>(new Ingester(std::make_unique<Impl>(env, std::move(converter))));
}

namespace {

enum class Format { kJsonLines, kCsv, kXlsx };

// .json or .json.gz (not .jsonl, .ndjson): may hold one JSON array instead of JSON Lines.
bool IsJsonName(const fs::path& path) {
  std::string name = path.filename().string();
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  return EndsWith(name, ".json");
}

absl::StatusOr<Format> FormatOf(const fs::path& path) {
  std::string name = path.filename().string();
  if (EndsWith(name, ".xlsx") || EndsWith(name, ".xls")) return Format::kXlsx;
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson") || EndsWith(name, ".json")) {
    return Format::kJsonLines;
  }
  if (EndsWith(name, ".csv")) return Format::kCsv;
  return absl::InvalidArgumentError(
      Cat(path.string(), ": unknown format (expected .jsonl, .ndjson, .json or .csv, optionally .gz, or .xlsx)"));
}

}  // namespace

namespace {

// The converter for a file of `source` in `encoding`: as asked, else the source's in the
// catalog, else none (UTF-8).
absl::StatusOr<std::unique_ptr<Transcoder>> TranscoderFor(const Catalog& catalog, std::string_view source,
                                                          std::string_view encoding, std::string_view name) {
  std::string chosen(encoding);
  if (chosen.empty()) {
    const SourceDef* def = catalog.FindSource(source);
    if (def != nullptr && def->mapping) chosen = def->mapping->encoding;
  }
  if (Transcoder::IsUtf8(chosen)) return std::unique_ptr<Transcoder>();
  absl::StatusOr<std::unique_ptr<Transcoder>> opened = Transcoder::Open(chosen);
  if (!opened.ok()) return absl::InvalidArgumentError(Cat(name, ": ", opened.status().message()));
  return opened;
}

}  // namespace

absl::Status Ingester::IngestFile(const fs::path& path, IngestSummary* summary, std::string_view source,
                                  std::string_view encoding) {
  PA_ASSIGN_OR_RETURN(Format format, FormatOf(path));
  std::string file_source(source);
  if (file_source.empty()) file_source = impl_->converter.SourceFromFileName(path.filename().string());
  // A workbook's text is Unicode whatever the source's encoding; it is a zip, read whole.
  if (format == Format::kXlsx) {
    return impl_->RunXlsx([&](const auto& on_row) { return ReadXlsx(path, kXlsxLimits, on_row); }, file_source,
                          path.string(), summary);
  }
  PA_ASSIGN_OR_RETURN(std::unique_ptr<Transcoder> transcoder,
                      TranscoderFor(*impl_->env.catalog, file_source, encoding, path.string()));
  PA_ASSIGN_OR_RETURN(std::unique_ptr<GzFile> file, GzFile::Open(path));
  const std::string name = path.string();
  Transcoder::Read read = [&](char* buffer, size_t size) { return file->Read(buffer, size); };
  // Read in its encoding, the file replaces the entries an earlier reading as UTF-8 left: they
  // hold no key (nothing could be read), so no record of this reading would clear them. They go
  // once the whole file is read; its lines still bad are quarantined anew.
  std::vector<int64_t> unreadable;
  if (transcoder != nullptr) {
    read = transcoder->Wrap(std::move(read));
    PA_ASSIGN_OR_RETURN(unreadable, impl_->env.store->KeylessQuarantineIds(name, "bad_utf8"));
  }
  if (format == Format::kJsonLines && IsJsonName(path)) {
    // A .json file may hold one array of records ([{...},{...}]) rather than JSON Lines: its
    // first character other than white space says. The bytes looked at are read again.
    std::string head;
    char first = 0;
    while (first == 0) {
      const size_t had = head.size();
      head.resize(had + (64 << 10));
      PA_ASSIGN_OR_RETURN(size_t got, read(head.data() + had, head.size() - had));
      head.resize(had + got);
      if (got == 0) break;
      const size_t at = head.find_first_not_of(" \t\r\n", had);
      if (at != std::string::npos) first = head[at];
      if (head.size() > kMaxLineBytes) break;
    }
    if (first == '[') {
      std::string whole = std::move(head);
      std::vector<char> buffer(1 << 20);
      while (true) {
        PA_ASSIGN_OR_RETURN(size_t got, read(buffer.data(), buffer.size()));
        if (got == 0) break;
        if (whole.size() + got > kMaxJsonArrayBytes) {
          return absl::InvalidArgumentError(Cat(name, ": a JSON array over ", kMaxJsonArrayBytes >> 20,
                                                " MiB is not read whole: write it as JSON Lines (.jsonl), one record a line"));
        }
        whole.append(buffer.data(), got);
      }
      PA_RETURN_IF_ERROR(impl_->RunJsonArray(whole, file_source, name, summary));
      return unreadable.empty() ? absl::OkStatus() : impl_->env.store->DeleteQuarantine(unreadable);
    }
    size_t replayed = 0;
    read = [head = std::move(head), replayed, rest = std::move(read)](char* buffer, size_t size) mutable
        -> absl::StatusOr<size_t> {
      if (replayed < head.size()) {
        const size_t take = std::min(size, head.size() - replayed);
        std::memcpy(buffer, head.data() + replayed, take);
        replayed += take;
        return take;
      }
      return rest(buffer, size);
    };
  }
  PA_RETURN_IF_ERROR(format == Format::kJsonLines ? impl_->RunJsonLines(read, file_source, name, summary)
                                                : impl_->RunCsv(read, file_source, name, summary));
  return unreadable.empty() ? absl::OkStatus() : impl_->env.store->DeleteQuarantine(unreadable);
}

absl::Status Ingester::IngestJsonLines(std::string_view body, std::string_view name, IngestSummary* summary,
                                       std::string_view source, std::string_view encoding) {
  return IngestBody(body, BodyFormat::kJsonLines, name, summary, source, encoding);
}

absl::Status Ingester::IngestBody(std::string_view body, BodyFormat format, std::string_view name,
                                  IngestSummary* summary, std::string_view source, std::string_view encoding) {
  const std::string file_source(source);
  const std::string shown(name);
  if (format == BodyFormat::kXlsx) {  // Unicode whatever the charset or the source's encoding
    // From the network: its parts may inflate to at most ten times the body, as a gzip body may.
    XlsxLimits limits = kXlsxLimits;
    limits.max_part_bytes = std::max<size_t>(body.size(), 1 << 20) * 10;
    return impl_->RunXlsx([&](const auto& on_row) { return ReadXlsxBytes(body, shown, limits, on_row); }, file_source,
                          shown, summary);
  }
  PA_ASSIGN_OR_RETURN(std::unique_ptr<Transcoder> transcoder,
                      TranscoderFor(*impl_->env.catalog, file_source, encoding, shown));
  if (format == BodyFormat::kJsonArray) {  // whole: converted first when not UTF-8
    if (transcoder == nullptr) return impl_->RunJsonArray(body, file_source, shown, summary);
    std::string converted;
    transcoder->ConvertAll(body, converted);
    return impl_->RunJsonArray(converted, file_source, shown, summary);
  }
  size_t offset = 0;
  Transcoder::Read read = [&](char* buffer, size_t size) -> absl::StatusOr<size_t> {
    size_t take = std::min(size, body.size() - offset);
    std::memcpy(buffer, body.data() + offset, take);
    offset += take;
    return take;
  };
  if (transcoder != nullptr) read = transcoder->Wrap(std::move(read));
  return format == BodyFormat::kCsv ? impl_->RunCsv(read, file_source, shown, summary)
                                    : impl_->RunJsonLines(read, file_source, shown, summary);
}

absl::Status Ingester::RetryQuarantine(IngestSummary* summary) {
  PA_ASSIGN_OR_RETURN(std::vector<QuarantineEntry> entries, impl_->env.store->ListQuarantine());
  std::vector<int64_t> retried;
  absl::Status status = impl_->Run(
      [&](auto emit) -> absl::Status {
        for (const QuarantineEntry& entry : entries) {
          if (!RecordConverter::Retriable(entry.reason)) continue;
          retried.push_back(entry.id);
          PA_RETURN_IF_ERROR(emit([&](RawRecord& record) {
            record.SetJsonLine(entry.raw, false, entry.source, entry.file, entry.line);
          }));
        }
        return absl::OkStatus();
      },
      summary);
  PA_RETURN_IF_ERROR(status);
  // The retried records are written (or quarantined anew) above; their old entries go now. A
  // crash between the two leaves an entry twice, never none.
  return impl_->env.store->DeleteQuarantine(retried);
}

}  // namespace pingan
