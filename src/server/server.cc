#include "server/server.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <map>
#include <set>
#include <numeric>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <httplib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "address/names.h"
#include "auth/auth.h"
#include "catalog/catalog.h"
#include "catalog/config.h"
#include "catalog/masking.h"
#include "core/civil_time.h"
#include "core/datum.h"
#include "core/period.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "cube/live_cube.h"
#include "geocode/answer.h"
#include "geocode/matcher.h"
#include "geocode/point_answer.h"
#include "geocode/point_index.h"
#include "ingest/ingest.h"
#include "ingest/event_selection.h"
#include "ingest/listing_json.h"
#include "assess/risk.h"
#include "assess/risk_json.h"
#include "assess/warnings.h"
#include "report/export.h"
#include "report/report.h"
#include "report/report_env.h"
#include "report/report_json.h"
#include "loop/task_store.h"
#include "server/api_util.h"
#include "server/http_front.h"
#include "server/loop_api.h"
#include "server/openapi.h"
#include "store/event_store.h"

namespace pingan {
namespace {

using Json = nlohmann::ordered_json;
using server_internal::Bounded;
using server_internal::BoundedInt;

constexpr uint32_t Bit(Role role) { return 1u << static_cast<uint32_t>(role); }
constexpr uint32_t kAnyRole = 0xff;
constexpr uint32_t kReaders = Bit(Role::kAdmin) | Bit(Role::kCityAnalyst) | Bit(Role::kDistrictAnalyst) |
                              Bit(Role::kTownOfficial) | Bit(Role::kGridWorker);
constexpr uint32_t kLeagueReaders = kReaders & ~Bit(Role::kGridWorker);
constexpr uint32_t kAuditReaders = Bit(Role::kAdmin) | Bit(Role::kAuditor);
constexpr uint32_t kAdmins = Bit(Role::kAdmin);
constexpr uint32_t kOfficials = Bit(Role::kTownOfficial);
constexpr uint32_t kTaskActors = Bit(Role::kGridWorker) | Bit(Role::kTownOfficial);
// A gzip ingest body may inflate to this many times ServerOptions::max_ingest_bytes (records of
// JSON Lines or CSV compress 5-10 times: bench/ingest.sh's text.jsonl 8.6 times).
constexpr size_t kIngestInflation = 10;
// A point's "lon,lat" text: 17 significant digits each with sign and exponent fit in far less.
constexpr size_t kMaxPointBytes = 128;

enum class Access { kPublic, kUser, kSource };

// What a handler sees: the request, the response, and who asks.
struct Call {
  const httplib::Request& request;
  httplib::Response& response;
  std::optional<Principal> who;
  std::string source;  // POST /api/ingest: the key's source
};

using Handler = std::function<absl::Status(Call&)>;

struct Route {
  const char* method;
  const char* path;   // OpenAPI form
  const char* regex;  // the path as a pattern (routes with parameters)
  Access access;
  uint32_t roles;
};

// The route table: one place for the dispatcher and the OpenAPI check. A path without
// parameters is found in one lookup; the patterns are tried in order.
constexpr Route kRoutes[] = {
    {"GET", "/api/report", "/api/report", Access::kUser, kReaders},
    {"GET", "/api/series", "/api/series", Access::kUser, kReaders},
    {"GET", "/api/trends", "/api/trends", Access::kUser, kReaders},
    {"GET", "/api/openapi.json", "/api/openapi\\.json", Access::kPublic, 0},
    {"GET", "/api/health", "/api/health", Access::kPublic, 0},
    {"POST", "/api/login", "/api/login", Access::kPublic, 0},
    {"POST", "/api/logout", "/api/logout", Access::kUser, kAnyRole},
    {"GET", "/api/me", "/api/me", Access::kUser, kAnyRole},
    {"GET", "/api/catalog", "/api/catalog", Access::kUser, kAnyRole},
    {"GET", "/api/freshness", "/api/freshness", Access::kUser, kReaders},
    {"GET", "/api/breakdown", "/api/breakdown", Access::kUser, kReaders},
    {"GET", "/api/league", "/api/league", Access::kUser, kLeagueReaders},
    {"GET", "/api/bulletin", "/api/bulletin", Access::kUser, kReaders},
    {"GET", "/api/clusters", "/api/clusters", Access::kUser, kReaders},
    {"GET", "/api/major", "/api/major", Access::kUser, kReaders},
    {"GET", "/api/major/stream", "/api/major/stream", Access::kUser, kReaders},
    {"GET", "/api/export/{table}", "/api/export/([a-z]+)", Access::kUser, kReaders},
    {"GET", "/api/units", "/api/units", Access::kUser, kAnyRole},
    {"GET", "/api/units/{code}", "/api/units/([0-9]+)", Access::kUser, kAnyRole},
    {"GET", "/api/geocode", "/api/geocode", Access::kUser, kReaders},
    {"POST", "/api/geocode", "/api/geocode", Access::kUser, kReaders},
    {"POST", "/api/geocode/points", "/api/geocode/points", Access::kUser, kReaders},
    {"GET", "/api/events", "/api/events", Access::kUser, kReaders},
    {"GET", "/api/quarantine", "/api/quarantine", Access::kUser, kAdmins},
    {"GET", "/api/audit", "/api/audit", Access::kUser, kAuditReaders},
    {"POST", "/api/ingest", "/api/ingest", Access::kSource, 0},
    {"GET", "/api/risk", "/api/risk", Access::kUser, kReaders},
    {"GET", "/api/risk/unit", "/api/risk/unit", Access::kUser, kReaders},
    {"GET", "/api/geojson", "/api/geojson", Access::kUser, kReaders},
    {"GET", "/api/warnings", "/api/warnings", Access::kUser, kReaders},
    {"POST", "/api/warnings/{id}/dispatch", "/api/warnings/([0-9]+)/dispatch", Access::kUser, kOfficials},
    {"GET", "/api/tasks", "/api/tasks", Access::kUser, kReaders},
    {"GET", "/api/tasks/stream", "/api/tasks/stream", Access::kUser, kReaders},
    {"GET", "/api/tasks/assignees", "/api/tasks/assignees", Access::kUser, kOfficials},
    {"GET", "/api/tasks/{id}", "/api/tasks/([0-9]+)", Access::kUser, kReaders},
    {"POST", "/api/tasks/{id}/photos", "/api/tasks/([0-9]+)/photos", Access::kUser, kTaskActors},
    {"GET", "/api/tasks/{id}/photos/{n}", "/api/tasks/([0-9]+)/photos/([0-9]+)", Access::kUser, kReaders},
    {"POST", "/api/tasks/{id}/{action}", "/api/tasks/([0-9]+)/([a-z_]+)", Access::kUser, kTaskActors},
    {"GET", "/api/loop/metrics", "/api/loop/metrics", Access::kUser, kLeagueReaders},
};

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string ErrorCode(int http_status) {
  switch (http_status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 411: return "length_required";
    case 412: return "precondition_failed";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return "internal";
  }
}

void SetError(httplib::Response& response, int http_status, std::string_view message) {
  response.status = http_status;
  Json body{{"error", {{"code", ErrorCode(http_status)}, {"message", std::string(message)}}}};
  response.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void SetJson(httplib::Response& response, const Json& body) {
  response.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

// The bearer token of a request ("" when none).
std::string_view BearerToken(const httplib::Request& request) {
  const auto it = request.headers.find("Authorization");
  if (it == request.headers.end()) return {};
  std::string_view value = it->second;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) return {};
  return value.substr(kBearer.size());
}

// A response cache for the report endpoints: answers keyed by the canonical query, valid while
// the cube's change sequence is the one they were computed at.
class ResponseCache {
 public:
  std::shared_ptr<const std::string> Get(const std::string& key, int64_t seq) {
    Shard& shard = ShardOf(key);
    std::shared_lock lock(shard.mutex);
    const auto it = shard.entries.find(key);
    if (it == shard.entries.end() || it->second.seq != seq) return nullptr;
    return it->second.body;
  }
  void Put(const std::string& key, int64_t seq, std::shared_ptr<const std::string> body) {
    Shard& shard = ShardOf(key);
    std::unique_lock lock(shard.mutex);
    if (shard.entries.size() >= kShardEntries) shard.entries.clear();
    shard.entries[key] = Entry{seq, std::move(body)};
  }

 private:
  static constexpr size_t kShards = 16, kShardEntries = 1024;
  struct Entry {
    int64_t seq = 0;
    std::shared_ptr<const std::string> body;
  };
  struct Shard {
    std::shared_mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& ShardOf(const std::string& key) { return shards_[std::hash<std::string>{}(key) % kShards]; }
  Shard shards_[kShards];
};

// Read-only connections to the store for listings, one per concurrent request.
class ReaderPool {
 public:
  struct Reader {
    sqlite3* db = nullptr;
    std::unique_ptr<EventStore> events;
  };
  explicit ReaderPool(std::filesystem::path path) : path_(std::move(path)) {}
  ~ReaderPool() {
    for (auto& reader : free_) {
      reader->events.reset();
      sqlite3_close(reader->db);
    }
  }
  absl::StatusOr<std::unique_ptr<Reader>> Take() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        auto reader = std::move(free_.back());
        free_.pop_back();
        return reader;
      }
    }
    auto reader = std::make_unique<Reader>();
    if (sqlite3_open_v2(path_.c_str(), &reader->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      sqlite3_close(reader->db);
      return absl::UnavailableError("cannot open the store for reading");
    }
    sqlite3_busy_timeout(reader->db, 5000);
    auto events = EventStore::Open(reader->db);
    if (!events.ok()) {
      sqlite3_close(reader->db);
      return events.status();
    }
    reader->events = *std::move(events);
    return reader;
  }
  void Give(std::unique_ptr<Reader> reader) {
    std::lock_guard lock(mutex_);
    if (free_.size() < 16) {
      free_.push_back(std::move(reader));
      return;
    }
    reader->events.reset();
    sqlite3_close(reader->db);
  }

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Reader>> free_;
};

// One SSE subscriber's queue of incidents.
struct Subscriber : server_internal::EventQueue {
  Principal who;
  std::string prefix;  // significant digits of the unit subscribed to
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::filesystem::path config_dir, data_dir;
  std::unique_ptr<ReportEnv> env;  // registry, catalog, settings (its cube moved into `live`)
  std::unique_ptr<LiveCube> live;
  std::unique_ptr<AuthStore> auth;
  std::unique_ptr<Matcher> matcher;
  std::unique_ptr<PointIndex> points;
  absl::TimeZone zone;
  std::string time_zone;
  std::vector<std::string> unmasked_roles;  // roles the policy lets see personal data

  // The writer: ingest over HTTP (one at a time).
  std::mutex ingest_mutex;
  std::unique_ptr<SqliteStore> writer_store;
  std::unique_ptr<EventStore> writer_events;
  IngestEnv ingest_env;  // what the ingester was made from (it keeps a copy)
  std::unique_ptr<Ingester> ingester;

  ReaderPool readers;
  ResponseCache cache;

  // The risk map: the engine, assessments by period (valid for one cube sequence), warnings.
  std::unique_ptr<RiskEngine> risk;
  std::mutex risk_mutex;
  std::map<std::string, std::pair<int64_t, std::shared_ptr<const std::vector<Assessment>>>> assessments;
  std::unique_ptr<WarningStore> warnings;
  std::mutex warnings_mutex;
  int64_t warned_seq = -1;

  // The closed loop: patrol tasks (declared before `loop`, which listens to it).
  std::unique_ptr<TaskStore> tasks;
  std::unique_ptr<LoopApi> loop;

  // SSE.
  std::mutex subscribers_mutex;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  std::atomic<int> streams{0};
  std::thread watcher;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;

  // HTTP: the front, and the routes it dispatches to.
  using Serve = std::function<void(const httplib::Request&, httplib::Response&)>;
  struct PatternRoute {
    const Route* route;
    std::regex regex;
    Serve serve;
  };
  std::unique_ptr<server_internal::HttpFront> front;
  std::optional<server_internal::StaticFiles> web;
  std::unordered_map<std::string, Serve> get_routes;   // by path: the routes without parameters
  std::unordered_map<std::string, Serve> post_routes;
  std::vector<PatternRoute> pattern_routes;           // the routes with parameters, in table order
  std::regex photos_path{"/api/tasks/[0-9]+/photos"};

  explicit Impl(std::filesystem::path db_path) : readers(std::move(db_path)) {}

  const Registry& registry() const { return *env->registry; }
  const Catalog& catalog() const { return env->catalog; }

  // --- parameters, scope ---------------------------------------------------------------------

  // The unit a query names, resolved against the cube and checked against the caller's scope;
  // without one, the home city (a scoped caller: their first scope).
  absl::StatusOr<UnitId> ScopedUnit(const Cube& cube, const Call& call) {
    PA_ASSIGN_OR_RETURN(std::string text, Bounded(call.request, "unit", 27));
    const Principal& who = *call.who;
    if (text.empty() && !InScope(who, registry().code(cube.home_city()).ToString()) && !who.scopes.empty()) {
      text = who.scopes.front();
    }
    PA_ASSIGN_OR_RETURN(UnitId unit, ResolveUnit(registry(), cube, text, "unit"));
    if (!InScope(who, registry().code(unit).ToString())) {
      return absl::PermissionDeniedError(Cat("unit ", registry().code(unit).ToString(), " (", registry().name(unit),
                                             ") is outside your area"));
    }
    return unit;
  }

  absl::StatusOr<Period> QueryPeriod(const Cube& cube, const Call& call) {
    PA_ASSIGN_OR_RETURN(std::string text, Bounded(call.request, "period", 64));
    PA_ASSIGN_OR_RETURN(Period period, ResolvePeriod(cube, text, "period"));
    // Ranges are bounded: a report over more than 20 years is not a report.
    if (period.last - period.first > 366 * 20) return absl::InvalidArgumentError("period: longer than 20 years");
    return period;
  }

  bool Chinese(const Call& call) { return call.request.get_param_value("lang") != "en"; }

  // Serves `compute()`'s JSON from the cache when the cube has not changed since.
  absl::Status Cached(Call& call, const std::string& key, const std::function<std::string(const Cube&)>& compute) {
    const int64_t seq = live->Sequence();
    std::shared_ptr<const std::string> body = cache.Get(key, seq);
    if (body == nullptr) {
      body = std::make_shared<const std::string>(live->Read(compute));
      cache.Put(key, seq, body);
    }
    call.response.set_content(*body, "application/json");
    return absl::OkStatus();
  }

  // --- handlers ------------------------------------------------------------------------------

  absl::Status Login(Call& call) {
    const Json body = Json::parse(call.request.body, nullptr, false);
    if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
        !body.contains("password") || !body["password"].is_string()) {
      return absl::InvalidArgumentError(R"(body: expected {"username": "...", "password": "..."})");
    }
    const std::string client = call.request.remote_addr;
    PA_ASSIGN_OR_RETURN(Session session, auth->Login(body["username"].get<std::string>(),
                                                     body["password"].get<std::string>(), client));
    PA_ASSIGN_OR_RETURN(Principal who, auth->Authenticate(session.token));
    SetJson(call.response, Json{{"token", session.token},
                                {"expires_at", FormatTime(session.expires_at, zone)},
                                {"user", UserJson(who)}});
    return absl::OkStatus();
  }

  Json UserJson(const Principal& who) {
    Json scopes = Json::array();
    for (const std::string& scope : who.scopes) {
      Json entry{{"code", scope}};
      if (auto code = AddressCode::ParsePrefix(scope); code.ok()) {
        if (auto unit = registry().Find(*code)) {
          entry["code"] = registry().code(*unit).ToString();
          entry["name"] = registry().name(*unit);
          entry["level"] = LevelName(registry().level(*unit));
        }
      }
      scopes.push_back(std::move(entry));
    }
    return Json{{"name", who.name}, {"role", std::string(RoleName(who.role))}, {"scopes", std::move(scopes)}};
  }

  absl::Status Me(Call& call) {
    Json body = UserJson(*call.who);
    live->Read([&](const Cube& cube) {
      const UnitId city = cube.home_city();
      body["home"] = {{"code", registry().code(city).ToString()}, {"name", registry().name(city)}};
      const std::optional<Day> now = DataNow(cube);
      body["latest_day"] = now ? Json(DayText(*now)) : Json(nullptr);
      const CubeDay first = cube.DayRange().first;
      body["first_day"] = first == CubeEvent::kAbsent ? Json(nullptr) : Json(DayText(first));
      if (now) {
        // The latest full month: the month of the latest record when it ends that day.
        Period month = PeriodContaining(PeriodKind::kMonth, *now);
        if (month.last != *now) month = PreviousPeriod(month).value_or(month);
        body["default_period"] = FormatPeriod(month);
      } else {
        body["default_period"] = nullptr;
      }
      return 0;
    });
    SetJson(call.response, body);
    return absl::OkStatus();
  }

  absl::Status ReportRoute(Call& call) {
    return WithUnitPeriod(call, [&](const Cube&, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      return Cat("report|", unit.value, "|", FormatPeriod(period));
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      return ReportJson(cube, BuildReport(cube, env->settings, unit, period)).dump(-1, ' ', false, Json::error_handler_t::replace);
    });
  }

  // The query's unit (in the caller's scope) and period, under the cube's lock.
  absl::StatusOr<std::pair<UnitId, Period>> ScopedUnitPeriod(const Call& call) {
    return live->Read([&](const Cube& cube) -> absl::StatusOr<std::pair<UnitId, Period>> {
      PA_ASSIGN_OR_RETURN(UnitId unit, ScopedUnit(cube, call));
      PA_ASSIGN_OR_RETURN(Period period, QueryPeriod(cube, call));
      return std::pair{unit, period};
    });
  }

  // Resolves unit and period under the cube's lock, then serves the cached answer for `key`.
  absl::Status WithUnitPeriod(
      Call& call,
      const std::function<absl::StatusOr<std::string>(const Cube&, UnitId, const Period&)>& key_of,
      const std::function<std::string(const Cube&, UnitId, const Period&)>& compute) {
    absl::StatusOr<std::pair<UnitId, Period>> resolved = ScopedUnitPeriod(call);
    if (!resolved.ok()) return resolved.status();
    const auto [unit, period] = *resolved;
    absl::StatusOr<std::string> key = live->Read([&](const Cube& cube) { return key_of(cube, unit, period); });
    if (!key.ok()) return key.status();
    return Cached(call, *key, [&](const Cube& cube) { return compute(cube, unit, period); });
  }

  absl::StatusOr<size_t> Column(const Cube& cube, const Call& call) {
    PA_ASSIGN_OR_RETURN(std::string id, Bounded(call.request, "indicator", 64));
    return ResolveColumn(cube, id, "indicator");
  }

  absl::Status SeriesRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t count, BoundedInt(call.request, "count", 13, 1, 120));
    size_t column = 0;
    return WithUnitPeriod(call, [&](const Cube& cube, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      PA_ASSIGN_OR_RETURN(column, Column(cube, call));
      return Cat("series|", unit.value, "|", FormatPeriod(period), "|", column, "|", count);
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      return SeriesJson(cube, unit, column, Series(cube, unit, column, period, static_cast<int>(count))).dump();
    });
  }

  // Every indicator and key type over the last `count` periods: the Overview's sparklines in one
  // request (and one cube sum per period) instead of one per card.
  absl::Status TrendsRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t count, BoundedInt(call.request, "count", 13, 1, 120));
    return WithUnitPeriod(call, [&](const Cube&, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      return Cat("trends|", unit.value, "|", FormatPeriod(period), "|", count);
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      std::vector<size_t> columns(cube.measures());
      std::iota(columns.begin(), columns.end(), size_t{0});
      const std::vector<std::vector<SeriesPoint>> series = SeriesOf(cube, unit, columns, period, static_cast<int>(count));
      Json list = Json::array();
      for (size_t at = 0; at < columns.size(); ++at) list.push_back(SeriesJson(cube, unit, columns[at], series[at]));
      return Json{{"unit", registry().code(unit).ToString()},
                  {"unit_name", registry().name(unit)},
                  {"period", FormatPeriod(period)},
                  {"series", std::move(list)}}
          .dump();
    });
  }

  absl::Status BreakdownRoute(Call& call) {
    size_t column = 0;
    return WithUnitPeriod(call, [&](const Cube& cube, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      PA_ASSIGN_OR_RETURN(column, Column(cube, call));
      return Cat("breakdown|", unit.value, "|", FormatPeriod(period), "|", column);
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      return BreakdownJson(cube, unit, column, period, Breakdown(cube, unit, column, period)).dump();
    });
  }

  absl::Status LeagueRoute(Call& call) {
    absl::StatusOr<Period> period = live->Read([&](const Cube& cube) { return QueryPeriod(cube, call); });
    if (!period.ok()) return period.status();
    return Cached(call, Cat("league|", FormatPeriod(*period)), [&](const Cube& cube) {
      return LeagueJson(cube, env->settings, BuildLeague(cube, env->settings, *period)).dump();
    });
  }

  absl::Status BulletinRoute(Call& call) {
    return WithUnitPeriod(call, [&](const Cube&, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      return Cat("bulletin|", unit.value, "|", FormatPeriod(period));
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      const pingan::Report report = BuildReport(cube, env->settings, unit, period);
      return Json{{"unit", registry().code(unit).ToString()},
                  {"unit_name", registry().name(unit)},
                  {"period", FormatPeriod(period)},
                  {"zh", Bulletin(cube, env->settings, report, true)},
                  {"en", Bulletin(cube, env->settings, report, false)}}
          .dump();
    });
  }

  absl::Status ClustersRoute(Call& call) {
    return WithUnitPeriod(call, [&](const Cube&, UnitId unit, const Period& period) -> absl::StatusOr<std::string> {
      return Cat("clusters|", unit.value, "|", FormatPeriod(period));
    }, [&](const Cube& cube, UnitId unit, const Period& period) {
      return ClustersJson(cube, unit, period, Clusters(cube, env->settings, unit, period)).dump();
    });
  }

  absl::Status FreshnessRoute(Call& call) {
    return Cached(call, "freshness", [&](const Cube& cube) {
      return FreshnessJson(cube, Freshness(cube, env->settings)).dump();
    });
  }

  absl::Status MajorRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 50, 1, 1000));
    PA_ASSIGN_OR_RETURN(auto reader, readers.Take());
    absl::StatusOr<std::vector<Json>> incidents = live->Read([&](const Cube& cube) -> absl::StatusOr<std::vector<Json>> {
      PA_ASSIGN_OR_RETURN(UnitId unit, ScopedUnit(cube, call));
      PA_ASSIGN_OR_RETURN(Period period, QueryPeriod(cube, call));
      return MajorIncidents(cube, reader->db, unit, period, static_cast<size_t>(limit), time_zone);
    });
    readers.Give(std::move(reader));
    if (!incidents.ok()) return incidents.status();
    SetJson(call.response, Json{{"items", *std::move(incidents)}});
    return absl::OkStatus();
  }

  absl::Status MajorStream(Call& call) {
    PA_ASSIGN_OR_RETURN(UnitId unit, live->Read([&](const Cube& cube) { return ScopedUnit(cube, call); }));
    if (streams.fetch_add(1) >= options.max_streams) {
      streams.fetch_sub(1);
      return absl::UnavailableError("too many live streams open; try again later");
    }
    auto subscriber = std::make_shared<Subscriber>();
    subscriber->who = *call.who;
    const std::string code = registry().code(unit).ToString();
    subscriber->prefix = code.substr(0, static_cast<size_t>(std::max(2, LevelDigits(registry().level(unit)))));
    {
      std::lock_guard lock(subscribers_mutex);
      subscribers.push_back(subscriber);
    }
    server_internal::ServeEvents(call.response, subscriber, "major", [this, subscriber] {
      {
        std::lock_guard lock(subscribers_mutex);
        subscribers.erase(std::remove(subscribers.begin(), subscribers.end(), subscriber), subscribers.end());
      }
      streams.fetch_sub(1);
    });
    return absl::OkStatus();
  }

  // Follows the cube's change sequence and pushes new major incidents to the subscribers whose
  // unit (and scope) holds them.
  void Watch() {
    int64_t seen = live->Sequence();
    auto reader = readers.Take();
    auto last_warned = std::chrono::steady_clock::now() - std::chrono::hours(1);
    while (true) {
      {
        std::unique_lock lock(stop_mutex);
        if (stop_cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping; })) break;
      }
      // Warnings: the current month's assessment after the cube moved, at most every 5 s.
      if (std::chrono::steady_clock::now() - last_warned > std::chrono::seconds(5)) {
        last_warned = std::chrono::steady_clock::now();
        RaiseWarnings();
        loop->Escalate();
      }
      const int64_t now = live->Sequence();
      if (now == seen || !reader.ok()) continue;
      {
        std::lock_guard lock(subscribers_mutex);
        if (subscribers.empty()) {
          seen = now;
          continue;
        }
      }
      auto changes = (*reader)->events->ChangesSince(seen, 10000);
      if (!changes.ok()) continue;
      for (const EventChange& change : *changes) {
        seen = std::max(seen, change.seq);
        if (change.before.has_value()) continue;  // only new records are news
        auto incident = live->Read([&](const Cube& cube) -> absl::StatusOr<std::optional<Json>> {
          const CubeEvent* state = cube.Find(change.after.id);
          if (state == nullptr || (state->flags & CubeEvent::kMajor) == 0 || !state->counted()) return std::nullopt;
          return MajorIncident(cube, (*reader)->db, change.after.id, time_zone);
        });
        if (!incident.ok() || !incident->has_value()) continue;
        const std::string unit = (**incident)["unit"].get<std::string>();
        const std::string text = (**incident).dump(-1, ' ', false, Json::error_handler_t::replace);
        std::lock_guard lock(subscribers_mutex);
        for (const auto& subscriber : subscribers) {
          if (unit.compare(0, subscriber->prefix.size(), subscriber->prefix) != 0 || !InScope(subscriber->who, unit)) continue;
          std::lock_guard queue_lock(subscriber->mutex);
          if (subscriber->queue.size() < 1000) subscriber->queue.push_back(text);
          subscriber->ready.notify_one();
        }
      }
      if (changes->size() < 10000) seen = std::max(seen, now);
    }
    if (reader.ok()) readers.Give(*std::move(reader));
  }

  absl::Status Export(Call& call) {
    const std::string table = call.request.matches[1];
    const std::string format = call.request.get_param_value("format");
    if (format != "csv" && format != "xlsx") return absl::InvalidArgumentError("format: csv or xlsx");
    const bool chinese = Chinese(call);
    if (table == "events") return ExportEvents(call, format, chinese);
    absl::StatusOr<Table> built = live->Read([&](const Cube& cube) -> absl::StatusOr<Table> {
      PA_ASSIGN_OR_RETURN(Period period, QueryPeriod(cube, call));
      if (table == "league") {
        if ((kLeagueReaders & Bit(call.who->role)) == 0) return absl::PermissionDeniedError("the league table is not for your role");
        return LeagueTable(cube, env->settings, BuildLeague(cube, env->settings, period), chinese);
      }
      PA_ASSIGN_OR_RETURN(UnitId unit, ScopedUnit(cube, call));
      if (table == "report") return ReportTable(cube, BuildReport(cube, env->settings, unit, period), chinese);
      if (table == "series") {
        PA_ASSIGN_OR_RETURN(size_t column, Column(cube, call));
        PA_ASSIGN_OR_RETURN(int64_t count, BoundedInt(call.request, "count", 13, 1, 120));
        return SeriesTable(cube, unit, column, Series(cube, unit, column, period, static_cast<int>(count)), chinese);
      }
      return absl::NotFoundError(Cat("no export named '", Printable(table, 40), "' (report, series, league, events)"));
    });
    if (!built.ok()) return built.status();
    PA_ASSIGN_OR_RETURN(std::string bytes, format == "xlsx" ? TableToXlsx(*built) : TableToCsv(*built, /*utf8_bom=*/true));
    call.response.set_header("Content-Disposition", Cat("attachment; filename=\"pingan-", table, ".", format, "\""));
    call.response.set_content(std::move(bytes), format == "xlsx"
                                                    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                                    : "text/csv; charset=utf-8");
    return absl::OkStatus();
  }

  // The events behind a figure as a table (事件明细 exported): one row an event, in time order,
  // personal data masked unless the role may see it and asks (audited, as for the listing).
  // At most options.max_export_events rows: more is refused rather than cut short.
  // As the web's events page says it (web/src/i18n.ts, events.placed.*).
  static std::string PlaceMethodLabel(PlaceMethod method, bool chinese) {
    switch (method) {
      case PlaceMethod::kCode: return chinese ? "编码" : "code";
      case PlaceMethod::kPoint: return chinese ? "坐标" : "point";
      case PlaceMethod::kText: return chinese ? "地址解析" : "address text";
      default: return chinese ? "未落地" : "unplaced";
    }
  }
  absl::Status ExportEvents(Call& call, const std::string& format, bool chinese) {
    const bool unmasked = call.request.get_param_value("unmasked") == "1" || call.request.get_param_value("unmasked") == "true";
    if (unmasked && !MayUnmask(call)) return absl::PermissionDeniedError("unmasked: your role may not see personal data");
    PA_ASSIGN_OR_RETURN(EventQuery query, ParseEventQuery(call));
    if (query.measure == nullptr) {
      return absl::InvalidArgumentError("indicator: an export of events is of the events behind a figure (an indicator or key type)");
    }
    std::vector<StoredEvent> rows;
    bool more = false;
    PA_RETURN_IF_ERROR(FigureEvents(query.unit, *query.selection, *query.measure, query.filter, options.max_export_events,
                                    /*cursor=*/false, 0, 0, rows, more));
    if (more) {
      return absl::InvalidArgumentError(
          Cat("more than ", options.max_export_events, " events behind this figure: export a smaller unit or a shorter period"));
    }
    if (unmasked) {
      PA_RETURN_IF_ERROR(auth->Audit(call.who->name, "export_unmasked", query.filter.unit_prefix,
                                     Cat("events indicator=", query.measure->id, " rows=", rows.size())));
    }
    const Catalog& cat = catalog();
    // Each event's attributes (personal ones masked), and a column for every attribute any of
    // them carries: the catalog's in its order, then any others by name.
    std::vector<Json> values;
    values.reserve(rows.size());
    std::set<std::string> present;
    for (const StoredEvent& stored : rows) {
      const std::string& json = stored.event.attributes_json;
      values.push_back(Json::parse(unmasked ? json : MaskAttributesJson(cat, json), nullptr, false));
      if (values.back().is_object()) {
        for (const auto& item : values.back().items()) present.insert(item.key());
      }
    }
    std::vector<std::string> attributes;
    for (const AttributeDef& def : cat.attributes) {
      if (present.erase(def.name) > 0) attributes.push_back(def.name);
    }
    attributes.insert(attributes.end(), present.begin(), present.end());
    auto label = [&](const std::string& zh, const std::string& en) { return chinese ? zh : en; };
    Table out;
    out.title = Cat(label("事件明细", "Events"), " ", registry().name(query.unit), " ",
                    label(query.measure->zh, query.measure->en));
    out.columns = {label("时间", "Time"),          label("事件类型", "Type"),          label("来源系统", "Source"),
                   label("记录号", "Record"),      label("状态", "Status"),            label("地址", "Address"),
                   label("落地单位", "Placed on"), label("单位代码", "Unit code"), label("落地层级", "Level"),
                   label("落地方式", "Placed by")};
    for (const std::string& name : attributes) {
      const AttributeDef* def = cat.FindAttribute(name);
      out.columns.push_back(def == nullptr ? name : label(def->zh, def->en));
    }
    std::map<std::string, std::string> unit_names;
    for (size_t index = 0; index < rows.size(); ++index) {
      const EventRecord& event = rows[index].event;
      const EventTypeDef* type = cat.FindType(event.type);
      const SourceDef* source = cat.FindSource(event.source);
      const Level level = static_cast<Level>(event.placement.level);
      std::string& unit_name = unit_names[event.placement.unit];
      if (unit_name.empty()) {
        // The place's name: a unit's, or an entrance's and a room's with their building's.
        auto code = AddressCode::ParsePrefix(event.placement.unit);
        absl::StatusOr<Place> place = code.ok() ? registry().Resolve(*code) : absl::StatusOr<Place>(code.status());
        if (!place.ok() || !place->unit.valid()) {
          unit_name = event.placement.unit;
        } else {
          unit_name = registry().name(place->unit);
          if (place->level >= Level::kUnit && place->entrance > 0) unit_name += Cat(place->entrance, "单元");
          if (place->level == Level::kRoom) unit_name += Cat(place->room, "室");
        }
      }
      std::vector<Cell> row = {
          Cell::Text(FormatTime(event.occurred_at, zone)),
          Cell::Text(type == nullptr ? event.type : label(type->zh, type->en)),
          Cell::Text(source == nullptr ? event.source : label(source->zh, source->en)),
          Cell::Text(event.source_id),
          Cell::Text(std::string(event.status == EventStatus::kWithdrawn ? label("已撤销", "withdrawn") : label("有效", "active"))),
          Cell::Text(unmasked ? event.address : MaskDigitRuns(event.address)),
          Cell::Text(unit_name),
          Cell::Text(event.placement.unit),
          Cell::Text(std::string(chinese ? LevelNameZh(level) : LevelName(level))),
          Cell::Text(PlaceMethodLabel(event.placement.method, chinese))};
      const Json& own = values[index];
      for (const std::string& name : attributes) {
        if (!own.is_object() || !own.contains(name)) {
          row.push_back(Cell::Null());
        } else if (const Json& value = own[name]; value.is_number_integer()) {
          row.push_back(Cell::Integer(value.get<int64_t>()));
        } else if (value.is_number()) {
          row.push_back(Cell::Real(value.get<double>()));
        } else if (value.is_boolean()) {
          row.push_back(Cell::Text(value.get<bool>() ? label("是", "yes") : label("否", "no")));
        } else if (value.is_string()) {
          row.push_back(Cell::Text(value.get<std::string>()));
        } else {
          row.push_back(Cell::Text(value.dump()));
        }
      }
      out.rows.push_back(std::move(row));
    }
    PA_ASSIGN_OR_RETURN(std::string bytes, format == "xlsx" ? TableToXlsx(out) : TableToCsv(out, /*utf8_bom=*/true));
    call.response.set_header("Content-Disposition", Cat("attachment; filename=\"pingan-events.", format, "\""));
    call.response.set_content(std::move(bytes), format == "xlsx"
                                                    ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                                    : "text/csv; charset=utf-8");
    return absl::OkStatus();
  }

  Json UnitJson(UnitId unit) {
    return Json{{"code", registry().code(unit).ToString()},
                {"name", registry().name(unit)},
                {"level", LevelName(registry().level(unit))}};
  }

  absl::Status UnitRoute(Call& call) {
    const std::string text = call.request.matches[1];
    if (text.size() > 27) return absl::InvalidArgumentError("code: at most 27 digits");
    auto code = AddressCode::ParsePrefix(text);
    if (!code.ok()) return absl::InvalidArgumentError(Cat("code: ", code.status().message()));
    std::optional<UnitId> unit = registry().Find(*code);
    if (!unit) return absl::NotFoundError(Cat("no unit has the code ", code->ToString()));
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 500, 1, 5000));
    Json path = Json::array();
    std::vector<UnitId> chain;
    for (UnitId at = *unit; at.valid() && at != registry().nation(); at = registry().parent(at)) chain.push_back(at);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) path.push_back(UnitJson(*it));
    Json children = Json::array();
    const auto kids = registry().children(*unit);
    for (size_t at = 0; at < kids.size() && at < static_cast<size_t>(limit); ++at) children.push_back(UnitJson(kids[at]));
    Json body = UnitJson(*unit);
    body["path"] = std::move(path);
    body["children"] = std::move(children);
    body["children_total"] = kids.size();
    body["in_scope"] = InScope(*call.who, registry().code(*unit).ToString());
    SetJson(call.response, body);
    return absl::OkStatus();
  }

  absl::Status UnitSearch(Call& call) {
    PA_ASSIGN_OR_RETURN(std::string q, Bounded(call.request, "q", 64));
    if (q.empty()) return absl::InvalidArgumentError("q: a name (or part of one) is required");
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 20, 1, 200));
    const UnitId city = live->Read([](const Cube& cube) { return cube.home_city(); });
    Json items = Json::array();
    // Breadth-first under the home city down to grids: nearer levels first.
    std::vector<UnitId> level{city};
    while (!level.empty() && items.size() < static_cast<size_t>(limit)) {
      std::vector<UnitId> next;
      for (UnitId unit : level) {
        if (registry().name(unit).find(q) != std::string::npos) {
          items.push_back(UnitJson(unit));
          if (items.size() >= static_cast<size_t>(limit)) break;
        }
        if (registry().level(unit) < Level::kGrid) {
          for (UnitId child : registry().children(unit)) next.push_back(child);
        }
      }
      level = std::move(next);
    }
    SetJson(call.response, Json{{"items", std::move(items)}});
    return absl::OkStatus();
  }

  absl::Status GeocodeOne(Call& call) {
    PA_ASSIGN_OR_RETURN(std::string q, Bounded(call.request, "q", 4096));
    PA_ASSIGN_OR_RETURN(std::string point, Bounded(call.request, "point", kMaxPointBytes));
    if (!q.empty() && !point.empty()) return absl::InvalidArgumentError("q, point: give an address or a point, not both");
    if (!point.empty() || call.request.has_param("coordinates")) {
      if (point.empty()) return absl::InvalidArgumentError("point: lon,lat is required with coordinates");
      PA_ASSIGN_OR_RETURN(const Datum datum, DatumParam(call));
      const ParsedPoint parsed = ParsePointLine(point, false);
      if (parsed.problem != nullptr) return absl::InvalidArgumentError(Cat("point: ", parsed.problem));
      std::string out;
      PointAnswerWriter(registry()).Write(point, parsed, LocatePoint(datum, parsed), out);
      call.response.set_content(out, "application/json");
      return absl::OkStatus();
    }
    if (q.empty()) return absl::InvalidArgumentError("q: an address is required (or point: lon,lat)");
    NormalizedAddress scratch;
    GeocodeAnswerWriter writer(registry());
    std::string out;
    writer.Write(q, GeocodeLine(*matcher, q, false, scratch), out);
    call.response.set_content(out, "application/json");
    return absl::OkStatus();
  }

  absl::Status GeocodeBatch(Call& call) {
    const Json body = Json::parse(call.request.body, nullptr, false);
    if (!body.is_array()) return absl::InvalidArgumentError("body: expected a JSON array of address strings");
    if (body.size() > options.max_geocode_batch) {
      return absl::InvalidArgumentError(Cat("body: at most ", options.max_geocode_batch, " addresses per request"));
    }
    NormalizedAddress scratch;
    GeocodeAnswerWriter writer(registry());
    std::string out = "[", one;
    for (size_t at = 0; at < body.size(); ++at) {
      if (!body[at].is_string()) return absl::InvalidArgumentError(Cat("body[", at, "]: not a string"));
      const std::string& line = body[at].get_ref<const std::string&>();
      writer.Write(line, GeocodeLine(*matcher, line, line.size() > 4096, scratch), one);
      if (at > 0) out += ',';
      out += one;
    }
    out += ']';
    call.response.set_content(out, "application/json");
    return absl::OkStatus();
  }

  // Points, as `pingan geocode --points` reads its lines: a JSON array of "lon,lat" strings,
  // answered in order; one that cannot be read is answered `invalid` with its reason.
  absl::Status GeocodePoints(Call& call) {
    PA_ASSIGN_OR_RETURN(const Datum datum, DatumParam(call));
    const Json body = Json::parse(call.request.body, nullptr, false);
    if (!body.is_array()) return absl::InvalidArgumentError("body: expected a JSON array of \"lon,lat\" strings");
    if (body.size() > options.max_geocode_batch) {
      return absl::InvalidArgumentError(Cat("body: at most ", options.max_geocode_batch, " points per request"));
    }
    PointAnswerWriter writer(registry());
    std::string out = "[", one;
    for (size_t at = 0; at < body.size(); ++at) {
      if (!body[at].is_string()) return absl::InvalidArgumentError(Cat("body[", at, "]: not a string"));
      const std::string& line = body[at].get_ref<const std::string&>();
      const ParsedPoint parsed = ParsePointLine(line, line.size() > kMaxPointBytes);
      writer.Write(line, parsed, parsed.problem == nullptr ? LocatePoint(datum, parsed) : PointResult{}, one);
      if (at > 0) out += ',';
      out += one;
    }
    out += ']';
    call.response.set_content(out, "application/json");
    return absl::OkStatus();
  }

  // The coordinate system points are written in (`coordinates`, WGS-84 when absent).
  static absl::StatusOr<Datum> DatumParam(const Call& call) {
    PA_ASSIGN_OR_RETURN(std::string name, Bounded(call.request, "coordinates", 16));
    if (name.empty()) return Datum::kWgs84;
    const std::optional<Datum> datum = ParseDatum(name);
    if (!datum) {
      return absl::InvalidArgumentError(
          Cat("coordinates: WGS-84, GCJ-02, BD-09 or CGCS2000 (got '", Printable(name, 16), "')"));
    }
    return *datum;
  }

  PointResult LocatePoint(Datum datum, const ParsedPoint& parsed) const {
    const LonLat wgs = ToWgs84(datum, LonLat{parsed.lon, parsed.lat});
    return points->Locate(wgs.lon, wgs.lat);
  }

  bool MayUnmask(const Call& call) {
    return std::find(unmasked_roles.begin(), unmasked_roles.end(), RoleName(call.who->role)) != unmasked_roles.end();
  }

  // What a listing of events asks: the unit (its governance subtree), an optional indicator or
  // key type, a type, and a period or from/to; with the selection that finds them.
  struct EventQuery {
    UnitId unit;
    const MeasureDef* measure = nullptr;
    EventFilter filter;
    std::optional<EventSelection> selection;
  };
  absl::StatusOr<EventQuery> ParseEventQuery(Call& call) {
    EventQuery query;
    EventFilter& filter = query.filter;
    PA_ASSIGN_OR_RETURN(query.unit, live->Read([&](const Cube& cube) { return ScopedUnit(cube, call); }));
    PA_ASSIGN_OR_RETURN(filter.type, Bounded(call.request, "type", 64));
    if (!filter.type.empty()) {
      const bool pattern = filter.type.size() > 2 && filter.type.substr(filter.type.size() - 2) == ".*";
      if (!pattern && catalog().FindType(filter.type) == nullptr) {
        return absl::InvalidArgumentError(Cat("type: unknown event type '", Printable(filter.type, 40), "'"));
      }
    }
    for (auto [name, bound] : {std::pair{"from", &filter.from}, std::pair{"to", &filter.to}}) {
      PA_ASSIGN_OR_RETURN(std::string text, Bounded(call.request, name, 40));
      if (text.empty()) continue;
      absl::StatusOr<int64_t> parsed = ParseTimeBound(text, zone);
      if (!parsed.ok()) return absl::InvalidArgumentError(Cat(name, ": ", parsed.status().message()));
      *bound = *parsed;
    }
    // An indicator or key type and a period: the events behind the report's figure for the
    // unit (the measure's types and conditions, withdrawn records left out; by the day they
    // happened in the deployment's time zone, as the report counts them).
    PA_ASSIGN_OR_RETURN(std::string measure_id, Bounded(call.request, "indicator", 64));
    if (!measure_id.empty()) {
      query.measure = catalog().FindIndicator(measure_id);
      if (query.measure == nullptr) query.measure = catalog().FindKeyType(measure_id);
      if (query.measure == nullptr) {
        return absl::NotFoundError(Cat("indicator: no indicator or key type '", Printable(measure_id, 40), "'"));
      }
    }
    // The events counted under the unit (its governance subtree), and by the measure if any.
    query.selection.emplace(EventSelection::For(registry(), catalog(), query.unit, query.measure));
    filter.unit_prefix = query.selection->prefix();
    filter.more_unit_prefixes = query.selection->more_prefixes();
    PA_ASSIGN_OR_RETURN(std::string period_text, Bounded(call.request, "period", 64));
    if (!period_text.empty()) {
      if (filter.from || filter.to) return absl::InvalidArgumentError("period: give a period or from and to, not both");
      PA_ASSIGN_OR_RETURN(const Period period, live->Read([&](const Cube& cube) { return QueryPeriod(cube, call); }));
      // The days' bounds by the clock the cube files events by, so the two agree on every edge.
      filter.from = env->clock->StartOfDay(period.first);
      filter.to = env->clock->StartOfDay(period.last + 1);
    }
    return query;
  }

  absl::Status Events(Call& call) {
    const bool unmasked = call.request.get_param_value("unmasked") == "1" || call.request.get_param_value("unmasked") == "true";
    if (unmasked && !MayUnmask(call)) return absl::PermissionDeniedError("unmasked: your role may not see personal data");
    PA_ASSIGN_OR_RETURN(EventQuery query, ParseEventQuery(call));
    EventFilter& filter = query.filter;
    const MeasureDef* measure = query.measure;
    const EventSelection& selection = *query.selection;
    const UnitId unit = query.unit;
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 100, 1, 1000));
    // The cursor: "<occurred_at>.<id>" of the last item of the previous page.
    PA_ASSIGN_OR_RETURN(std::string after, Bounded(call.request, "after", 40));
    int64_t after_time = 0, after_id = 0;
    if (!after.empty()) {
      const size_t dot = after.find('.');
      if (dot == std::string::npos || !absl::SimpleAtoi(after.substr(0, dot), &after_time) ||
          !absl::SimpleAtoi(after.substr(dot + 1), &after_id)) {
        return absl::InvalidArgumentError("after: not a cursor from a previous page");
      }
      filter.from = std::max(filter.from.value_or(after_time), after_time);
    }
    if (unmasked) {
      PA_RETURN_IF_ERROR(auth->Audit(call.who->name, "read_unmasked", filter.unit_prefix,
                                     Cat("events type=", filter.type, " from=", call.request.get_param_value("from"),
                                         " to=", call.request.get_param_value("to"))));
    }
    if (measure != nullptr) {
      return EventsOfFigure(call, unit, selection, *measure, filter, limit, !after.empty(), after_time, after_id, unmasked);
    }
    PA_ASSIGN_OR_RETURN(auto reader, readers.Take());
    nlohmann::json items = nlohmann::json::array();
    std::string next;
    bool more = false;
    int64_t seen = 0;  // rows the store returned, selected or not
    auto list = [&](std::optional<int64_t> rows) {
      items = nlohmann::json::array(), next.clear(), more = false, seen = 0;
      filter.limit = rows;
      return reader->events->ListEvents(filter, [&](const StoredEvent& stored) {
        ++seen;
        if (!after.empty() && stored.event.occurred_at == after_time && stored.id <= after_id) return true;
        if (!selection.Holds(stored.event)) return true;
        if (items.size() == static_cast<size_t>(limit)) {
          more = true;  // a further event: the page is full and there is a next one
          return false;
        }
        items.push_back(StoredEventJson(catalog(), stored, zone, unmasked));
        next = Cat(stored.event.occurred_at, ".", stored.id);
        return true;
      });
    };
    // The store sorts by time and stops at the SQL limit: a page and one more (and, after a
    // cursor, the events of the same second before it). Where the selection passed over some of
    // those rows (a measure's, or a town governed from elsewhere) and the limit was reached
    // without filling the page, the rest is read without one.
    const int64_t rows = limit + 1 + (after.empty() ? 0 : 1000);
    absl::Status listed = list(rows);
    if (listed.ok() && !more && seen == rows) listed = list(std::nullopt);
    readers.Give(std::move(reader));
    PA_RETURN_IF_ERROR(listed);
    call.response.set_content(
        nlohmann::json{{"items", std::move(items)}, {"next", more ? nlohmann::json(next) : nlohmann::json(nullptr)}}
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "application/json");
    return absl::OkStatus();
  }

  // The events behind one of the report's figures (a measure, a unit, a time range), found by
  // the cube rather than by a scan of the store: the cube keeps each event's day, hour, counting
  // unit and the measures it adds to, so the events a figure counts are the very ones it added
  // up. Only those rows are read from the store (by row id), each checked again against the
  // selection and the time range (the store may have moved on since the cube's last change),
  // and a page is ordered by exact time. The cube files events by civil day and hour, in the
  // order of time but for a time-zone transition's repeated hour: a page reads its candidates
  // hour by hour and stops once no hour left can hold an event before the page's last one,
  // allowing kZoneSlack for such transitions.
  absl::Status EventsOfFigure(Call& call, UnitId unit, const EventSelection& selection, const MeasureDef& measure,
                              const EventFilter& filter, int64_t limit, bool cursor, int64_t after_time,
                              int64_t after_id, bool unmasked) {
    std::vector<StoredEvent> rows;
    bool more = false;
    PA_RETURN_IF_ERROR(FigureEvents(unit, selection, measure, filter, static_cast<size_t>(limit), cursor, after_time,
                                    after_id, rows, more));
    nlohmann::json items = nlohmann::json::array();
    for (const StoredEvent& stored : rows) items.push_back(StoredEventJson(catalog(), stored, zone, unmasked));
    const std::string next = rows.empty() ? std::string() : Cat(rows.back().event.occurred_at, ".", rows.back().id);
    call.response.set_content(
        nlohmann::json{{"items", std::move(items)}, {"next", more ? nlohmann::json(next) : nlohmann::json(nullptr)}}
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "application/json");
    return absl::OkStatus();
  }

  // The first `limit` events behind a figure after the cursor, in (occurred_at, id) order, into
  // `rows`; `more` when there is another.
  absl::Status FigureEvents(UnitId unit, const EventSelection& selection, const MeasureDef& measure,
                            const EventFilter& filter, size_t limit, bool cursor, int64_t after_time, int64_t after_id,
                            std::vector<StoredEvent>& rows, bool& more) {
    constexpr int64_t kZoneSlack = 3 * 3600;
    const CivilClock& clock = *env->clock;
    const int64_t from = filter.from.value_or(INT64_MIN), to = filter.to.value_or(INT64_MAX);
    // Candidates (day, hour, id), packed so that their order is (day, hour, id).
    std::vector<uint64_t> candidates;
    PA_RETURN_IF_ERROR(live->Read([&](const Cube& cube) -> absl::Status {
      // The measure's column: an indicator's id first, then a key type's (as the caller found it).
      const Catalog& catalog = cube.catalog();
      size_t column = SIZE_MAX;
      for (size_t index = 0; index < catalog.key_types.size(); ++index) {
        if (catalog.key_types[index].id == measure.id) column = cube.KeyTypeColumn(index);
      }
      for (size_t index = 0; index < catalog.indicators.size(); ++index) {
        if (catalog.indicators[index].id == measure.id) column = cube.IndicatorColumn(index);
      }
      if (column == SIZE_MAX) return absl::InternalError("events: the measure is not the cube's");
      const auto [first_event_day, last_event_day] = cube.DayRange();
      if (first_event_day == CubeEvent::kAbsent) return absl::OkStatus();
      const CubeDay first = filter.from ? std::max<CubeDay>(clock.DayOf(from) - 1, first_event_day) : first_event_day;
      const CubeDay last = filter.to ? std::min<CubeDay>(clock.DayOf(to) + 1, last_event_day) : last_event_day;
      if (first > last) return absl::OkStatus();
      const bool pattern = filter.type.ends_with(".*");
      const std::string_view type_prefix = pattern ? std::string_view(filter.type).substr(0, filter.type.size() - 1)
                                                   : std::string_view(filter.type);
      std::vector<int8_t> type_fits(catalog.types.size(), 1);
      if (!filter.type.empty()) {
        for (size_t index = 0; index < catalog.types.size(); ++index) {
          const std::string& id = catalog.types[index].id;
          type_fits[index] = pattern ? id.starts_with(type_prefix) : id == filter.type;
        }
      }
      const uint64_t bit = uint64_t{1} << column;
      cube.ForEachEvent(unit, first, last, [&](int64_t id, const CubeEvent& event) {
        if (!(event.mask & bit) || event.type >= type_fits.size() || !type_fits[event.type]) return;
        const uint64_t day = static_cast<uint64_t>(event.day - Cube::kFirstDay);
        candidates.push_back(day << 45 | uint64_t{event.hour} << 40 | static_cast<uint64_t>(id));
      });
      return absl::OkStatus();
    }));
    std::sort(candidates.begin(), candidates.end());
    auto bucket_start = [&](uint64_t candidate) {
      const auto day = static_cast<CubeDay>(static_cast<int64_t>(candidate >> 45) + Cube::kFirstDay);
      return clock.StartOfDay(day) + 3600 * static_cast<int64_t>(candidate >> 40 & 0x1F);
    };
    auto before = [](const StoredEvent& a, const StoredEvent& b) {
      return a.event.occurred_at != b.event.occurred_at ? a.event.occurred_at < b.event.occurred_at : a.id < b.id;
    };
    rows.clear();
    std::vector<int64_t> ids;
    PA_ASSIGN_OR_RETURN(auto reader, readers.Take());
    absl::Status read = absl::OkStatus();
    for (size_t at = 0; at < candidates.size() && read.ok();) {
      // One (day, hour): its events lie in [start - slack, start + 1 h + slack).
      const uint64_t bucket = candidates[at] >> 40;
      size_t end = at;
      while (end < candidates.size() && candidates[end] >> 40 == bucket) ++end;
      const int64_t start = bucket_start(candidates[at]);
      if (rows.size() > static_cast<size_t>(limit)) {
        // The page and one more are read: stop where no later hour can come before them.
        std::nth_element(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(limit), rows.end(), before);
        rows.resize(static_cast<size_t>(limit) + 1);
        if (start - kZoneSlack > rows[static_cast<size_t>(limit)].event.occurred_at) break;
      }
      const bool skip = start + 3600 + kZoneSlack <= from || (cursor && start + 3600 + kZoneSlack <= after_time) ||
                        start - kZoneSlack >= to;
      if (!skip) {
        ids.clear();
        for (size_t index = at; index < end; ++index) ids.push_back(static_cast<int64_t>(candidates[index] & ((uint64_t{1} << 40) - 1)));
        read = reader->events->ReadEvents(ids, [&](const StoredEvent& stored) {
          const int64_t when = stored.event.occurred_at;
          if (when < from || when >= to) return true;
          if (cursor && (when < after_time || (when == after_time && stored.id <= after_id))) return true;
          if (selection.Holds(stored.event)) rows.push_back(stored);
          return true;
        });
      }
      at = end;
    }
    readers.Give(std::move(reader));
    PA_RETURN_IF_ERROR(read);
    std::sort(rows.begin(), rows.end(), before);
    more = rows.size() > limit;
    if (more) rows.resize(limit);
    return absl::OkStatus();
  }

  absl::Status Quarantine(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 100, 1, 1000));
    PA_ASSIGN_OR_RETURN(int64_t after, BoundedInt(call.request, "after", 0, 0, INT64_MAX));
    PA_ASSIGN_OR_RETURN(auto reader, readers.Take());
    absl::StatusOr<std::vector<QuarantineEntry>> entries = reader->events->ListQuarantine();
    readers.Give(std::move(reader));
    if (!entries.ok()) return entries.status();
    nlohmann::json items = nlohmann::json::array();
    int64_t last = 0;
    for (const QuarantineEntry& entry : *entries) {
      if (entry.id <= after) continue;
      if (items.size() == static_cast<size_t>(limit)) break;
      items.push_back(QuarantineEntryJson(entry, zone, /*unmasked=*/false));
      last = entry.id;
    }
    const bool more = items.size() == static_cast<size_t>(limit);
    call.response.set_content(nlohmann::json{{"items", std::move(items)},
                                              {"total", entries->size()},
                                              {"next", more ? nlohmann::json(std::to_string(last)) : nlohmann::json(nullptr)}}
                                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                              "application/json");
    return absl::OkStatus();
  }

  absl::Status AuditRoute(Call& call) {
    AuditFilter filter;
    for (auto [name, bound] : {std::pair{"from", &filter.from}, std::pair{"to", &filter.to}}) {
      PA_ASSIGN_OR_RETURN(std::string text, Bounded(call.request, name, 40));
      if (text.empty()) continue;
      absl::StatusOr<int64_t> parsed = ParseTimeBound(text, zone);
      if (!parsed.ok()) return absl::InvalidArgumentError(Cat(name, ": ", parsed.status().message()));
      *bound = *parsed;
    }
    PA_ASSIGN_OR_RETURN(filter.actor, Bounded(call.request, "actor", 80));
    PA_ASSIGN_OR_RETURN(filter.action, Bounded(call.request, "action", 40));
    PA_ASSIGN_OR_RETURN(filter.after_id, BoundedInt(call.request, "after", 0, 0, INT64_MAX));
    PA_ASSIGN_OR_RETURN(filter.limit, BoundedInt(call.request, "limit", 100, 1, 1000));
    PA_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, auth->ListAudit(filter));
    Json items = Json::array();
    for (const AuditEntry& entry : entries) {
      items.push_back(Json{{"id", entry.id},
                           {"at", FormatTime(entry.at, zone)},
                           {"actor", entry.actor},
                           {"action", entry.action},
                           {"target", entry.target},
                           {"detail", entry.detail}});
    }
    const bool more = entries.size() == static_cast<size_t>(filter.limit);
    SetJson(call.response, Json{{"items", std::move(items)},
                                {"next", more ? Json(std::to_string(entries.back().id)) : Json(nullptr)}});
    return absl::OkStatus();
  }

  absl::Status Ingest(Call& call) {
    IngestSummary summary;
    {
      std::lock_guard lock(ingest_mutex);  // one ingest at a time: its inflated body too
      // A gzip body (Content-Encoding: gzip) is inflated first, to at most kIngestInflation
      // times the bound on what is sent; nothing is read from a body that is not whole.
      std::string_view body = call.request.body;
      std::string inflated;
      const std::string coding = server_internal::MediaTypeOf(call.request.get_header_value("Content-Encoding"));
      if (coding == "gzip" || coding == "x-gzip") {
        absl::StatusOr<std::string> out =
            server_internal::Gunzip(body, options.max_ingest_bytes * kIngestInflation);
        if (!out.ok()) {
          const bool too_large = out.status().code() == absl::StatusCode::kResourceExhausted;
          SetError(call.response, too_large ? 413 : 400, std::string(out.status().message()));
          return absl::OkStatus();
        }
        inflated = *std::move(out);
        body = inflated;
      } else if (!coding.empty() && coding != "identity") {
        SetError(call.response, 415, Cat("Content-Encoding '", coding.substr(0, 40), "' is not read: send gzip or none"));
        return absl::OkStatus();
      }
      // The Content-Type picks the format: CSV with a header line (RFC 7111's text/csv), an Excel
      // workbook, one JSON array of records (below), else JSON Lines as before, curl's default
      // form type included. JSON is UTF-8 (RFC 8259), but a source system may send its own
      // charset (GBK) and say so.
      const std::string content_type = call.request.get_header_value("Content-Type");
      const std::string media_type = server_internal::MediaTypeOf(content_type);
      const bool csv = media_type == "text/csv" || media_type == "application/csv" ||
                       media_type == "text/comma-separated-values";
      const bool xlsx = media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
      // application/json holding one array of records ("[{...},{...}]", as many systems send),
      // rather than JSON Lines: its first character other than white space is '['.
      const size_t first = body.find_first_not_of(" \t\r\n");
      const bool array = media_type == "application/json" && first != std::string_view::npos && body[first] == '[';
      const std::string charset = server_internal::CharsetOf(content_type);
      PA_RETURN_IF_ERROR(ingester->IngestBody(body,
                                              xlsx    ? Ingester::BodyFormat::kXlsx
                                              : csv   ? Ingester::BodyFormat::kCsv
                                              : array ? Ingester::BodyFormat::kJsonArray
                                                      : Ingester::BodyFormat::kJsonLines,
                                              Cat("http:", call.source), &summary, call.source, charset));
    }
    PA_RETURN_IF_ERROR(auth->Audit(Cat("source:", call.source), "ingest", call.source,
                                   Cat("read=", summary.read, " inserted=", summary.inserted, " updated=",
                                       summary.updated, " unchanged=", summary.unchanged, " quarantined=",
                                       summary.quarantined_total())));
    call.response.set_content(summary.Json(), "application/json");
    return absl::OkStatus();
  }


  // --- the risk map ----------------------------------------------------------------------------

  // Every level's assessment of `period`, computed once per cube sequence. Call under Read.
  std::shared_ptr<const std::vector<Assessment>> AssessmentsOf(const Cube& cube, const Period& period) {
    const std::string key = FormatPeriod(period);
    const int64_t seq = live->Sequence();
    {
      std::lock_guard lock(risk_mutex);
      const auto it = assessments.find(key);
      if (it != assessments.end() && it->second.first == seq) return it->second.second;
    }
    absl::StatusOr<std::vector<Assessment>> all = risk->AssessAll(cube, period);
    if (!all.ok()) return nullptr;
    auto shared = std::make_shared<const std::vector<Assessment>>(*std::move(all));
    std::lock_guard lock(risk_mutex);
    if (assessments.size() > 64) assessments.clear();
    assessments[key] = {seq, shared};
    return shared;
  }

  absl::StatusOr<Level> QueryLevel(const Call& call) {
    PA_ASSIGN_OR_RETURN(std::string text, Bounded(call.request, "level", 16));
    if (text.empty()) return Level::kTown;
    for (Level level : RiskEngine::kLevels) {
      if (LevelName(level) == text) return level;
    }
    return absl::InvalidArgumentError("level: district, town, community or grid");
  }

  static size_t SlotOf(Level level) {
    size_t slot = 0;
    while (RiskEngine::kLevels[slot] != level) ++slot;
    return slot;
  }

  // Grades of one dimension: the configured bands over the units' index for that key type.
  std::vector<Grade> KeyGrades(const Assessment& assessment, size_t key) {
    std::vector<double> indexes;
    for (const UnitRisk& unit : assessment.units) {
      if (unit.dimensions[key].count > 0) indexes.push_back(unit.dimensions[key].index);
    }
    std::sort(indexes.begin(), indexes.end(), std::greater<>());
    const RiskSettings& settings = risk->settings();
    std::array<double, 4> thresholds = settings.bands;
    if (settings.quantile) {
      for (int band = 0; band < 4; ++band) {
        const size_t take = static_cast<size_t>(std::floor(settings.bands[band] * static_cast<double>(indexes.size())));
        thresholds[band] = take == 0 ? HUGE_VAL : indexes[take - 1];
      }
    }
    std::vector<Grade> grades;
    for (const UnitRisk& unit : assessment.units) {
      Grade grade = Grade::kGreen;
      const Dimension& d = unit.dimensions[key];
      for (int band = 3; band >= 0 && d.count > 0; --band) {
        if (d.index >= thresholds[band] && d.index > 0) grade = static_cast<Grade>(band);
      }
      grades.push_back(grade);
    }
    return grades;
  }

  absl::Status RiskRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(Level level, QueryLevel(call));
    return live->Read([&](const Cube& cube) -> absl::Status {
      PA_ASSIGN_OR_RETURN(UnitId root, ScopedUnit(cube, call));
      PA_ASSIGN_OR_RETURN(Period period, QueryPeriod(cube, call));
      if (registry().level(root) > level) {
        return absl::InvalidArgumentError(Cat("level: ", LevelName(level), " is above the unit ", registry().name(root)));
      }
      const auto all = AssessmentsOf(cube, period);
      if (all == nullptr) return absl::InternalError("the assessment failed");
      const Assessment& assessment = (*all)[SlotOf(level)];
      std::vector<std::vector<Grade>> key_grades;
      for (size_t k = 0; k < catalog().key_types.size(); ++k) key_grades.push_back(KeyGrades(assessment, k));
      Json units = Json::array();
      std::array<int, kGrades> counts{};
      for (size_t at = 0; at < assessment.units.size(); ++at) {
        const UnitRisk& unit = assessment.units[at];
        if (!registry().IsWithin(unit.unit, root)) continue;
        Json row = UnitRiskJson(registry(), catalog(), risk->settings(), unit, false);
        Json grades = Json::array();
        for (const auto& by_key : key_grades) grades.push_back(std::string(GradeName(by_key[at])));
        row["key_grades"] = std::move(grades);
        units.push_back(std::move(row));
        ++counts[static_cast<int>(unit.grade)];
      }
      Json keys = Json::array(), rates = Json::array();
      for (size_t k = 0; k < catalog().key_types.size(); ++k) {
        keys.push_back(Json{{"id", catalog().key_types[k].id}, {"zh", catalog().key_types[k].zh},
                            {"en", catalog().key_types[k].en}});
        rates.push_back(assessment.level_rate[k]);
      }
      Json grade_counts = Json::object();
      for (int g = 0; g < kGrades; ++g) grade_counts[std::string(GradeName(static_cast<Grade>(g)))] = counts[g];
      Json thresholds = Json::array();
      for (double t : assessment.thresholds) thresholds.push_back(std::isfinite(t) ? Json(t) : Json(nullptr));
      SetJson(call.response, Json{{"unit", registry().code(root).ToString()},
                                  {"unit_name", registry().name(root)},
                                  {"level", LevelName(level)},
                                  {"period", FormatPeriod(period)},
                                  {"key_types", std::move(keys)},
                                  {"level_rate", std::move(rates)},
                                  {"thresholds", std::move(thresholds)},
                                  {"counts", std::move(grade_counts)},
                                  {"units", std::move(units)}});
      return absl::OkStatus();
    });
  }

  absl::Status RiskUnitRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t history, BoundedInt(call.request, "history", 12, 0, 36));
    return live->Read([&](const Cube& cube) -> absl::Status {
      PA_ASSIGN_OR_RETURN(UnitId unit, ScopedUnit(cube, call));
      PA_ASSIGN_OR_RETURN(Period period, QueryPeriod(cube, call));
      const int64_t index = risk->IndexOf(unit);
      if (index < 0) {
        return absl::InvalidArgumentError(Cat("unit: ", registry().name(unit), " is not graded (districts, towns, communities, grids)"));
      }
      const size_t slot = SlotOf(registry().level(unit));
      const auto all = AssessmentsOf(cube, period);
      if (all == nullptr) return absl::InternalError("the assessment failed");
      const Assessment& assessment = (*all)[slot];
      Json body = UnitRiskJson(registry(), catalog(), risk->settings(), assessment.units[static_cast<size_t>(index)], true);
      body["level"] = LevelName(registry().level(unit));
      body["period"] = FormatPeriod(period);
      Json level_rate = Json::array();
      for (double rate : assessment.level_rate) level_rate.push_back(rate);
      body["level_rate"] = std::move(level_rate);
      // History: one level per past period; null before the data begins.
      Json past = Json::array();
      const CubeDay first_day = cube.DayRange().first;
      for (int back = static_cast<int>(history); back >= 1; --back) {
        const Period then = PeriodBefore(period, back);
        if (first_day == CubeEvent::kAbsent || then.last < first_day) {
          past.push_back(Json{{"period", FormatPeriod(then)}, {"grade", nullptr}, {"score", nullptr}});
          continue;
        }
        absl::StatusOr<Assessment> earlier = risk->Assess(cube, registry().level(unit), then);
        if (!earlier.ok()) return earlier.status();
        const UnitRisk& was = earlier->units[static_cast<size_t>(index)];
        past.push_back(Json{{"period", FormatPeriod(then)}, {"grade", std::string(GradeName(was.grade))}, {"score", was.score}});
      }
      body["history"] = std::move(past);
      SetJson(call.response, body);
      return absl::OkStatus();
    });
  }

  absl::Status GeoJsonRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(Level level, QueryLevel(call));
    PA_ASSIGN_OR_RETURN(UnitId root, live->Read([&](const Cube& cube) { return ScopedUnit(cube, call); }));
    if (registry().level(root) > level) {
      return absl::InvalidArgumentError(Cat("level: ", LevelName(level), " is above the unit ", registry().name(root)));
    }
    const std::string key = Cat("geojson|", root.value, "|", LevelName(level));
    return Cached(call, key, [&](const Cube&) {
      Json features = Json::array();
      for (UnitId unit : risk->units(level)) {
        if (!registry().IsWithin(unit, root)) continue;
        Json geometry;
        if (std::string_view stored = registry().geometry(unit); !stored.empty()) {
          geometry = Json::parse(stored, nullptr, false);
        } else if (const BoundingBox& box = registry().box(unit); !box.empty()) {
          geometry = Json{{"type", "Polygon"},
                          {"coordinates", Json::array({Json::array({Json::array({box.min_lon, box.min_lat}),
                                                                    Json::array({box.max_lon, box.min_lat}),
                                                                    Json::array({box.max_lon, box.max_lat}),
                                                                    Json::array({box.min_lon, box.max_lat}),
                                                                    Json::array({box.min_lon, box.min_lat})})})}};
        }
        features.push_back(Json{{"type", "Feature"},
                                {"properties", {{"code", registry().code(unit).ToString()}, {"name", registry().name(unit)}}},
                                {"geometry", std::move(geometry)}});
      }
      return Json{{"type", "FeatureCollection"}, {"features", std::move(features)}}.dump();
    });
  }

  Json WarningJson(const Warning& warning) {
    return Json{{"id", warning.id},
                {"unit", warning.unit},
                {"unit_name", warning.unit_name},
                {"level", warning.level},
                {"key_type", warning.key_type},
                {"period", warning.period},
                {"grade", warning.grade},
                {"score", warning.score},
                {"evidence", Json::parse(warning.evidence, nullptr, false)},
                {"grids", warning.grids},
                {"created_at", FormatTime(warning.created_at, zone)}};
  }

  absl::Status WarningsRoute(Call& call) {
    PA_ASSIGN_OR_RETURN(int64_t limit, BoundedInt(call.request, "limit", 100, 1, 1000));
    PA_ASSIGN_OR_RETURN(std::string period, Bounded(call.request, "period", 64));
    PA_ASSIGN_OR_RETURN(std::string undispatched, Bounded(call.request, "undispatched", 5));
    if (!undispatched.empty() && undispatched != "1" && undispatched != "0" && undispatched != "true" &&
        undispatched != "false") {
      return absl::InvalidArgumentError("undispatched: 1 or 0");
    }
    const bool only_undispatched = undispatched == "1" || undispatched == "true";
    if (!period.empty()) {
      PA_ASSIGN_OR_RETURN(Period parsed, live->Read([&](const Cube& cube) { return ResolvePeriod(cube, period, "period"); }));
      period = FormatPeriod(parsed);
    }
    PA_ASSIGN_OR_RETURN(UnitId root, live->Read([&](const Cube& cube) { return ScopedUnit(cube, call); }));
    const std::string prefix = registry().code(root).ToString().substr(
        0, static_cast<size_t>(std::max(2, LevelDigits(registry().level(root)))));
    absl::StatusOr<std::vector<Warning>> listed;
    {
      std::lock_guard lock(warnings_mutex);
      // Undispatched ones are found among the latest 1000 (a town's list is far shorter).
      listed = warnings->List(period, prefix, only_undispatched ? 1000 : limit);
    }
    if (!listed.ok()) return listed.status();
    std::vector<int64_t> ids;
    for (const Warning& warning : *listed) ids.push_back(warning.id);
    PA_ASSIGN_OR_RETURN(auto counts, loop->TaskCounts(ids));
    Json items = Json::array();
    for (const Warning& warning : *listed) {
      const int64_t count = counts[warning.id];
      if (only_undispatched && count > 0) continue;
      if (static_cast<int64_t>(items.size()) >= limit) break;
      Json item = WarningJson(warning);
      item["tasks"] = count;
      items.push_back(std::move(item));
    }
    SetJson(call.response, Json{{"items", std::move(items)}});
    return absl::OkStatus();
  }

  // Raises the warnings of the month of the latest record when the cube has moved (the watcher).
  void RaiseWarnings() {
    const int64_t seq = live->Sequence();
    if (seq == warned_seq) return;
    warned_seq = seq;
    absl::StatusOr<std::vector<Warning>> raised = live->Read([&](const Cube& cube) -> absl::StatusOr<std::vector<Warning>> {
      const std::optional<Day> now = DataNow(cube);
      if (!now) return std::vector<Warning>{};
      const Period month = PeriodContaining(PeriodKind::kMonth, *now);
      const auto all = AssessmentsOf(cube, month);
      if (all == nullptr) return absl::InternalError("the assessment failed");
      std::lock_guard lock(warnings_mutex);
      PA_RETURN_IF_ERROR(warnings->Raise(cube, *risk, *all, absl::ToUnixSeconds(absl::Now())).status());
      // All of the month's warnings: those raised now, and any of a grade that dispatches
      // itself still without a task (raised by `pingan assess --raise` of an older version, or
      // before the config said so).
      return warnings->List(FormatPeriod(month), "", 10000);
    });
    if (!raised.ok()) {
      std::cerr << "pingan serve: warnings: " << raised.status().message() << "\n";
      return;
    }
    loop->AutoDispatch(*raised);
  }

  // --- the closed loop -------------------------------------------------------------------------

  absl::Status TasksList(Call& call) { return loop->List(call.request, call.response, *call.who); }
  absl::Status TaskGet(Call& call) { return loop->Get(call.request, call.response, *call.who); }
  absl::Status TaskAct(Call& call) { return loop->Act(call.request, call.response, *call.who); }
  absl::Status TaskPhotoUpload(Call& call) { return loop->UploadPhoto(call.request, call.response, *call.who); }
  absl::Status TaskPhotoGet(Call& call) { return loop->GetPhoto(call.request, call.response, *call.who); }
  absl::Status TaskAssignees(Call& call) { return loop->Assignees(call.request, call.response, *call.who); }
  absl::Status TaskStream(Call& call) { return loop->Stream(call.request, call.response, *call.who); }
  absl::Status WarningDispatch(Call& call) { return loop->Dispatch(call.request, call.response, *call.who); }

  // The loop's figures for a unit and period, with one row per part (districts of the city,
  // towns of a district, ...).
  absl::Status LoopMetricsRoute(Call& call) {
    absl::StatusOr<std::pair<UnitId, Period>> resolved = ScopedUnitPeriod(call);
    if (!resolved.ok()) return resolved.status();
    const auto [unit, period] = *resolved;
    std::vector<std::string> children;
    if (registry().level(unit) < Level::kGrid) {
      for (UnitId child : registry().children(unit)) {
        if (!registry().retired(child)) children.push_back(registry().code(child).ToString());
      }
    }
    PA_ASSIGN_OR_RETURN(Json body, loop->Metrics(registry().code(unit).ToString(), children, FormatPeriod(period)));
    SetJson(call.response, body);
    return absl::OkStatus();
  }

  // --- dispatch ------------------------------------------------------------------------------

  Handler HandlerFor(std::string_view method, std::string_view path) {
    using Self = Impl;
    static const std::unordered_map<std::string, absl::Status (Self::*)(Call&)> kHandlers = {
        {"POST /api/login", &Self::Login},
        {"GET /api/me", &Self::Me},
        {"GET /api/report", &Self::ReportRoute},
        {"GET /api/trends", &Self::TrendsRoute},
        {"GET /api/series", &Self::SeriesRoute},
        {"GET /api/breakdown", &Self::BreakdownRoute},
        {"GET /api/league", &Self::LeagueRoute},
        {"GET /api/bulletin", &Self::BulletinRoute},
        {"GET /api/clusters", &Self::ClustersRoute},
        {"GET /api/freshness", &Self::FreshnessRoute},
        {"GET /api/major", &Self::MajorRoute},
        {"GET /api/major/stream", &Self::MajorStream},
        {"GET /api/export/{table}", &Self::Export},
        {"GET /api/units", &Self::UnitSearch},
        {"GET /api/units/{code}", &Self::UnitRoute},
        {"GET /api/geocode", &Self::GeocodeOne},
        {"POST /api/geocode", &Self::GeocodeBatch},
        {"POST /api/geocode/points", &Self::GeocodePoints},
        {"GET /api/events", &Self::Events},
        {"GET /api/quarantine", &Self::Quarantine},
        {"GET /api/audit", &Self::AuditRoute},
        {"POST /api/ingest", &Self::Ingest},
        {"GET /api/risk", &Self::RiskRoute},
        {"GET /api/risk/unit", &Self::RiskUnitRoute},
        {"GET /api/geojson", &Self::GeoJsonRoute},
        {"GET /api/warnings", &Self::WarningsRoute},
        {"POST /api/warnings/{id}/dispatch", &Self::WarningDispatch},
        {"GET /api/tasks", &Self::TasksList},
        {"GET /api/tasks/stream", &Self::TaskStream},
        {"GET /api/tasks/assignees", &Self::TaskAssignees},
        {"GET /api/tasks/{id}", &Self::TaskGet},
        {"POST /api/tasks/{id}/photos", &Self::TaskPhotoUpload},
        {"GET /api/tasks/{id}/photos/{n}", &Self::TaskPhotoGet},
        {"POST /api/tasks/{id}/{action}", &Self::TaskAct},
        {"GET /api/loop/metrics", &Self::LoopMetricsRoute},
    };
    const std::string key = Cat(method, " ", path);
    if (key == "GET /api/openapi.json") {
      return [](Call& call) {
        call.response.set_content(std::string(kOpenApiJson), "application/json");
        return absl::OkStatus();
      };
    }
    if (key == "GET /api/health") {
      return [this](Call& call) {
        SetJson(call.response, Json{{"ok", live->LastError().ok()}, {"seq", live->Sequence()}});
        return absl::OkStatus();
      };
    }
    if (key == "POST /api/logout") {
      return [this](Call& call) {
        PA_RETURN_IF_ERROR(auth->Logout(*call.who));
        call.response.status = 204;
        return absl::OkStatus();
      };
    }
    if (key == "GET /api/catalog") {
      return [this](Call& call) {
        call.response.set_content(CatalogJson(catalog()), "application/json");
        return absl::OkStatus();
      };
    }
    const auto it = kHandlers.find(key);
    if (it == kHandlers.end()) return nullptr;
    const auto member = it->second;
    return [this, member](Call& call) { return (this->*member)(call); };
  }

  void Register(const Route& route) {
    Handler handler = HandlerFor(route.method, route.path);
    if (!handler) {
      std::cerr << "pingan serve: no handler for " << route.method << " " << route.path << "\n";
      std::abort();
    }
    auto serve = [this, route, handler](const httplib::Request& request, httplib::Response& response) {
      const auto started = std::chrono::steady_clock::now();
      Call call{request, response, std::nullopt, {}};
      // The body's bound (BodyBound) was applied by the front before the body was read.
      absl::Status status = Authorize(route, call);
      if (status.ok()) status = handler(call);
      if (!status.ok()) SetError(response, HttpStatus(status), std::string(status.message()));
      if (options.log_requests) {
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        std::cerr << fmt::format("{} {} {} {:.1f} ms {}\n", request.method, request.path, response.status, ms,
                                 call.who ? call.who->name : call.source);
      }
    };
    if (std::string_view(route.path).find('{') != std::string_view::npos) {
      pattern_routes.push_back(PatternRoute{&route, std::regex(route.regex), std::move(serve)});
    } else if (std::string_view(route.method) == "GET") {
      get_routes.emplace(route.path, std::move(serve));
    } else {
      post_routes.emplace(route.path, std::move(serve));
    }
  }

  // Every request: the API's routes (a path without parameters in one lookup), else the web
  // app's files, else the app itself (it routes in the page: #/...).
  void Dispatch(httplib::Request& request, httplib::Response& response) {
    const std::string& path = request.path;
    if (path.rfind("/api/", 0) == 0) {
      const bool get = request.method == "GET";
      const bool post = request.method == "POST";
      if (get || post) {
        const auto& table = get ? get_routes : post_routes;
        if (const auto it = table.find(path); it != table.end()) return it->second(request, response);
        for (const PatternRoute& pattern : pattern_routes) {
          if (request.method == pattern.route->method && std::regex_match(path, request.matches, pattern.regex)) {
            return pattern.serve(request, response);
          }
        }
      }
      bool known_path = get_routes.contains(path) || post_routes.contains(path);
      for (const PatternRoute& pattern : pattern_routes) {
        known_path = known_path || std::regex_match(path, pattern.regex);
      }
      SetError(response, known_path ? 405 : 404, known_path ? "method not allowed" : "no such endpoint");
      return;
    }
    if (request.method == "GET" && web) {
      const bool gzip = server_internal::AcceptsGzip(request.get_header_value("Accept-Encoding"));
      if (web->Serve(path, gzip, response)) return;
      if (path.rfind("/assets/", 0) != 0 && web->Serve("/", gzip, response)) return;
    }
    SetError(response, 404, "no such page");
  }

  // The largest body a request may send, by its route (checked before the body is read).
  size_t BodyBound(const httplib::Request& request) const {
    if (request.path == "/api/ingest") return options.max_ingest_bytes;
    if (std::regex_match(request.path, photos_path)) {
      return std::max<size_t>(options.max_body_bytes, static_cast<size_t>(tasks->settings().photo_max_bytes));
    }
    return options.max_body_bytes;
  }

  absl::Status Authorize(const Route& route, Call& call) {
    if (route.access == Access::kPublic) return absl::OkStatus();
    std::string_view token = BearerToken(call.request);
    if (route.access == Access::kSource) {
      if (token.empty()) token = call.request.get_header_value("X-Source-Key");
      if (token.empty()) return absl::UnauthenticatedError("a source key is required (Authorization: Bearer KEY)");
      PA_ASSIGN_OR_RETURN(call.source, auth->AuthenticateSource(token));
      return absl::OkStatus();
    }
    // EventSource cannot send headers: the live feed also takes the token as a parameter.
    std::string from_query;
    if (token.empty() && (std::string_view(route.path) == "/api/major/stream" ||
                          std::string_view(route.path) == "/api/tasks/stream")) {
      from_query = call.request.get_param_value("token");
      token = from_query;
    }
    if (token.empty()) return absl::UnauthenticatedError("log in first (Authorization: Bearer TOKEN)");
    if (token.size() > 256) return absl::UnauthenticatedError("the session token is not valid");
    absl::StatusOr<Principal> who = auth->Authenticate(token);
    if (!who.ok()) return absl::UnauthenticatedError("the session has expired or is not valid; log in again");
    if ((route.roles & Bit(who->role)) == 0) {
      return absl::PermissionDeniedError(Cat("the role ", RoleName(who->role), " may not use ", route.path));
    }
    call.who = *std::move(who);
    return absl::OkStatus();
  }

  void Configure() {
    for (const Route& route : kRoutes) Register(route);
    if (!options.web_dir.empty()) web.emplace(options.web_dir);
    server_internal::HttpFrontOptions front_options{
        .host = options.host,
        .port = options.port,
        .threads = options.threads,
        .default_headers = {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}}};
    front = std::make_unique<server_internal::HttpFront>(
        std::move(front_options),
        [this](httplib::Request& request, httplib::Response& response) { Dispatch(request, response); },
        [this](const httplib::Request& request) { return BodyBound(request); },
        [](int status, std::string_view message, httplib::Response& response) { SetError(response, status, message); });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

std::vector<RouteInfo> Server::Routes() {
  std::vector<RouteInfo> routes;
  for (const Route& route : kRoutes) routes.push_back(RouteInfo{route.method, route.path});
  return routes;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const std::filesystem::path& config_dir,
                                                       const std::filesystem::path& data_dir, ServerOptions options) {
  if (options.threads < 2 || options.threads > 1024) return absl::InvalidArgumentError("threads: 2..1024");
  if (options.max_streams < 1 || options.max_streams > 1024) return absl::InvalidArgumentError("max streams: 1..1024");
  auto impl = std::make_unique<Impl>(data_dir / kDatabaseFile);
  impl->options = std::move(options);
  impl->config_dir = config_dir;
  impl->data_dir = data_dir;
  PA_ASSIGN_OR_RETURN(impl->env, OpenReportEnv(config_dir, data_dir));
  ReportEnv& env = *impl->env;
  impl->time_zone = env.data.deployment.time_zone;
  if (!absl::LoadTimeZone(impl->time_zone, &impl->zone)) impl->zone = absl::FixedTimeZone(8 * 3600);
  PA_ASSIGN_OR_RETURN(impl->unmasked_roles, server_internal::LoadUnmaskedRoles(config_dir));
  PA_ASSIGN_OR_RETURN(impl->auth, AuthStore::Open(data_dir));
  // The geocoder.
  PA_ASSIGN_OR_RETURN(ProjectConfig config, LoadProjectConfig(config_dir));
  std::vector<Alias> aliases;
  for (const AliasConfig& alias : config.aliases) aliases.push_back(Alias{alias.name, alias.unit});
  const MatcherIndexFile index{env.data.store->matcher_index_path(), env.data.store->loaded_registry_generation()};
  PA_ASSIGN_OR_RETURN(impl->matcher, Matcher::Open(*env.registry, env.data.deployment.home_city, aliases, index));
  PA_ASSIGN_OR_RETURN(impl->points,
                      PointIndex::Create(*env.registry, env.cube->home_city(),
                                         PointIndexOptions{.building_distance_m = env.data.deployment.geocode.building_distance_m}));
  // The writer for ingest over HTTP: its own connection, read-write.
  PA_ASSIGN_OR_RETURN(impl->writer_store, SqliteStore::Open(data_dir / kDatabaseFile, SqliteStore::Mode::kReadWrite));
  PA_ASSIGN_OR_RETURN(impl->writer_events, EventStore::Open(impl->writer_store->handle()));
  impl->ingest_env = IngestEnv{.catalog = &env.catalog,
                                                                 .registry = env.registry.get(),
                                                                 .deployment = &env.data.deployment,
                                                                 .matcher = impl->matcher.get(),
                                                                 .points = impl->points.get(),
                                                                 .store = impl->writer_events.get(),
                                                                 .threads = 1,
                                                                 .batch_size = 5000};
  PA_ASSIGN_OR_RETURN(impl->ingester, Ingester::Create(impl->ingest_env));
  // The risk map.
  PA_ASSIGN_OR_RETURN(RiskSettings risk_settings, LoadRiskSettings(config_dir, env.catalog));
  PA_ASSIGN_OR_RETURN(impl->risk, RiskEngine::Create(*env.cube, std::move(risk_settings)));
  PA_ASSIGN_OR_RETURN(impl->warnings, WarningStore::Open(data_dir));
  // The closed loop.
  PA_ASSIGN_OR_RETURN(LoopSettings loop_settings, LoadLoopSettings(config_dir, env.catalog));
  PA_ASSIGN_OR_RETURN(impl->tasks, TaskStore::Open(data_dir, std::move(loop_settings),
                                                   TaskStoreOptions{.max_batch = impl->options.task_batch}));
  impl->loop = std::make_unique<LoopApi>(LoopApi::Env{.registry = env.registry.get(),
                                                      .catalog = &env.catalog,
                                                      .auth = impl->auth.get(),
                                                      .tasks = impl->tasks.get(),
                                                      .warnings = impl->warnings.get(),
                                                      .warnings_mutex = &impl->warnings_mutex,
                                                      .zone = impl->zone,
                                                      .streams = &impl->streams,
                                                      .max_streams = impl->options.max_streams});
  // The cube, followed live.
  LiveCube::Options live_options;
  live_options.snapshot = env.snapshot;
  live_options.fingerprint = env.fingerprint;
  PA_ASSIGN_OR_RETURN(impl->live, LiveCube::Start(data_dir / kDatabaseFile, std::move(env.cube), *env.clock, env.seq,
                                                  live_options));
  impl->Configure();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::StatusOr<int> Server::Bind() { return impl_->front->Bind(); }

absl::Status Server::Run() {
  impl_->watcher = std::thread([this] { impl_->Watch(); });
  impl_->front->Run();
  return absl::OkStatus();
}

void Server::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  {
    std::lock_guard lock(impl_->subscribers_mutex);
    for (const auto& subscriber : impl_->subscribers) {
      std::lock_guard queue_lock(subscriber->mutex);
      subscriber->closed = true;
      subscriber->ready.notify_all();
    }
  }
  impl_->loop->Close();
  impl_->front->Stop();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

}  // namespace pingan
