// The HTTP API of `pingan serve`, in process, on a copy of the report fixture (the national
// registry with a year and a half of demo feeds): every route, the role × scope matrix, bad
// input, answers equal to the CLI's, ingest over HTTP reaching the report and the live feed.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <xlsxwriter.h>

#include <sqlite3.h>

#include "auth/auth.h"
#include "core/csv.h"
#include "core/datum.h"
#include "geocode/point_answer.h"
#include "server/api_util.h"
#include "server/http_front.h"
#include "server/openapi.h"
#include "server/server.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kPassword[] = "correct horse battery staple";
constexpr char kXihu[] = "330106";    // 西湖区
constexpr char kShangcheng[] = "330102";  // 上城区

// One server on a copy of the fixture, for the whole suite (each ctest case is its own process).
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    data_ = dir_->path() / "data";
    fs::copy(std::string(PINGAN_TEST_DATA) + "/report_demo", data_, fs::copy_options::recursive);
    {
      auto auth = AuthStore::Open(data_, AuthOptions{.pwhash_opslimit = 1, .pwhash_memlimit = 8192});
      ASSERT_TRUE(auth.ok()) << auth.status();
      struct Seed {
        const char* name;
        Role role;
        std::vector<std::string> scopes;
      };
      // A grid of 西湖区 for the grid worker: the first grid the registry lists under it.
      const testing::Output units = testing::RunPingan(std::string("units ") + kXihu + " --json --depth 3", data_.string());
      std::string grid;
      std::function<void(const Json&)> find_grid = [&](const Json& unit) {
        if (!grid.empty() || !unit.is_object()) return;
        if (unit.value("level", "") == "grid") grid = unit["code"].get<std::string>().substr(0, 15);
        for (const Json& child : unit.value("children", Json::array())) find_grid(child);
      };
      find_grid(Json::parse(units.out, nullptr, false));
      ASSERT_FALSE(grid.empty()) << units.out.substr(0, 400) << units.err;
      grid_ = grid;
      for (const Seed& seed : {Seed{"admin1", Role::kAdmin, {}}, Seed{"city1", Role::kCityAnalyst, {"3301"}},
                               Seed{"xihu1", Role::kDistrictAnalyst, {kXihu}},
                               Seed{"town1", Role::kTownOfficial, {grid.substr(0, 9)}},
                               Seed{"grid1", Role::kGridWorker, {grid}}, Seed{"audit1", Role::kAuditor, {}}}) {
        auto added = (*auth)->AddUser(seed.name, seed.role, seed.scopes, kPassword, "test");
        ASSERT_TRUE(added.ok()) << seed.name << ": " << added.status();
      }
    }
    auto server = Server::Create(fs::path(PINGAN_SOURCE_DIR) / "config", data_, ServerOptions{.port = 0, .threads = 8, .max_export_events = 2000});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    thread_ = new std::thread([] { (void)server_->Run(); });
    for (const char* name : {"admin1", "city1", "xihu1", "town1", "grid1", "audit1"}) tokens_[name] = Login(name);
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) server_->Stop();
    if (thread_ != nullptr) thread_->join();
    delete thread_;
    delete server_;
    delete dir_;
    server_ = nullptr, thread_ = nullptr, dir_ = nullptr;
  }

  static std::vector<std::string> absl_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  static httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    return client;
  }
  static std::string Login(const std::string& name) {
    auto response = Client().Post("/api/login", Json{{"username", name}, {"password", kPassword}}.dump(),
                                  "application/json");
    EXPECT_TRUE(response) << name;
    if (!response) return "";
    EXPECT_EQ(response->status, 200) << name << ": " << response->body;
    return Json::parse(response->body, nullptr, false).value("token", "");
  }
  struct Answer {
    int status = 0;
    std::string body;
    Json json;
    std::string content_type;
  };
  static Answer Get(const std::string& path, const std::string& user) {
    httplib::Headers headers;
    if (!user.empty()) headers.emplace("Authorization", "Bearer " + tokens_[user]);
    auto response = Client().Get(path.c_str(), headers);
    Answer answer;
    if (!response) return answer;
    answer.status = response->status;
    answer.body = response->body;
    answer.json = Json::parse(response->body, nullptr, false);
    answer.content_type = response->get_header_value("Content-Type");
    return answer;
  }
  static Answer Post(const std::string& path, const std::string& body, const std::string& bearer,
                     const char* type = "application/json", httplib::Headers headers = {}) {
    if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
    auto response = Client().Post(path.c_str(), headers, body, type);
    Answer answer;
    if (!response) return answer;
    answer.status = response->status;
    answer.body = response->body;
    answer.json = Json::parse(response->body, nullptr, false);
    return answer;
  }
  // An error answer has the documented shape.
  static void ExpectError(const Answer& answer, int status, const std::string& path) {
    EXPECT_EQ(answer.status, status) << path << ": " << answer.body.substr(0, 300);
    ASSERT_TRUE(answer.json.is_object()) << path;
    ASSERT_TRUE(answer.json.contains("error")) << path << ": " << answer.body.substr(0, 300);
    EXPECT_TRUE(answer.json["error"]["code"].is_string()) << path;
    EXPECT_FALSE(answer.json["error"]["message"].get<std::string>().empty()) << path;
  }

  static testing::TempDir* dir_;
  static fs::path data_;
  static Server* server_;
  static std::thread* thread_;
  static int port_;
  static std::string grid_;
  static std::map<std::string, std::string> tokens_;
};
testing::TempDir* ServerTest::dir_ = nullptr;
fs::path ServerTest::data_;
Server* ServerTest::server_ = nullptr;
std::thread* ServerTest::thread_ = nullptr;
int ServerTest::port_ = 0;
std::string ServerTest::grid_;
std::map<std::string, std::string> ServerTest::tokens_;

TEST(OpenApiTest, TheDocumentNamesEveryRouteAndNoOther) {
  const Json document = Json::parse(kOpenApiJson, nullptr, false);
  ASSERT_TRUE(document.is_object());
  EXPECT_EQ(document["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::pair<std::string, std::string>> documented, served;
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(upper, path);
      EXPECT_TRUE(operation.contains("responses")) << method << " " << path;
      // Path parameters are declared.
      for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
        const std::string name = path.substr(open + 1, path.find('}', open) - open - 1);
        bool declared = false;
        for (const Json& parameter : operation.value("parameters", Json::array())) {
          declared = declared || (parameter["in"] == "path" && parameter["name"] == name);
        }
        EXPECT_TRUE(declared) << method << " " << path << " does not declare {" << name << "}";
      }
    }
  }
  for (const RouteInfo& route : Server::Routes()) served.emplace(route.method, route.path);
  EXPECT_EQ(documented, served);
}

TEST(ApiUtilTest, ThePersonalDataPolicyNamesRolesOrIsRefused) {
  testing::TempDir dir;
  auto roles = server_internal::LoadUnmaskedRoles(dir.path());
  ASSERT_TRUE(roles.ok());
  EXPECT_TRUE(roles->empty());  // no file: nobody sees personal data
  dir.Write("policy.toml", "[personal_data]\nunmasked_roles = [\"admin\", \"auditor\"]\n");
  roles = server_internal::LoadUnmaskedRoles(dir.path());
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_EQ(*roles, (std::vector<std::string>{"admin", "auditor"}));
  dir.Write("policy.toml", "[personal_data]\nunmasked_roles = [\"admin\", \"boss\"]\n");
  roles = server_internal::LoadUnmaskedRoles(dir.path());
  ASSERT_FALSE(roles.ok());
  EXPECT_THAT(std::string(roles.status().message()), HasSubstr("policy.toml:2"));
  dir.Write("policy.toml", "[personal_data\n");
  EXPECT_FALSE(server_internal::LoadUnmaskedRoles(dir.path()).ok());
  // The project's own policy parses and lets no role see personal data.
  roles = server_internal::LoadUnmaskedRoles(fs::path(PINGAN_SOURCE_DIR) / "config");
  ASSERT_TRUE(roles.ok()) << roles.status();
  EXPECT_TRUE(roles->empty());
}

TEST(ApiUtilTest, QueryParametersAreBounded) {
  httplib::Request request;
  request.params.emplace("unit", "330106");
  request.params.emplace("long", std::string(100, 'a'));
  request.params.emplace("twice", "1");
  request.params.emplace("twice", "2");
  request.params.emplace("control", "a\x01b");
  request.params.emplace("bad_utf8", "\xff\xfe");
  request.params.emplace("count", "12");
  request.params.emplace("huge", "99999999999999999999999");
  EXPECT_EQ(*server_internal::Bounded(request, "unit", 27), "330106");
  EXPECT_EQ(*server_internal::Bounded(request, "absent", 27), "");
  for (const char* name : {"long", "twice", "control", "bad_utf8"}) {
    EXPECT_EQ(server_internal::Bounded(request, name, 64).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(*server_internal::BoundedInt(request, "count", 5, 1, 120), 12);
  EXPECT_EQ(*server_internal::BoundedInt(request, "absent", 5, 1, 120), 5);
  EXPECT_FALSE(server_internal::BoundedInt(request, "count", 5, 1, 10).ok());
  EXPECT_FALSE(server_internal::BoundedInt(request, "huge", 5, 1, 10).ok());
  EXPECT_FALSE(server_internal::BoundedInt(request, "unit", 5, 1, 10).ok());
}

TEST_F(ServerTest, ServesTheDocumentAndRefusesRequestsWithoutAValidToken) {
  const Answer document = Get("/api/openapi.json", "");
  EXPECT_EQ(document.status, 200);
  EXPECT_EQ(document.json["openapi"].get<std::string>().substr(0, 2), "3.");
  for (const RouteInfo& route : Server::Routes()) {
    if (route.path == "/api/openapi.json" || route.path == "/api/health" || route.path == "/api/login") continue;
    // Each path parameter filled with a value its pattern takes.
    const std::map<std::string, std::string> values = {
        {"code", "330106"}, {"table", "report"}, {"id", "1"}, {"n", "1"}, {"action", "accept"}};
    std::string path = route.path;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{')) {
      const size_t close = path.find('}', open);
      path.replace(open, close - open + 1, values.at(path.substr(open + 1, close - open - 1)));
    }
    if (route.method == "GET") {
      ExpectError(Get(path, ""), 401, path);
    } else {
      ExpectError(Post(path, "{}", ""), 401, path);
      ExpectError(Post(path, "{}", "not-a-token"), 401, path);
    }
  }
  httplib::Headers garbage{{"Authorization", "Bearer " + std::string(300, 'x')}};
  auto response = Client().Get("/api/me", garbage);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  ExpectError(Get("/api/no-such-thing", "admin1"), 404, "/api/no-such-thing");
}

TEST_F(ServerTest, RolesAndScopesDecideWhoSeesWhat) {
  // For each route that reads the city's data: the answer per role, inside and outside scope.
  const std::string in_xihu = std::string("unit=") + kXihu + "&period=2024-05";
  const std::string in_shangcheng = std::string("unit=") + kShangcheng + "&period=2024-05";
  const std::string in_grid = "unit=" + grid_ + "&period=2024-05";
  struct Case {
    std::string path;
    std::map<std::string, int> expect;  // user -> status
  };
  const std::vector<std::string> scoped = {"/api/report?", "/api/series?indicator=criminal.filed&", "/api/trends?",
                                           "/api/breakdown?indicator=criminal.filed&", "/api/bulletin?",
                                           "/api/clusters?", "/api/major?", "/api/events?limit=1&",
                                           "/api/export/report?format=csv&"};
  std::vector<Case> cases;
  for (const std::string& base : scoped) {
    cases.push_back({base + in_xihu, {{"admin1", 200}, {"city1", 200}, {"xihu1", 200}, {"town1", 403},
                                      {"grid1", 403}, {"audit1", 403}}});
    cases.push_back({base + in_shangcheng, {{"admin1", 200}, {"city1", 200}, {"xihu1", 403}, {"town1", 403},
                                            {"grid1", 403}, {"audit1", 403}}});
    cases.push_back({base + in_grid, {{"admin1", 200}, {"city1", 200}, {"xihu1", 200}, {"town1", 200},
                                      {"grid1", 200}, {"audit1", 403}}});
    // The whole city, asked for by name, is above a district's scope.
    cases.push_back({base + "unit=3301&period=2024-05", {{"city1", 200}, {"xihu1", 403}, {"grid1", 403}}});
  }
  cases.push_back({"/api/league?period=2024-05", {{"admin1", 200}, {"city1", 200}, {"xihu1", 200}, {"town1", 200},
                                                 {"grid1", 403}, {"audit1", 403}}});
  cases.push_back({"/api/quarantine", {{"admin1", 200}, {"city1", 403}, {"xihu1", 403}, {"audit1", 403}}});
  cases.push_back({"/api/audit", {{"admin1", 200}, {"audit1", 200}, {"city1", 403}, {"xihu1", 403}, {"grid1", 403}}});
  cases.push_back({"/api/me", {{"admin1", 200}, {"grid1", 200}, {"audit1", 200}}});
  cases.push_back({"/api/catalog", {{"xihu1", 200}, {"audit1", 200}}});
  cases.push_back({"/api/freshness", {{"xihu1", 200}, {"audit1", 403}}});
  cases.push_back({"/api/units/330106", {{"xihu1", 200}, {"grid1", 200}}});
  cases.push_back({"/api/units?q=%E8%A5%BF%E6%B9%96", {{"xihu1", 200}}});
  cases.push_back({"/api/geocode?q=%E8%A5%BF%E6%B9%96%E5%8C%BA", {{"xihu1", 200}, {"audit1", 403}}});
  for (const Case& test : cases) {
    for (const auto& [user, status] : test.expect) {
      const Answer answer = Get(test.path, user);
      if (status == 200) {
        EXPECT_EQ(answer.status, 200) << user << " " << test.path << ": " << answer.body.substr(0, 200);
      } else {
        ExpectError(answer, status, user + " " + test.path);
      }
    }
  }
  // Without a unit, a scoped user gets their own area, not the city.
  const Answer own = Get("/api/report?period=2024-05", "xihu1");
  ASSERT_EQ(own.status, 200);
  EXPECT_EQ(own.json["unit"], "330106000000000000000000000");
  // Events of a district analyst never leave the district.
  const Answer events = Get("/api/events?limit=200", "xihu1");
  ASSERT_EQ(events.status, 200);
  ASSERT_FALSE(events.json["items"].empty());
  for (const Json& event : events.json["items"]) EXPECT_EQ(event["unit"].get<std::string>().substr(0, 6), kXihu);
}

TEST_F(ServerTest, EveryRouteAnswersEveryRoleAsThePolicySays) {
  // Who may use what (docs/security.md), written out here independently of the server's table.
  const std::set<std::string> everyone = {"admin1", "city1", "xihu1", "town1", "grid1", "audit1"};
  const std::set<std::string> readers = {"admin1", "city1", "xihu1", "town1", "grid1"};
  const std::map<std::string, std::set<std::string>> allowed = {
      {"/api/me", everyone},
      {"/api/catalog", everyone},
      {"/api/units", everyone},
      {"/api/units/{code}", everyone},
      {"/api/freshness", readers},
      {"/api/report", readers},
      {"/api/series", readers},
      {"/api/trends", readers},
      {"/api/breakdown", readers},
      {"/api/bulletin", readers},
      {"/api/clusters", readers},
      {"/api/major", readers},
      {"/api/export/{table}", readers},
      {"/api/geocode", readers},
      {"/api/events", readers},
      {"/api/league", {"admin1", "city1", "xihu1", "town1"}},
      {"/api/quarantine", {"admin1"}},
      {"/api/audit", {"admin1", "audit1"}},
      {"/api/risk", readers},
      {"/api/risk/unit", readers},
      {"/api/geojson", readers},
      {"/api/warnings", readers},
  };
  // A query inside every scoped user's area: the grid worker's grid.
  const std::map<std::string, std::string> query = {
      {"/api/units", "/api/units?q=%E7%BD%91%E6%A0%BC"},
      {"/api/units/{code}", "/api/units/" + grid_},
      {"/api/series", "/api/series?indicator=criminal.filed&unit=" + grid_},
      {"/api/breakdown", "/api/breakdown?indicator=criminal.filed&unit=" + grid_},
      {"/api/export/{table}", "/api/export/report?format=csv&unit=" + grid_},
      {"/api/geocode", "/api/geocode?q=%E8%A5%BF%E6%B9%96%E5%8C%BA"},
      {"/api/events", "/api/events?limit=3&unit=" + grid_},
      {"/api/risk", "/api/risk?level=grid&period=2024-05&unit=" + grid_},
      {"/api/risk/unit", "/api/risk/unit?history=2&period=2024-05&unit=" + grid_},
      {"/api/geojson", "/api/geojson?level=grid&unit=" + grid_},
  };
  size_t checked = 0;
  for (const RouteInfo& route : Server::Routes()) {
    if (route.method != "GET" || !allowed.contains(route.path)) continue;
    const std::string path = query.contains(route.path) ? query.at(route.path) : route.path + "?unit=" + grid_;
    for (const std::string& user : everyone) {
      const Answer answer = Get(path, user);
      if (allowed.at(route.path).contains(user)) {
        EXPECT_EQ(answer.status, 200) << user << " " << path << ": " << answer.body.substr(0, 200);
      } else {
        ExpectError(answer, 403, user + " " + path);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, allowed.size() * everyone.size());
  // POST routes: a batch geocode for readers; ingest takes a source key, never a user's token.
  for (const std::string& user : everyone) {
    EXPECT_EQ(Post("/api/geocode", R"(["西湖区"])", tokens_[user]).status, readers.contains(user) ? 200 : 403) << user;
    ExpectError(Post("/api/ingest", "{}", tokens_[user], "application/x-ndjson"), 401, user + " ingest");
  }
}

// A warning stored for the grid worker's grid (as the risk map would raise it); its id.
int64_t StoreWarning(const fs::path& data, const std::string& grid27, const std::string& grade) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open((data / "pingan.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  const std::string sql = "INSERT INTO warnings(unit, unit_name, level, key_type, period, grade, score, evidence, grids, "
                          "created_at) VALUES('" + grid27 + "', 'test grid', 'grid', 'key.theft', '2024-06', '" + grade +
                          "', 3.5, '{}', '[\"" + grid27 + "\"]', 1700000000)";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  const int64_t id = sqlite3_last_insert_rowid(db);
  sqlite3_close(db);
  return id;
}

TEST_F(ServerTest, TheClosedLoopFromDispatchToCloseWithConflictsAndTheLiveFeed) {
  const std::string grid27 = grid_ + std::string(27 - grid_.size(), '0');
  const int64_t warning = StoreWarning(data_, grid27, "orange");
  const std::string dispatch = "/api/warnings/" + std::to_string(warning) + "/dispatch";
  // Only town officials dispatch, only in their town; a repeat makes nothing twice.
  for (const char* user : {"admin1", "city1", "xihu1", "grid1", "audit1"}) {
    ExpectError(Post(dispatch, "{}", tokens_[user]), 403, std::string(user) + " dispatch");
  }
  ExpectError(Post("/api/warnings/999999999/dispatch", "{}", tokens_["town1"]), 404, "no warning");
  ExpectError(Post(dispatch, R"({"grids":["330100000000000000000000000"]})", tokens_["town1"]), 400, "foreign grid");
  ExpectError(Post(dispatch, "[1,2]", tokens_["town1"]), 400, "not an object");
  const Answer made = Post(dispatch, "{}", tokens_["town1"]);
  ASSERT_EQ(made.status, 200) << made.body;
  ASSERT_EQ(made.json["tasks"].size(), 1u);
  const Json task = made.json["tasks"][0];
  EXPECT_EQ(task["unit"], grid27);
  EXPECT_EQ(task["candidates"], Json::array({"grid1"}));
  EXPECT_EQ(task["state"], "issued");
  EXPECT_FALSE(task["checklist"].empty());
  EXPECT_EQ(Post(dispatch, "{}", tokens_["town1"]).json["created"], 0);
  const Answer listed = Get("/api/warnings?undispatched=1&limit=1000&unit=" + grid_, "town1");
  ASSERT_EQ(listed.status, 200);
  for (const Json& item : listed.json["items"]) EXPECT_NE(item["id"], warning);
  ExpectError(Get("/api/warnings?undispatched=maybe", "town1"), 400, "undispatched");
  const std::string id = std::to_string(task["id"].get<int64_t>());
  const std::string base = "/api/tasks/" + id;

  // Who sees it: the worker it is offered to, the town official, analysts above; not auditors.
  const Answer mine = Get("/api/tasks", "grid1");
  ASSERT_EQ(mine.status, 200);
  bool found = false;
  for (const Json& item : mine.json["items"]) {
    if (item["id"] != task["id"]) continue;
    found = true;
    EXPECT_EQ(item["actions"], Json::array({"accept"}));
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Get(base, "city1").status, 200);
  EXPECT_EQ(Get(base, "town1").status, 200);
  ExpectError(Get(base, "audit1"), 403, "auditor reads a task");
  ExpectError(Get("/api/tasks?view=town", "grid1"), 403, "grid worker's town view");
  ExpectError(Get("/api/tasks?state=nonsense", "town1"), 400, "state");
  ExpectError(Get("/api/tasks/abc", "town1"), 404, "not a number");

  // The live feed of the worker: a task event when it changes.
  std::atomic<bool> stop{false};
  std::mutex seen_mutex;
  std::string seen;
  std::thread stream([&] {
    httplib::Client client = Client();
    client.Get(("/api/tasks/stream?token=" + tokens_["grid1"]).c_str(), [&](const char* data, size_t length) {
      std::lock_guard lock(seen_mutex);
      seen.append(data, length);
      return !stop && seen.find("\"state\":\"accepted\"") == std::string::npos;
    });
  });

  for (int i = 0; i < 200; ++i) {  // subscribed before anything changes
    {
      std::lock_guard lock(seen_mutex);
      if (seen.find(": connected") != std::string::npos) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }

  // Bad requests change nothing.
  auto act = [&](const std::string& action, const std::string& body, const std::string& user, const std::string& key = "") {
    httplib::Headers headers{{"Authorization", "Bearer " + tokens_[user]}};
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    auto response = Client().Post((base + "/" + action).c_str(), headers, body, "application/json");
    Answer answer;
    if (response) answer.status = response->status, answer.body = response->body, answer.json = Json::parse(response->body, nullptr, false);
    return answer;
  };
  ExpectError(act("accept", "{}", "grid1"), 400, "neither key nor version");
  ExpectError(act("accept", "{\"version\":", "grid1", "k0"), 400, "malformed JSON");
  ExpectError(act("accept", R"({"version":1,"colour":"red"})", "grid1"), 400, "unknown field");
  ExpectError(act("accept", R"({"version":"1"})", "grid1"), 400, "version as text");
  ExpectError(act("accept", "{}", "grid1", "has space"), 400, "key with a space");
  ExpectError(act("accept", "{}", "grid1", std::string(200, 'k')), 400, "long key");
  ExpectError(act("fly", R"({"version":1})", "grid1"), 404, "unknown action");
  ExpectError(act("accept", R"({"version":1})", "town1"), 403, "an official accepts");
  ExpectError(act("accept", R"({"version":1})", "city1"), 403, "an analyst accepts");
  EXPECT_EQ(Get(base, "grid1").json["version"], 1);

  // accept, a retry of it, a stale version.
  const Answer accepted = act("accept", "{}", "grid1", "k-accept");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.json["task"]["state"], "accepted");
  EXPECT_FALSE(accepted.json["replayed"].get<bool>());
  const Answer again = act("accept", "{}", "grid1", "k-accept");
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(again.json["replayed"].get<bool>());
  EXPECT_EQ(again.json["task"]["version"], 2);
  const Answer stale = act("start", R"({"version":1})", "grid1");
  ExpectError(stale, 409, "stale version");
  EXPECT_EQ(stale.json["task"]["version"], 2);
  EXPECT_EQ(stale.json["task"]["state"], "accepted");
  // The feed saw it.
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(seen_mutex);
      if (seen.find("\"state\":\"accepted\"") != std::string::npos) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  stream.join();
  EXPECT_THAT(seen, HasSubstr(": connected"));
  EXPECT_THAT(seen, HasSubstr("event: task"));
  EXPECT_THAT(seen, HasSubstr("\"state\":\"accepted\""));

  // Photos: type and size bounded; the bytes come back.
  ASSERT_EQ(act("start", R"({"version":2})", "grid1").status, 200);
  const std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(64, 'p');
  auto upload = [&](const std::string& bytes, const char* type, const std::string& user) {
    return Post(base + "/photos", bytes, tokens_[user], type);
  };
  ExpectError(upload(png, "image/gif", "grid1"), 400, "gif");
  ExpectError(upload("plain text", "image/png", "grid1"), 400, "not a png");
  ExpectError(upload(std::string(6 << 20, 'x'), "image/png", "grid1"), 413, "6 MiB");
  ExpectError(upload(png, "image/png", "town1"), 403, "an official uploads");
  const Answer photo = upload(png, "image/png", "grid1");
  ASSERT_EQ(photo.status, 201) << photo.body;
  const std::string url = photo.json["photo"]["url"];
  const Answer bytes = Get(url, "town1");
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, png);
  EXPECT_EQ(bytes.content_type, "image/png");
  ExpectError(Get(url, "audit1"), 403, "auditor reads a photo");

  // Feedback, review.
  const int64_t version = photo.json["task"]["version"];
  ExpectError(act("submit", Json{{"version", version}, {"outcome", "maybe"}, {"feedback", "x"}}.dump(), "grid1"), 400, "outcome");
  ASSERT_EQ(act("submit", Json{{"version", version}, {"outcome", "confirmed"}, {"feedback", "门锁损坏，已报修"}}.dump(), "grid1").status, 200);
  ExpectError(act("close", Json{{"version", version + 1}}.dump(), "grid1"), 403, "the worker closes");
  const Answer closed = act("close", Json{{"version", version + 1}, {"note", "ok"}}.dump(), "town1");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(closed.json["task"]["state"], "closed");
  const Answer detail = Get(base, "town1");
  std::vector<std::string> actions;
  for (const Json& entry : detail.json["history"]) actions.push_back(entry["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"create", "accept", "start", "photo", "submit", "close"}));
  EXPECT_EQ(detail.json["photos"].size(), 1u);

  // The figures and the audit log.
  const Answer metrics = Get("/api/loop/metrics?period=2024-06&unit=" + grid_.substr(0, 9), "town1");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_GE(metrics.json["total"]["closed"].get<int64_t>(), 1);
  EXPECT_GE(metrics.json["total"]["outcomes"]["confirmed"].get<int64_t>(), 1);
  EXPECT_FALSE(metrics.json["rows"].empty());
  ExpectError(Get("/api/loop/metrics?period=2024-06", "grid1"), 403, "grid worker's metrics");
  const Answer audit = Get("/api/audit?action=task_close&limit=1000", "audit1");
  ASSERT_EQ(audit.status, 200);
  bool audited = false;
  for (const Json& entry : audit.json["items"]) audited = audited || entry["target"] == "task:" + id;
  EXPECT_TRUE(audited);
}

TEST_F(ServerTest, AnswersEqualTheCommandLine) {
  const std::string data = data_.string();
  struct Pair {
    std::string api, cli;
  };
  for (const Pair& pair : {Pair{"/api/report?unit=330106&period=2024-05", "report --unit 330106 --period 2024-05"},
                           Pair{"/api/report?unit=" + grid_.substr(0, 9) + "&period=2024Q1",
                                "report --unit " + grid_.substr(0, 9) + " --period 2024Q1"},
                           Pair{"/api/series?unit=3301&period=2024-05&indicator=criminal.filed&count=13",
                                "series --unit 3301 --period 2024-05 --indicator criminal.filed --count 13"},
                           Pair{"/api/breakdown?unit=330106&period=2024-W10&indicator=petition.total",
                                "breakdown --unit 330106 --period 2024-W10 --indicator petition.total"},
                           Pair{"/api/league?period=2024-05", "league --period 2024-05"},
                           Pair{"/api/clusters?unit=330106&period=2024-05", "clusters --unit 330106 --period 2024-05"}}) {
    const Answer api = Get(pair.api, "city1");
    ASSERT_EQ(api.status, 200) << pair.api << ": " << api.body.substr(0, 200);
    const testing::Output cli = testing::RunPingan(pair.cli + " --json", data);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    EXPECT_EQ(api.json, Json::parse(cli.out, nullptr, false)) << pair.api;
    // A second request is served from the cache and says the same.
    EXPECT_EQ(Get(pair.api, "city1").body, api.body);
  }
  const Answer bulletin = Get("/api/bulletin?unit=3301&period=2024-05", "city1");
  const Json cli = Json::parse(testing::RunPingan("bulletin --unit 3301 --period 2024-05 --json", data).out, nullptr, false);
  EXPECT_EQ(bulletin.json["zh"], cli["zh"]);
  EXPECT_EQ(bulletin.json["en"], cli["en"]);
  const Answer major = Get("/api/major?unit=3301&period=2024&limit=5", "city1");
  ASSERT_EQ(major.status, 200);
  const std::vector<std::string> lines = absl_lines(testing::RunPingan("major --unit 3301 --period 2024 --limit 5 --json", data).out);
  ASSERT_EQ(major.json["items"].size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(major.json["items"][i], Json::parse(lines[i]));
  // Exports: CSV with a BOM and a header row, XLSX as a zip.
  const Answer csv = Get("/api/export/league?period=2024-05&format=csv", "city1");
  ASSERT_EQ(csv.status, 200);
  EXPECT_THAT(csv.content_type, HasSubstr("text/csv"));
  EXPECT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
  const Answer xlsx = Get("/api/export/report?unit=330106&period=2024-05&format=xlsx", "city1");
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  // me: the latest full month of the data.
  const Answer me = Get("/api/me", "xihu1");
  EXPECT_EQ(me.json["default_period"], "2024-06");
  EXPECT_EQ(me.json["scopes"][0]["name"], "西湖区");
}

TEST_F(ServerTest, TheRiskMapCountsWhatTheReportCountsAndExplainsItsGrades) {
  const Answer risk = Get(std::string("/api/risk?level=town&period=2024-05&unit=") + kXihu, "xihu1");
  ASSERT_EQ(risk.status, 200) << risk.body.substr(0, 300);
  ASSERT_EQ(risk.json["key_types"].size(), 9u);
  ASSERT_FALSE(risk.json["units"].empty());
  int graded = 0;
  for (const auto& [grade, count] : risk.json["counts"].items()) graded += count.get<int>();
  EXPECT_EQ(graded, static_cast<int>(risk.json["units"].size()));
  for (const Json& unit : risk.json["units"]) {
    EXPECT_EQ(unit["code"].get<std::string>().substr(0, 6), kXihu);
    // The risk map's counts are the report's key-type figures for the same unit and period.
    const Answer report = Get("/api/report?period=2024-05&unit=" + unit["code"].get<std::string>(), "xihu1");
    ASSERT_EQ(report.status, 200);
    for (size_t k = 0; k < 9; ++k) {
      EXPECT_EQ(unit["counts"][k].get<double>(), report.json["key_types"][k]["value"].get<double>())
          << unit["name"] << " " << risk.json["key_types"][k]["id"];
    }
    // A grade above green needs events; the drivers are key types with more events than expected.
    if (unit["grade"] != "green") {
      double events = 0;
      for (const Json& count : unit["counts"]) events += count.get<double>();
      EXPECT_GT(events, 0) << unit["name"];
    }
  }
  const std::string town = risk.json["units"][0]["code"];
  const Answer explained = Get("/api/risk/unit?history=3&period=2024-05&unit=" + town, "xihu1");
  ASSERT_EQ(explained.status, 200) << explained.body.substr(0, 300);
  EXPECT_EQ(explained.json["grade"], risk.json["units"][0]["grade"]);
  ASSERT_EQ(explained.json["dimensions"].size(), 9u);
  ASSERT_EQ(explained.json["history"].size(), 3u);
  EXPECT_EQ(explained.json["history"][2]["period"], "2024-04");
  EXPECT_EQ(explained.json["history"][2]["grade"], explained.json["previous"]);
  for (const Json& driver : explained.json["drivers"]) {
    for (const Json& d : explained.json["dimensions"]) {
      if (d["key_type"] == driver) {
        EXPECT_GT(d["count"].get<double>(), d["expected"].get<double>());
      }
    }
  }
  // The map's polygons: one feature per unit of the level, named by code.
  const Answer map = Get(std::string("/api/geojson?level=town&unit=") + kXihu, "xihu1");
  ASSERT_EQ(map.status, 200);
  EXPECT_EQ(map.json["type"], "FeatureCollection");
  EXPECT_EQ(map.json["features"].size(), risk.json["units"].size());
  EXPECT_EQ(map.json["features"][0]["geometry"]["type"], "Polygon");
  // Scope: another district's map is refused; a level above the unit is a bad request.
  ExpectError(Get(std::string("/api/risk?level=town&unit=") + kShangcheng, "xihu1"), 403, "other district");
  ExpectError(Get("/api/risk?level=district&unit=" + grid_.substr(0, 9), "xihu1"), 400, "level above unit");
  ExpectError(Get("/api/risk?level=room", "admin1"), 400, "unknown level");
}

TEST_F(ServerTest, TrendsAreEverySeriesOfTheCatalogInOneAnswer) {
  for (const std::string& query : {std::string("unit=330106&period=2024-05&count=13"),
                                   std::string("unit=") + grid_ + "&period=2024Q1&count=5"}) {
    const Answer trends = Get("/api/trends?" + query, "city1");
    ASSERT_EQ(trends.status, 200) << trends.body.substr(0, 200);
    const Json catalog = Get("/api/catalog", "city1").json;
    std::vector<std::string> ids;
    for (const char* list : {"indicators", "key_types"}) {
      for (const Json& item : catalog[list]) ids.push_back(item["id"].get<std::string>());
    }
    ASSERT_EQ(trends.json["series"].size(), ids.size()) << query;
    for (size_t at = 0; at < ids.size(); ++at) {
      // Each is what GET /api/series answers for that indicator, in the catalog's order.
      const Answer one = Get("/api/series?" + query + "&indicator=" + ids[at], "city1");
      ASSERT_EQ(one.status, 200) << ids[at];
      EXPECT_EQ(trends.json["series"][at], one.json) << query << " " << ids[at];
    }
    EXPECT_EQ(trends.json["unit"], trends.json["series"][0]["unit"]);
  }
}

TEST_F(ServerTest, RejectsMalformedAndOversizedInputWithClearErrors) {
  for (const std::string& path :
       {std::string("/api/report?period=2024-13"), std::string("/api/report?unit=33x"),
        std::string("/api/report?unit=330106&unit=330102"), std::string("/api/report?period=1900-01-01..2024-01-01"),
        std::string("/api/series?indicator=criminal.filed&count=0"), std::string("/api/series?indicator=criminal.filed&count=x"),
        std::string("/api/trends?count=121"), std::string("/api/trends?period=2024-13"),
        std::string("/api/events?limit=100000"), std::string("/api/events?from=yesterday"),
        std::string("/api/events?after=garbage"), std::string("/api/export/report?format=pdf"),
        std::string("/api/geocode?q="), std::string("/api/units?q=") + std::string(100, 'a'),
        std::string("/api/report?period=%01"), std::string("/api/events?type=no.such.type")}) {
    ExpectError(Get(path, "admin1"), 400, path);
  }
  ExpectError(Get("/api/series?period=2024-05", "admin1"), 400, "series without indicator");
  ExpectError(Get("/api/series?indicator=nope&period=2024-05", "admin1"), 404, "unknown indicator");
  ExpectError(Get("/api/report?unit=330103", "admin1"), 404, "former unit");
  EXPECT_THAT(Get("/api/report?unit=330103", "admin1").json["error"]["message"].get<std::string>(), HasSubstr("拱墅区"));
  ExpectError(Get("/api/units/999999", "admin1"), 404, "unknown unit");
  ExpectError(Post("/api/login", "{not json", ""), 400, "login, bad JSON");
  ExpectError(Post("/api/login", R"({"username": 5})", ""), 400, "login, bad fields");
  ExpectError(Post("/api/login", R"({"username":"admin1","password":"wrong"})", ""), 401, "login, wrong password");
  ExpectError(Post("/api/geocode", R"({"q":"x"})", tokens_["admin1"]), 400, "geocode batch, not an array");
  ExpectError(Post("/api/geocode", Json(std::vector<std::string>(1001, "西湖区")).dump(), tokens_["admin1"]), 400,
              "geocode batch, too many");
  ExpectError(Post("/api/geocode", std::string(2 << 20, ' '), tokens_["admin1"]), 413, "body over the bound");
  // A batch within the bound answers in order.
  const Answer batch = Post("/api/geocode", R"(["西湖区","肖山区城厢街道","\u0001"])", tokens_["admin1"]);
  ASSERT_EQ(batch.status, 200) << batch.body;
  ASSERT_EQ(batch.json.size(), 3u);
  EXPECT_EQ(batch.json[0]["path"][2]["name"], "西湖区");
  EXPECT_EQ(batch.json[2]["status"], "invalid");
}

// Points over HTTP: the same answers as `pingan geocode --points`, in any coordinate system it
// reads; malformed points and parameters are 400s naming what is wrong.
TEST_F(ServerTest, GeocodesPointsAsTheCommandLineDoes) {
  const std::string data = data_.string();
  // Points across the demo city's extent; the command line says which lie in a grid.
  testing::TempDir dir;
  std::string lattice;
  for (double lat = 29.2; lat < 30.6; lat += 0.1) {
    for (double lon = 118.9; lon < 120.8; lon += 0.1) lattice += fmt::format("{:.4f},{:.4f}\n", lon, lat);
  }
  const testing::Output cli = testing::RunPingan("geocode --points < '" + dir.Write("points.txt", lattice).string() + "'", data);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const std::vector<std::string> lines = absl_lines(lattice), answers = absl_lines(cli.out);
  ASSERT_EQ(lines.size(), answers.size());
  std::vector<std::string> inside, outside;
  for (size_t at = 0; at < lines.size(); ++at) {
    (Json::parse(answers[at])["status"] == "matched" ? inside : outside).push_back(lines[at]);
  }
  ASSERT_GE(inside.size(), 3u) << "no point of the lattice lies in a grid";
  ASSERT_FALSE(outside.empty());
  // One at a time, each answered as the command line answers it.
  for (size_t at = 0; at < lines.size(); at += 7) {
    const Answer one = Get("/api/geocode?point=" + lines[at], "city1");
    ASSERT_EQ(one.status, 200) << lines[at] << ": " << one.body;
    EXPECT_EQ(one.json, Json::parse(answers[at])) << lines[at];
  }
  // A batch, with a line that cannot be read answered in its place.
  Json batch = Json::array({inside[0], outside[0], "120.1;30.2", inside[1]});
  const Answer many = Post("/api/geocode/points", batch.dump(), tokens_["xihu1"]);
  ASSERT_EQ(many.status, 200) << many.body;
  ASSERT_EQ(many.json.size(), 4u);
  EXPECT_EQ(many.json[0]["status"], "matched");
  EXPECT_EQ(many.json[1]["status"], "unmatched");
  EXPECT_EQ(many.json[1]["reason"], "outside");
  EXPECT_EQ(many.json[2]["status"], "invalid");
  EXPECT_EQ(many.json[2]["reason"], "expected lon,lat");
  EXPECT_EQ(many.json[3], Get("/api/geocode?point=" + inside[1], "city1").json);
  // The same places written as AutoNavi's or Baidu's maps give them (hundreds of metres off in
  // WGS-84 terms) land in the same grid, as on the command line with --coordinates.
  for (const Datum datum : {Datum::kGcj02, Datum::kBd09}) {
    std::string shifted_lines;
    std::vector<std::string> shifted;
    for (size_t at = 0; at < 3; ++at) {
      const ParsedPoint wgs = ParsePointLine(inside[at], false);
      const LonLat moved = FromWgs84(datum, LonLat{wgs.lon, wgs.lat});
      shifted.push_back(fmt::format("{:.9f},{:.9f}", moved.lon, moved.lat));
      shifted_lines += shifted.back() + "\n";
    }
    const testing::Output shifted_cli = testing::RunPingan(
        fmt::format("geocode --points --coordinates {} < '{}'", DatumName(datum), dir.Write("shifted.txt", shifted_lines).string()),
        data);
    ASSERT_EQ(shifted_cli.exit_code, 0) << shifted_cli.err;
    const std::vector<std::string> shifted_answers = absl_lines(shifted_cli.out);
    ASSERT_EQ(shifted_answers.size(), 3u);
    const Answer as_batch = Post(fmt::format("/api/geocode/points?coordinates={}", DatumName(datum)), Json(shifted).dump(),
                                 tokens_["city1"]);
    ASSERT_EQ(as_batch.status, 200) << as_batch.body;
    for (size_t at = 0; at < 3; ++at) {
      const Answer one = Get(fmt::format("/api/geocode?point={}&coordinates={}", shifted[at], DatumName(datum)), "city1");
      ASSERT_EQ(one.status, 200) << one.body;
      EXPECT_EQ(one.json, Json::parse(shifted_answers[at])) << shifted[at];
      EXPECT_EQ(as_batch.json[at], one.json);
      const Json wgs = Get("/api/geocode?point=" + inside[at], "city1").json;
      const Json& path = one.json["path"];
      const Json& wgs_path = wgs["path"];
      // The grid (the last step above a building) is the WGS-84 point's.
      auto grid_of = [](const Json& steps) {
        for (const Json& step : steps) {
          if (step["level"] == "grid") return step["code"].get<std::string>();
        }
        return std::string();
      };
      EXPECT_EQ(grid_of(path), grid_of(wgs_path)) << DatumName(datum) << " " << shifted[at];
      EXPECT_FALSE(grid_of(path).empty());
    }
    // Read as WGS-84 instead, some of them fall elsewhere or nowhere: the parameter matters.
    bool moved = false;
    for (size_t at = 0; at < 3; ++at) {
      moved = moved || Get("/api/geocode?point=" + shifted[at], "city1").json != Get("/api/geocode?point=" + inside[at], "city1").json;
    }
    EXPECT_TRUE(moved);
  }
  // Malformed input: a clear 400, naming the parameter.
  for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
           {"/api/geocode?point=120.1", "point: expected lon,lat"},
           {"/api/geocode?point=abc,30", "point: not a number"},
           {"/api/geocode?point=200,30", "point: longitude outside"},
           {"/api/geocode?point=nan,30", "point: not a finite number"},
           {"/api/geocode?point=120,30&point=121,30", "point: given more than once"},
           {"/api/geocode?point=" + std::string(200, '1'), "point: longer than"},
           {"/api/geocode?point=120.1,30.2&q=%E8%A5%BF%E6%B9%96%E5%8C%BA", "not both"},
           {"/api/geocode?point=120.1,30.2&coordinates=Mars", "coordinates: WGS-84, GCJ-02"},
           {"/api/geocode?coordinates=GCJ-02", "point: lon,lat is required"},
           {"/api/geocode", "q: an address is required"}}) {
    const Answer answer = Get(path, "city1");
    ExpectError(answer, 400, path);
    EXPECT_THAT(answer.json["error"]["message"].get<std::string>(), HasSubstr(what)) << path;
  }
  ExpectError(Post("/api/geocode/points", R"({"points":["120,30"]})", tokens_["city1"]), 400, "points, not an array");
  ExpectError(Post("/api/geocode/points", R"([[120,30]])", tokens_["city1"]), 400, "points, not strings");
  ExpectError(Post("/api/geocode/points", Json(std::vector<std::string>(1001, "120,30")).dump(), tokens_["city1"]), 400,
              "points, too many");
  ExpectError(Post("/api/geocode/points?coordinates=UTM", R"(["120,30"])", tokens_["city1"]), 400, "points, bad system");
  ExpectError(Post("/api/geocode/points", "[\"120,30\"", tokens_["city1"]), 400, "points, cut JSON");
  ExpectError(Post("/api/geocode/points", std::string(2 << 20, ' '), tokens_["city1"]), 413, "points, over the bound");
  // Readers only, as for addresses.
  ExpectError(Post("/api/geocode/points", R"(["120,30"])", tokens_["audit1"]), 403, "auditor");
  ExpectError(Get("/api/geocode?point=120,30", "audit1"), 403, "auditor");
}

// The events behind a figure: /api/events?indicator&unit&period lists exactly what the report
// counts there (a count is the number of events listed, a sum the sum of their attribute), page
// by page; for indicators and key types, at the city, a district, a management unit and a grid.
TEST_F(ServerTest, EventsOfAnIndicatorAreTheRecordsTheReportCounts) {
  const Answer catalog = Get("/api/catalog", "city1");
  ASSERT_EQ(catalog.status, 200);
  size_t compared = 0, nonzero = 0;
  // 330190: 西湖风景名胜区, a management unit governing 西湖街道, coded 330106008.
  for (const std::string& unit : {std::string("3301"), std::string("330106"), std::string("330190"), grid_}) {
    for (const std::string& period : {std::string("2024-05"), std::string("2024Q1")}) {
      const Answer report = Get("/api/report?unit=" + unit + "&period=" + period, "city1");
      ASSERT_EQ(report.status, 200) << report.body.substr(0, 200);
      for (const char* group : {"indicators", "key_types"}) {
        for (const Json& figure : report.json[group]) {
          const std::string id = figure["id"];
          // The measure: count, or the sum of an attribute (from the catalog).
          std::string sum_of;
          for (const Json& def : catalog.json[group]) {
            if (def["id"] == id && def["measure"].get<std::string>().starts_with("sum:")) {
              sum_of = def["measure"].get<std::string>().substr(4);
            }
          }
          double total = 0;
          size_t listed = 0;
          std::string after;
          for (int page = 0; page < 100; ++page) {
            const Answer events = Get("/api/events?limit=1000&indicator=" + id + "&unit=" + unit + "&period=" + period +
                                          (after.empty() ? "" : "&after=" + after),
                                      "city1");
            ASSERT_EQ(events.status, 200) << id << " " << events.body.substr(0, 200);
            for (const Json& item : events.json["items"]) {
              ++listed;
              EXPECT_NE(item["status"], "withdrawn") << id;
              if (!sum_of.empty() && item["attributes"].contains(sum_of)) total += item["attributes"][sum_of].get<double>();
            }
            if (events.json["next"].is_null()) break;
            after = events.json["next"];
          }
          const double value = figure["value"].is_number() ? figure["value"].get<double>() : 0;
          EXPECT_NEAR(sum_of.empty() ? static_cast<double>(listed) : total, value, 1e-6)
              << id << " at " << unit << " in " << period << (sum_of.empty() ? "" : ", the sum of " + sum_of);
          ++compared;
          nonzero += value > 0;
        }
      }
    }
  }
  EXPECT_GE(compared, 8u * 42u);
  EXPECT_GE(nonzero, 60u) << "too few figures above zero to tell anything";
  // Without an indicator too, a district's events are those of its governance subtree, and
  // small pages (where the store's limit meets events of towns governed from elsewhere) give
  // the same events as one large page.
  auto listing = [&](const std::string& limit) {
    std::vector<int64_t> ids;
    std::string cursor;
    for (int page = 0; page < 2000; ++page) {
      const Answer answer = Get("/api/events?unit=330106&from=2024-01-01&to=2024-07-01&limit=" + limit +
                                    (cursor.empty() ? "" : "&after=" + cursor),
                                "city1");
      EXPECT_EQ(answer.status, 200) << answer.body;
      for (const Json& item : answer.json["items"]) ids.push_back(item["id"]);
      if (answer.json["next"].is_null() || answer.status != 200) break;
      cursor = answer.json["next"];
    }
    return ids;
  };
  const std::vector<int64_t> large = listing("1000"), small = listing("7");
  EXPECT_GT(large.size(), 50u);
  EXPECT_EQ(small, large);
  // First pages of two from each day: where the store's window of three rows holds events of
  // 西湖街道 (governed by 西湖风景名胜区), the page is still filled from the rows after them.
  for (int day = 1; day <= 31; ++day) {
    const std::string from = fmt::format("&from=2024-03-{:02d}&to=2024-07-01", day);
    const Answer two = Get("/api/events?unit=330106&limit=2" + from, "city1");
    const Answer many = Get("/api/events?unit=330106&limit=1000" + from, "city1");
    ASSERT_EQ(two.status, 200);
    ASSERT_GE(many.json["items"].size(), 2u) << from;
    ASSERT_EQ(two.json["items"].size(), 2u) << from;
    for (size_t i = 0; i < 2; ++i) EXPECT_EQ(two.json["items"][i]["id"], many.json["items"][i]["id"]) << from;
    EXPECT_FALSE(two.json["next"].is_null()) << from;
  }
  // Errors: an unknown indicator is a 404, a period with from/to or a bad period a 400.
  ExpectError(Get("/api/events?indicator=no.such", "city1"), 404, "unknown indicator");
  ExpectError(Get("/api/events?indicator=criminal.filed&period=2024-05&from=2024-05-01", "city1"), 400, "period and from");
  ExpectError(Get("/api/events?indicator=criminal.filed&period=2024-13", "city1"), 400, "bad period");
  // Scope holds: a district analyst asking for the city is refused.
  ExpectError(Get("/api/events?indicator=criminal.filed&period=2024-05&unit=3301", "xihu1"), 403, "outside the scope");
}

// The API finds a figure's events through the cube; `pingan events --indicator` scans the store
// with the same selection. Both give the same events in the same order, page by page, for whole
// periods, bounds inside a day, a type within the measure, and the cursor of each page.
TEST_F(ServerTest, EventsOfAFigureFromTheCubeEqualAScanOfTheStore) {
  struct Case {
    std::string unit, indicator, from, to, type;
  };
  const std::vector<Case> cases = {
      {"3301", "criminal.filed", "2024-05-01", "2024-06-01", ""},
      {"3301", "key.dispute", "2024-06-01", "2024-06-08", ""},
      {"3301", "criminal.filed", "2024-05-01", "2024-06-01", "criminal.theft"},
      {"3301", "petition.total", "2024-03-02T09:30:00", "2024-03-05T17:45:10", ""},
      {kXihu, "traffic.loss_yuan", "2024-01-01", "2024-07-01", ""},
      {kXihu, "litigation.civil", "2024-02-01", "2024-03-01", "litigation.*"},
      {"330190", "key.dispute", "2024-01-01", "2024-07-01", ""},
      {grid_, "key.dispute", "2023-01-01", "2024-07-01", ""},
      {grid_.substr(0, 9), "criminal.solved", "2024-01-01", "2024-07-01", ""},
  };
  size_t listed = 0, nonempty = 0;
  for (const Case& c : cases) {
    const std::string what = c.unit + " " + c.indicator + " " + c.from + ".." + c.to + " " + c.type;
    const testing::Output scan = testing::RunPingan(
        "events --json --unmasked --unit " + c.unit + " --indicator " + c.indicator + " --from " + c.from + " --to " + c.to +
            (c.type.empty() ? "" : " --type '" + c.type + "'"),
        data_.string());
    ASSERT_EQ(scan.exit_code, 0) << what << ": " << scan.err;
    std::vector<int64_t> expected;
    for (const std::string& line : absl_lines(scan.out)) {
      if (!line.empty()) expected.push_back(Json::parse(line)["id"]);
    }
    for (const std::string limit : {"3", "1000"}) {
      std::vector<int64_t> ids;
      std::string after;
      for (int page = 0; page < 5000; ++page) {
        const Answer answer = Get("/api/events?indicator=" + c.indicator + "&unit=" + c.unit + "&from=" + c.from +
                                      "&to=" + c.to + "&limit=" + limit + (c.type.empty() ? "" : "&type=" + c.type) +
                                      (after.empty() ? "" : "&after=" + after),
                                  "city1");
        ASSERT_EQ(answer.status, 200) << what << ": " << answer.body.substr(0, 200);
        for (const Json& item : answer.json["items"]) ids.push_back(item["id"]);
        EXPECT_LE(answer.json["items"].size(), static_cast<size_t>(std::stoi(limit))) << what;
        if (answer.json["next"].is_null()) break;
        EXPECT_EQ(answer.json["items"].size(), static_cast<size_t>(std::stoi(limit))) << what << ": a short page with a next";
        after = answer.json["next"];
      }
      EXPECT_EQ(ids, expected) << what << ", pages of " << limit;
    }
    listed += expected.size();
    nonempty += !expected.empty();
    std::cout << what << ": " << expected.size() << " events\n";
  }
  EXPECT_GT(listed, 150u) << "too few events to tell anything";
  EXPECT_GE(nonempty, 7u);
}

// 事件明细 exported: the rows of /api/export/events are the listing's events in its order, with
// their labels, personal data masked; an export needs a figure (an indicator), CSV or XLSX.
TEST_F(ServerTest, TheEventsOfAFigureExportAsTheyAreListed) {
  const std::string query = "indicator=key.dispute&unit=3301&from=2024-06-01&to=2024-06-15";
  std::vector<std::string> listed;  // record numbers, in the listing's order
  std::string after;
  for (int page = 0; page < 100; ++page) {
    const Answer answer = Get("/api/events?limit=1000&" + query + (after.empty() ? "" : "&after=" + after), "city1");
    ASSERT_EQ(answer.status, 200) << answer.body.substr(0, 200);
    for (const Json& item : answer.json["items"]) listed.push_back(item["source_id"]);
    if (answer.json["next"].is_null()) break;
    after = answer.json["next"];
  }
  ASSERT_GT(listed.size(), 20u);
  const Answer csv = Get("/api/export/events?format=csv&" + query, "city1");
  ASSERT_EQ(csv.status, 200) << csv.body.substr(0, 200);
  EXPECT_THAT(csv.content_type, HasSubstr("text/csv"));
  ASSERT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
  std::vector<std::vector<std::string>> rows;
  CsvStreamParser parser("export", [&](const CsvRow& row) {
    rows.emplace_back(row.fields.begin(), row.fields.end());
    return absl::OkStatus();
  });
  ASSERT_TRUE(parser.Feed(csv.body.data() + 3, csv.body.size() - 3).ok());
  ASSERT_TRUE(parser.Finish().ok());
  ASSERT_EQ(rows.size(), listed.size() + 1);
  const std::vector<std::string> header = rows.front();
  ASSERT_GE(header.size(), 10u);
  EXPECT_EQ(header[0], "时间");
  EXPECT_EQ(header[3], "记录号");
  // The attributes of the measure's types are columns of their own (a dispute call's reporter).
  const auto phone = std::find(header.begin(), header.end(), "联系电话");
  ASSERT_NE(phone, header.end()) << fmt::format("{}", fmt::join(header, ","));
  const size_t phone_column = static_cast<size_t>(phone - header.begin());
  size_t phones = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), header.size()) << i;
    EXPECT_EQ(rows[i][3], listed[i - 1]) << "row " << i;
    EXPECT_EQ(rows[i][1], "纠纷 (110)") << "row " << i;
    const std::string& number = rows[i][phone_column];
    if (number.empty()) continue;
    ++phones;
    EXPECT_NE(number.find('*'), std::string::npos) << "an unmasked phone in row " << i;
    EXPECT_EQ(std::count_if(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }), 7) << number;
  }
  EXPECT_GT(phones, 0u) << "no reporter's phone to see masked";
  // English labels; XLSX.
  const Answer english = Get("/api/export/events?format=csv&lang=en&" + query, "city1");
  ASSERT_EQ(english.status, 200);
  EXPECT_EQ(english.body.substr(3, 6), "\"Time\"");
  const Answer xlsx = Get("/api/export/events?format=xlsx&" + query, "city1");
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  // Refused: no figure, personal data without the policy's leave, a unit outside the scope.
  ExpectError(Get("/api/export/events?format=csv&unit=3301&period=2024-06", "city1"), 400, "events without an indicator");
  ExpectError(Get("/api/export/events?format=csv&unmasked=1&" + query, "admin1"), 403, "unmasked, not in the policy");
  ExpectError(Get("/api/export/events?format=csv&indicator=key.dispute&unit=3301&period=2024-06", "xihu1"), 403,
              "outside the scope");
  ExpectError(Get("/api/export/events?format=csv&indicator=nope&period=2024-06", "city1"), 404, "unknown indicator");
  // More rows than the server exports (2,000 here, 100,000 by default) are refused, not cut short.
  const Answer many = Get("/api/export/events?format=csv&indicator=key.dispute&unit=3301&from=2023-01-01&to=2024-07-01", "city1");
  ExpectError(many, 400, "over the export's rows");
  EXPECT_THAT(many.body, HasSubstr("more than 2000 events"));
}

TEST_F(ServerTest, EventsPaginateWithoutGapsOrRepeatsAndMaskPersonalData) {
  const std::string base = "/api/events?unit=3301&from=2024-06-01&to=2024-06-04&limit=";
  const Answer all = Get(base + "1000", "city1");
  ASSERT_EQ(all.status, 200);
  ASSERT_GT(all.json["items"].size(), 20u);
  std::vector<Json> paged;
  std::string after;
  for (int page = 0; page < 200; ++page) {
    const Answer answer = Get(base + "7" + (after.empty() ? "" : "&after=" + after), "city1");
    ASSERT_EQ(answer.status, 200) << answer.body;
    for (const Json& item : answer.json["items"]) paged.push_back(item);
    if (answer.json["next"].is_null()) break;
    after = answer.json["next"];
  }
  ASSERT_EQ(paged.size(), all.json["items"].size());
  for (size_t i = 0; i < paged.size(); ++i) EXPECT_EQ(paged[i]["id"], all.json["items"][i]["id"]);
  // Personal attributes and numbers in addresses are masked; no analyst may ask otherwise.
  bool saw_personal = false;
  for (const Json& item : all.json["items"]) {
    for (const auto& [name, value] : item["attributes"].items()) {
      if (name == "reporter_phone" || name == "id_number") {
        saw_personal = true;
        EXPECT_THAT(value.get<std::string>(), HasSubstr("*")) << name;
      }
    }
  }
  EXPECT_TRUE(saw_personal);
  ExpectError(Get(base + "5&unmasked=1", "city1"), 403, "unmasked for an analyst");
}

TEST_F(ServerTest, IngestOverHttpReachesTheReportAndTheLiveFeed) {
  std::string key;
  {
    auto auth = AuthStore::Open(data_);
    ASSERT_TRUE(auth.ok());
    auto made = (*auth)->AddSourceKey("police", "test");
    ASSERT_TRUE(made.ok()) << made.status();
    key = made->key;
  }
  auto homicides = [&] {
    const Answer report = Get(std::string("/api/report?unit=") + kXihu + "&period=2024-06", "city1");
    for (const Json& line : report.json["indicators"]) {
      if (line["id"] == "criminal.homicide") return line["value"].get<double>();
    }
    return -1.0;
  };
  const double before = homicides();
  ASSERT_GE(before, 0);
  // The risk map's count of homicides for the district, for the same check.
  auto map_homicides = [&] {
    const Answer risk = Get("/api/risk?level=district&period=2024-06&unit=3301", "city1");
    size_t key = 0;
    while (key < risk.json["key_types"].size() && risk.json["key_types"][key]["id"] != "key.homicide") ++key;
    for (const Json& unit : risk.json["units"]) {
      if (unit["code"].get<std::string>().substr(0, 6) == kXihu) return unit["counts"][key].get<double>();
    }
    return -1.0;
  };
  const double map_before = map_homicides();
  ASSERT_GE(map_before, 0);

  // A live-feed subscriber for the city (the token as a parameter, as EventSource sends it).
  std::atomic<bool> got_major{false};
  std::string received;
  std::mutex received_mutex;
  std::thread listener([&] {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    client.Get(("/api/major/stream?unit=3301&token=" + tokens_["city1"]).c_str(), [&](const char* data, size_t size) {
      std::lock_guard lock(received_mutex);
      received.append(data, size);
      if (received.find("event: major") != std::string::npos) got_major = true;
      return !got_major.load();
    });
  });
  // The stream answers at once (the page can say "connected" without waiting for news).
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard lock(received_mutex);
      if (!received.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  {
    std::lock_guard lock(received_mutex);
    EXPECT_THAT(received, HasSubstr(": connected"));
  }

  const std::string body =
      R"({"source":"police","source_id":"HTTP-1","type":"criminal.homicide","occurred_at":"2024-06-30T10:00:00+08:00","address":"浙江省杭州市西湖区","attributes":{"solved":false}})"
      "\n"
      R"({"source":"police","source_id":"HTTP-2","type":"criminal.homicide","occurred_at":"not a time","address":"西湖区"})"
      "\n";
  const Answer refused = Post("/api/ingest", body, "not-a-key", "application/x-ndjson");
  ExpectError(refused, 401, "ingest with a bad key");
  const Answer summary = Post("/api/ingest", body, key, "application/x-ndjson");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.json["read"], 2);
  EXPECT_EQ(summary.json["inserted"], 1);
  // The same body again changes nothing.
  EXPECT_EQ(Post("/api/ingest", body, key, "application/x-ndjson").json["unchanged"], 1);

  // The report shows it within a second or so (the cube follows the store; the cache follows the cube).
  double after = before;
  for (int i = 0; i < 40 && after == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = homicides();
  }
  EXPECT_EQ(after, before + 1);
  // The map is current as soon as the report is (both follow the cube's sequence).
  EXPECT_EQ(map_homicides(), map_before + 1);
  // The live feed carried it.
  for (int i = 0; i < 50 && !got_major; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(got_major.load());
  listener.join();
  {
    std::lock_guard lock(received_mutex);
    EXPECT_THAT(received, HasSubstr("HTTP-1"));
  }
  // The bad record is in quarantine, for admins.
  const Answer quarantine = Get("/api/quarantine?limit=1000", "admin1");
  ASSERT_EQ(quarantine.status, 200);
  bool found = false;
  for (const Json& entry : quarantine.json["items"]) found = found || entry["source_id"] == "HTTP-2";
  EXPECT_TRUE(found);
  // A body in GBK (浙江省杭州市, byte by byte) is read in the charset its Content-Type names;
  // without one it is bad UTF-8, and a charset iconv does not know is refused.
  const std::string gbk_body =
      R"({"source":"police","source_id":"HTTP-3","type":"criminal.theft","occurred_at":"2024-06-30T10:00:00+08:00","address":")"
      "\xD5\xE3\xBD\xAD\xCA\xA1\xBA\xBC\xD6\xDD\xCA\xD0\"}\n";
  const Answer as_utf8 = Post("/api/ingest", gbk_body, key, "application/x-ndjson");
  ASSERT_EQ(as_utf8.status, 200) << as_utf8.body;
  EXPECT_EQ(as_utf8.json["inserted"], 0);
  const Answer as_gbk = Post("/api/ingest", gbk_body, key, "application/x-ndjson; charset=\"GBK\"");
  ASSERT_EQ(as_gbk.status, 200) << as_gbk.body;
  EXPECT_EQ(as_gbk.json["inserted"], 1);
  ExpectError(Post("/api/ingest", gbk_body, key, "application/x-ndjson; charset=klingon"), 400, "unknown charset");
  // CSV when the Content-Type says so: a header line, then records, in the canonical columns
  // or the source's own (police: 警情编号, 案件类别, ...); in GBK when the charset says so.
  const std::string csv_body =
      "source_id,type,occurred_at,address,attr.solved\r\n"
      "HTTP-4,criminal.theft,2024-06-30T10:00:00+08:00,浙江省杭州市西湖区,false\r\n"
      "HTTP-5,criminal.theft,not a time,浙江省杭州市西湖区,false\r\n";
  auto ingest_as = [&](const std::string& payload, const char* type) {
    Answer answer = Post("/api/ingest", payload, key, type);
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer;
  };
  const Answer as_csv = ingest_as(csv_body, "text/csv; charset=utf-8");
  EXPECT_EQ(as_csv.json["read"], 2);
  EXPECT_EQ(as_csv.json["inserted"], 1);
  const Answer csv_gbk = Post("/api/ingest",
                              "\xBE\xAF\xC7\xE9\xB1\xE0\xBA\xC5,\xB0\xB8\xBC\xFE\xC0\xE0\xB1\xF0,"
                              "\xB7\xA2\xB0\xB8\xCA\xB1\xBC\xE4,\xB7\xA2\xB0\xB8\xB5\xD8\xD6\xB7\n"
                              "HTTP-6,0103,2024-06-30 10:00:00,\xD5\xE3\xBD\xAD\xCA\xA1\xBA\xBC\xD6\xDD\xCA\xD0\n",
                              key, "text/csv; charset=GBK");
  ASSERT_EQ(csv_gbk.status, 200) << csv_gbk.body;
  EXPECT_EQ(csv_gbk.json["inserted"], 1) << csv_gbk.body;
  // The same CSV sent as JSON Lines (no Content-Type, as curl --data-binary without -H sends a
  // form type) is read as JSON Lines: nothing inserted, each line quarantined.
  const Answer csv_as_json = Post("/api/ingest", csv_body, key, "application/x-www-form-urlencoded");
  ASSERT_EQ(csv_as_json.status, 200) << csv_as_json.body;
  EXPECT_EQ(csv_as_json.json["inserted"], 0);
  // A gzip body (Content-Encoding: gzip) is inflated first; one that is not whole gzip is
  // refused before anything is read, and an encoding the server does not read is a 415.
  auto post_coded = [&](const std::string& payload, const std::string& coding, const char* type) {
    return Post("/api/ingest", payload, key, type, httplib::Headers{{"Content-Encoding", coding}});
  };
  const std::string csv_gz = server_internal::Gzip(
      "source_id,type,occurred_at,address\nHTTP-7,criminal.theft,2024-06-30T10:00:00+08:00,浙江省杭州市西湖区\n");
  const Answer gzipped = post_coded(csv_gz, "gzip", "text/csv");
  ASSERT_EQ(gzipped.status, 200) << gzipped.body;
  EXPECT_EQ(gzipped.json["inserted"], 1);
  ExpectError(post_coded(csv_gz.substr(0, csv_gz.size() - 9), "gzip", "text/csv"), 400, "a cut gzip body");
  ExpectError(post_coded(csv_body, "gzip", "text/csv"), 400, "a body that is not gzip");
  ExpectError(post_coded(csv_body, "br", "text/csv"), 415, "brotli");
  ExpectError(post_coded(server_internal::Gzip(std::string((16 << 20) * 10 + 1, '\n')), "gzip", "text/csv"), 413,
              "a gzip body inflating past ten times the bound");
  // application/json holding one array of records (pretty-printed, as a Java client may send it);
  // one that is not a whole array is a 400 storing nothing; JSON Lines sent as application/json
  // are still JSON Lines.
  const std::string array_body =
      "[\n  {\"source_id\": \"HTTP-9\", \"type\": \"criminal.theft\",\n   \"occurred_at\": "
      "\"2024-06-30T10:00:00+08:00\", \"address\": \"浙江省杭州市西湖区\"},\n"
      "  {\"source_id\": \"HTTP-10\", \"type\": \"criminal.theft\", \"occurred_at\": \"2024-06-30T10:00:00+08:00\"}\n]";
  EXPECT_EQ(ingest_as(array_body, "application/json").json["inserted"], 2);
  ExpectError(Post("/api/ingest", array_body.substr(0, array_body.size() - 3), key, "application/json"), 400,
              "a cut JSON array");
  EXPECT_EQ(Post("/api/ingest", body, key, "application/json").json["unchanged"], 1);
  // An Excel workbook, by its media type; bytes that are no workbook are a 400 storing nothing.
  const char* xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  {
    const fs::path path = fs::path(data_) / "upload.xlsx";
    lxw_workbook* book = workbook_new(path.c_str());
    lxw_worksheet* sheet = workbook_add_worksheet(book, nullptr);
    const char* cells[2][4] = {{"source_id", "type", "occurred_at", "address"},
                               {"HTTP-8", "criminal.theft", "2024-06-30T10:00:00+08:00", "浙江省杭州市西湖区"}};
    for (int row = 0; row < 2; ++row) {
      for (int col = 0; col < 4; ++col) worksheet_write_string(sheet, row, col, cells[row][col], nullptr);
    }
    ASSERT_EQ(workbook_close(book), LXW_NO_ERROR);
    std::ifstream in(path, std::ios::binary);
    const std::string workbook((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Answer sheet_answer = Post("/api/ingest", workbook, key, xlsx_type);
    ASSERT_EQ(sheet_answer.status, 200) << sheet_answer.body;
    EXPECT_EQ(sheet_answer.json["inserted"], 1);
    ExpectError(Post("/api/ingest", csv_body, key, xlsx_type), 400, "a CSV body sent as a workbook");
  }
  // A revoked key is refused; the audit log has the ingest and the logins.
  {
    auto auth = AuthStore::Open(data_);
    ASSERT_TRUE(auth.ok());
    ASSERT_TRUE((*auth)->RevokeSourceKey("police", "test").ok());
  }
  int status = 0;
  for (int i = 0; i < 40 && status != 401; ++i) {
    status = Post("/api/ingest", body, key, "application/x-ndjson").status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status, 401);
  const Answer audit = Get("/api/audit?action=ingest", "audit1");
  ASSERT_EQ(audit.status, 200);
  ASSERT_FALSE(audit.json["items"].empty());
  EXPECT_EQ(audit.json["items"][0]["actor"], "source:police");
  EXPECT_FALSE(Get("/api/audit?action=login", "audit1").json["items"].empty());
  EXPECT_EQ(audit.body.find(key), std::string::npos);
}

TEST_F(ServerTest, LogoutEndsTheSession) {
  const std::string token = Login("grid1");
  httplib::Headers headers{{"Authorization", "Bearer " + token}};
  ASSERT_EQ(Client().Get("/api/me", headers)->status, 200);
  EXPECT_EQ(Client().Post("/api/logout", headers, "", "application/json")->status, 204);
  EXPECT_EQ(Client().Get("/api/me", headers)->status, 401);
  // The other sessions of the suite still work.
  EXPECT_EQ(Get("/api/me", "grid1").status, 200);
}

}  // namespace
}  // namespace pingan
