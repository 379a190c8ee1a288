// AuthStore on a fresh pingan.db: users, logins, sessions (expiry, logout, disabling, another
// process's changes), the failed-login slowdown and lockout, source keys, the audit chain, and
// InScope. Password hashing runs at libsodium's minimum limits so that the suite stays fast.
#include "auth/auth.h"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kPassword[] = "correct horse battery staple";

// Runs one SQL statement on the database outside AuthStore; the SQLite error text, or "".
std::string RawSql(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return "cannot open";
  sqlite3_busy_timeout(db, 2000);
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : "error";
  }
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// Every text of every row of `table`, concatenated.
std::string TableText(const fs::path& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, ("SELECT * FROM " + table).c_str(), -1, &statement, nullptr) == SQLITE_OK) {
    while (sqlite3_step(statement) == SQLITE_ROW) {
      for (int column = 0; column < sqlite3_column_count(statement); ++column) {
        const unsigned char* text = sqlite3_column_text(statement, column);
        if (text != nullptr) out += reinterpret_cast<const char*>(text);
        out += "|";
      }
      out += "\n";
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Create(db_path());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Finish().ok());
  }

  fs::path db_path() const { return dir_.path() / "pingan.db"; }

  AuthOptions Options() {
    AuthOptions options;
    options.pwhash_opslimit = 1;
    options.pwhash_memlimit = 8192;
    options.clock = [this] { return now_.load(); };
    options.delay_step = 1ms;
    options.max_delay = 5ms;
    return options;
  }

  std::unique_ptr<AuthStore> Open(AuthOptions options) {
    auto auth = AuthStore::Open(dir_.path(), std::move(options));
    EXPECT_TRUE(auth.ok()) << auth.status();
    return auth.ok() ? *std::move(auth) : nullptr;
  }
  std::unique_ptr<AuthStore> Open() { return Open(Options()); }

  // Adds `name` as a district analyst of 西湖区 with kPassword.
  void AddAnalyst(AuthStore& auth, const std::string& name) {
    auto user = auth.AddUser(name, Role::kDistrictAnalyst, {"330106"}, kPassword, "admin");
    ASSERT_TRUE(user.ok()) << user.status();
  }

  std::vector<std::string> Actions(AuthStore& auth) {
    auto entries = auth.ListAudit(AuditFilter{.limit = -1});
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::vector<std::string> actions;
    if (entries.ok()) {
      for (const AuditEntry& entry : *entries) actions.push_back(entry.action);
    }
    return actions;
  }

  testing::TempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000};
};

TEST(Roles, NamesRoundTrip) {
  for (Role role : {Role::kAdmin, Role::kCityAnalyst, Role::kDistrictAnalyst, Role::kTownOfficial, Role::kGridWorker,
                    Role::kAuditor}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role) << RoleName(role);
  }
  EXPECT_EQ(RoleName(Role::kGridWorker), "grid_worker");
  EXPECT_EQ(ParseRole("root"), std::nullopt);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
}

TEST(AuthOpen, NeedsAPinganDatabase) {
  testing::TempDir dir;
  EXPECT_EQ(AuthStore::Open(dir.path()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(dir.path() / "pingan.db"));
}

TEST_F(AuthTest, AddListFindDisableAndPasswd) {
  auto auth = Open();
  auto added = auth->AddUser("wang.fang", Role::kDistrictAnalyst, {"330106000000000000000000000", "330110", "330106"},
                             kPassword, "admin");
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_GT(added->id, 0);
  EXPECT_THAT(added->scopes, ElementsAre("330106", "330110"));  // normalised, sorted, deduplicated
  EXPECT_EQ(added->created_at, now_.load());
  ASSERT_TRUE(auth->AddUser("root", Role::kAdmin, {}, "another password", "cli").ok());
  ASSERT_TRUE(auth->AddUser("li_4", Role::kGridWorker, {"330106004003001"}, "grid pass", "cli").ok());

  auto users = auth->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "li_4");  // by name
  EXPECT_EQ((*users)[0].scopes, std::vector<std::string>{"330106004003001"});
  EXPECT_EQ((*users)[1].name, "root");
  EXPECT_TRUE((*users)[1].scopes.empty());
  EXPECT_EQ((*users)[2].name, "wang.fang");
  EXPECT_EQ((*users)[2].role, Role::kDistrictAnalyst);

  auto found = auth->FindUser("wang.fang");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_FALSE((*found)->disabled);
  EXPECT_THAT((*found)->scopes, ElementsAre("330106", "330110"));
  auto missing = auth->FindUser("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(auth->DisableUser("wang.fang", "root").ok());
  EXPECT_TRUE((*auth->FindUser("wang.fang"))->disabled);
  EXPECT_EQ(auth->DisableUser("nobody", "root").code(), absl::StatusCode::kNotFound);

  // A new password replaces the old one at login.
  ASSERT_TRUE(auth->Login("li_4", "grid pass", "test").ok());
  ASSERT_TRUE(auth->SetPassword("li_4", "new grid pass", "root").ok());
  EXPECT_EQ(auth->Login("li_4", "grid pass", "test").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth->Login("li_4", "new grid pass", "test").ok());
  EXPECT_EQ(auth->SetPassword("nobody", "x", "root").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(auth->SetPassword("li_4", "", "root").code(), absl::StatusCode::kInvalidArgument);

  // Another instance on the same database sees the same users.
  auto second = Open();
  auto again = second->ListUsers();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
}

TEST_F(AuthTest, AddUserRefusesBadInput) {
  auto auth = Open();
  auto code_of = [&](std::string_view name, Role role, std::vector<std::string> scopes, std::string_view password) {
    return auth->AddUser(name, role, scopes, password, "admin").status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  for (std::string_view name : {"", "two words", "semi;colon", "名字", "tab\tname", "quote'"}) {
    EXPECT_EQ(code_of(name, Role::kAdmin, {}, kPassword), kInvalid) << name;
  }
  EXPECT_EQ(code_of(std::string(65, 'a'), Role::kAdmin, {}, kPassword), kInvalid);
  EXPECT_TRUE(auth->AddUser(std::string(64, 'a'), Role::kAdmin, {}, kPassword, "admin").ok());
  EXPECT_EQ(code_of("pw_empty", Role::kAdmin, {}, ""), kInvalid);
  EXPECT_EQ(code_of("pw_long", Role::kAdmin, {}, std::string(1025, 'p')), kInvalid);
  EXPECT_TRUE(auth->AddUser("pw_1024", Role::kAdmin, {}, std::string(1024, 'p'), "admin").ok());
  // Scopes: required below admin and auditor, and each a code or level prefix, not the nation.
  EXPECT_EQ(code_of("no_scope", Role::kDistrictAnalyst, {}, kPassword), kInvalid);
  EXPECT_EQ(code_of("no_scope", Role::kGridWorker, {}, kPassword), kInvalid);
  EXPECT_TRUE(auth->AddUser("auditor1", Role::kAuditor, {}, kPassword, "admin").ok());
  for (const char* scope : {"33010", "abc", "3301x6", "000000", "", "3301060000"}) {
    EXPECT_EQ(code_of("bad_scope", Role::kCityAnalyst, {scope}, kPassword), kInvalid) << scope;
  }
  EXPECT_EQ(code_of("many", Role::kCityAnalyst, std::vector<std::string>(65, "3301"), kPassword), kInvalid);
  EXPECT_FALSE(auth->FindUser("bad_scope")->has_value());
  // Names are unique.
  ASSERT_TRUE(auth->AddUser("taken", Role::kCityAnalyst, {"3301"}, kPassword, "admin").ok());
  EXPECT_EQ(code_of("taken", Role::kAdmin, {}, "other"), absl::StatusCode::kAlreadyExists);
  auto users = auth->ListUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->size(), 4u);
}

TEST(Scopes, Normalize) {
  EXPECT_EQ(*NormalizeScope("330106000000000000000000000"), "330106");
  EXPECT_EQ(*NormalizeScope("330106"), "330106");
  EXPECT_EQ(*NormalizeScope("330110"), "330110");  // a district whose code ends in 0 keeps it
  EXPECT_EQ(*NormalizeScope("330100"), "3301");
  EXPECT_EQ(*NormalizeScope("330106004"), "330106004");
  EXPECT_EQ(*NormalizeScope("441900003"), "441900003");  // a town straight under its city
  EXPECT_EQ(*NormalizeScope("330106004003001"), "330106004003001");
  EXPECT_FALSE(NormalizeScope("000000000000000000000000000").ok());
  EXPECT_FALSE(NormalizeScope("3301060").ok());
}

TEST_F(AuthTest, LoginGoodBadUnknownAndDisabled) {
  auto auth = Open();
  AddAnalyst(*auth, "zhang");
  auto session = auth->Login("zhang", kPassword, "127.0.0.1");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->token.size(), 43u);
  EXPECT_EQ(session->token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(session->expires_at, now_.load() + 12 * 3600);
  auto other = auth->Login("zhang", kPassword, "127.0.0.1");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->token, session->token);

  auto wrong = auth->Login("zhang", "wrong password", "127.0.0.1");
  auto unknown = auth->Login("nobody", kPassword, "127.0.0.1");
  auto malformed = auth->Login("no body", kPassword, "127.0.0.1");
  for (const auto* refused : {&wrong, &unknown, &malformed}) {
    EXPECT_EQ(refused->status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(refused->status().message(), wrong.status().message());  // one message for all
  }
  ASSERT_TRUE(auth->DisableUser("zhang", "admin").ok());
  auto disabled = auth->Login("zhang", kPassword, "127.0.0.1");
  EXPECT_EQ(disabled.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(disabled.status().message(), wrong.status().message());
}

TEST_F(AuthTest, TokensAuthenticateExpireAndLogOut) {
  AuthOptions options = Options();
  options.session_seconds = 600;
  auto auth = Open(options);
  AddAnalyst(*auth, "zhang");
  auto session = auth->Login("zhang", kPassword, "test");
  ASSERT_TRUE(session.ok());
  auto principal = auth->Authenticate(session->token);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->name, "zhang");
  EXPECT_EQ(principal->role, Role::kDistrictAnalyst);
  EXPECT_EQ(principal->scopes, std::vector<std::string>{"330106"});
  EXPECT_EQ(principal->token_hash.size(), 64u);
  EXPECT_THAT(principal->token_hash, Not(HasSubstr(session->token)));

  const std::string stars(43, '*');
  for (std::string_view bad : {std::string_view(""), std::string_view("x"), std::string_view(session->token).substr(1),
                               std::string_view(stars)}) {
    EXPECT_EQ(auth->Authenticate(bad).status().code(), absl::StatusCode::kUnauthenticated);
  }
  std::string altered = session->token;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(auth->Authenticate(altered).status().code(), absl::StatusCode::kUnauthenticated);

  // Expiry: good one second before, gone at expires_at (from the cache and from a fresh instance).
  now_ += 599;
  EXPECT_TRUE(auth->Authenticate(session->token).ok());
  now_ += 1;
  EXPECT_EQ(auth->Authenticate(session->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Open(options)->Authenticate(session->token).status().code(), absl::StatusCode::kUnauthenticated);

  // Logout ends this session only.
  auto first = auth->Login("zhang", kPassword, "test");
  auto second = auth->Login("zhang", kPassword, "test");
  ASSERT_TRUE(first.ok() && second.ok());
  auto first_principal = auth->Authenticate(first->token);
  ASSERT_TRUE(first_principal.ok());
  ASSERT_TRUE(auth->Logout(*first_principal).ok());
  EXPECT_EQ(auth->Authenticate(first->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Open(options)->Authenticate(first->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth->Authenticate(second->token).ok());
  EXPECT_EQ(auth->Logout(Principal{}).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, DisablingAUserOrChangingItsPasswordEndsItsSessions) {
  auto auth = Open();
  AddAnalyst(*auth, "zhang");
  AddAnalyst(*auth, "li");
  auto zhang = auth->Login("zhang", kPassword, "test");
  auto li = auth->Login("li", kPassword, "test");
  ASSERT_TRUE(zhang.ok() && li.ok());
  ASSERT_TRUE(auth->Authenticate(zhang->token).ok());  // cached now
  ASSERT_TRUE(auth->DisableUser("zhang", "admin").ok());
  EXPECT_EQ(auth->Authenticate(zhang->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth->Authenticate(li->token).ok());

  ASSERT_TRUE(auth->SetPassword("li", "a new password", "admin").ok());
  EXPECT_EQ(auth->Authenticate(li->token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, AnotherInstancesRevocationShowsWithinTheWindow) {
  AuthOptions options = Options();
  options.revalidate_after = 1000ms;
  auto server = Open(options);
  auto operator_cli = Open(options);  // as `pingan user disable` while the server runs
  AddAnalyst(*server, "zhang");
  AddAnalyst(*server, "li");
  auto zhang = server->Login("zhang", kPassword, "test");
  auto li = server->Login("li", kPassword, "test");
  ASSERT_TRUE(zhang.ok() && li.ok());
  ASSERT_TRUE(server->Authenticate(zhang->token).ok());
  auto li_principal = server->Authenticate(li->token);
  ASSERT_TRUE(li_principal.ok());
  auto key = server->AddSourceKey("police", "admin");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(server->AuthenticateSource(key->key).ok());

  ASSERT_TRUE(operator_cli->DisableUser("zhang", "cli").ok());
  ASSERT_TRUE(operator_cli->Logout(*li_principal).ok());
  ASSERT_TRUE(operator_cli->RevokeSourceKey("police", "cli").ok());
  // Within the window the server answers from its cache, without the database ...
  EXPECT_TRUE(server->Authenticate(zhang->token).ok());
  // ... and once the window has passed it checks again and refuses.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(server->Authenticate(zhang->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server->Authenticate(li->token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(server->AuthenticateSource(key->key).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, FailedLoginsSlowDownThenLockOutAndAGoodLoginClears) {
  AuthOptions options = Options();
  options.max_failures = 4;
  options.lockout_seconds = 300;
  options.slow_after = 2;
  options.delay_step = 60ms;
  options.max_delay = 100ms;
  auto auth = Open(options);
  AddAnalyst(*auth, "zhang");
  auto attempt = [&](std::string_view password) { return auth->Login("zhang", password, "test").status().code(); };
  auto timed = [&](std::string_view password) {
    const auto start = std::chrono::steady_clock::now();
    attempt(password);
    return std::chrono::steady_clock::now() - start;
  };

  // Two failures, then a good login clears the count: two more failures do not lock.
  EXPECT_EQ(attempt("bad 1"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(attempt("bad 2"), absl::StatusCode::kUnauthenticated);
  EXPECT_GE(timed(kPassword), 60ms);  // the third answer waits one step
  EXPECT_EQ(attempt("bad 3"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(attempt("bad 4"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kOk);

  // Four failures in a row: refused while locked out, even with the right password.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("bad"), absl::StatusCode::kUnauthenticated);
  EXPECT_GE(timed("bad"), 100ms);  // (3 - 2 + 1) x 60 ms capped at 100 ms
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(auth->Login("zhang", kPassword, "test").status().message(),
            "too many failed logins for this user; try again later");
  // Other usernames are not affected.
  AddAnalyst(*auth, "li");
  EXPECT_TRUE(auth->Login("li", kPassword, "test").ok());
  // The lockout holds in another instance, and ends after lockout_seconds.
  EXPECT_EQ(Open(options)->Login("zhang", kPassword, "test").status().code(), absl::StatusCode::kResourceExhausted);
  now_ += 299;
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kResourceExhausted);
  now_ += 1;
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kOk);
  // Failures further apart than the window do not add up.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("bad"), absl::StatusCode::kUnauthenticated);
  now_ += options.failure_window_seconds;
  EXPECT_EQ(attempt("bad"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kOk);
  // An administrator's new password lifts a lockout.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(attempt("bad"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(attempt(kPassword), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(auth->SetPassword("zhang", "reset by admin", "admin").ok());
  EXPECT_EQ(attempt("reset by admin"), absl::StatusCode::kOk);
}

TEST_F(AuthTest, SourceKeysAddReplaceRevoke) {
  auto auth = Open();
  auto police = auth->AddSourceKey("police", "admin");
  ASSERT_TRUE(police.ok()) << police.status();
  EXPECT_EQ(police->source, "police");
  EXPECT_EQ(police->key.size(), 43u);
  auto fire = auth->AddSourceKey("fire", "admin");
  ASSERT_TRUE(fire.ok());
  EXPECT_EQ(*auth->AuthenticateSource(police->key), "police");
  EXPECT_EQ(*auth->AuthenticateSource(fire->key), "fire");

  // A new key replaces the old one.
  auto replacement = auth->AddSourceKey("police", "admin");
  ASSERT_TRUE(replacement.ok());
  EXPECT_NE(replacement->key, police->key);
  EXPECT_EQ(auth->AuthenticateSource(police->key).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*auth->AuthenticateSource(replacement->key), "police");
  EXPECT_EQ(*Open()->AuthenticateSource(replacement->key), "police");

  ASSERT_TRUE(auth->RevokeSourceKey("police", "admin").ok());
  EXPECT_EQ(auth->AuthenticateSource(replacement->key).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->RevokeSourceKey("police", "admin").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*auth->AuthenticateSource(fire->key), "fire");
  EXPECT_EQ(auth->AuthenticateSource("").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->AddSourceKey("bad source", "admin").status().code(), absl::StatusCode::kInvalidArgument);
  // A session token is not a source key, nor the other way round.
  AddAnalyst(*auth, "zhang");
  auto session = auth->Login("zhang", kPassword, "test");
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE(auth->AuthenticateSource(session->token).ok());
  EXPECT_FALSE(auth->Authenticate(fire->key).ok());
}

TEST_F(AuthTest, EveryActionIsAudited) {
  AuthOptions options = Options();
  options.audit_note = "os_user=tester";
  auto auth = Open(options);
  ASSERT_TRUE(auth->AddUser("zhang", Role::kTownOfficial, {"330106004"}, kPassword, "root").ok());
  now_ += 10;
  auto session = auth->Login("zhang", kPassword, "10.0.0.7");
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE(auth->Login("zhang", "nope", "10.0.0.7").ok());
  auto principal = auth->Authenticate(session->token);
  ASSERT_TRUE(principal.ok());
  ASSERT_TRUE(auth->Audit("zhang", "read_unmasked", "330106004", "events type=criminal.theft").ok());
  ASSERT_TRUE(auth->Logout(*principal).ok());
  ASSERT_TRUE(auth->SetPassword("zhang", "second password", "root").ok());
  ASSERT_TRUE(auth->DisableUser("zhang", "root").ok());
  ASSERT_TRUE(auth->AddSourceKey("court", "root").ok());
  ASSERT_TRUE(auth->RevokeSourceKey("court", "root").ok());
  EXPECT_EQ(auth->Audit("", "x", "", "").code(), absl::StatusCode::kInvalidArgument);

  EXPECT_THAT(Actions(*auth), ElementsAre("user_add", "login", "login_failed", "read_unmasked", "logout", "user_passwd",
                                          "user_disable", "source_key_add", "source_key_revoke"));
  auto entries = auth->ListAudit(AuditFilter{.limit = -1});
  ASSERT_TRUE(entries.ok());
  const AuditEntry& added = (*entries)[0];
  EXPECT_EQ(added.id, 1);
  EXPECT_EQ(added.actor, "root");
  EXPECT_EQ(added.target, "zhang");
  EXPECT_EQ(added.at, 1'700'000'000);
  EXPECT_EQ(added.detail, "role=town_official scopes=330106004 os_user=tester");
  EXPECT_EQ((*entries)[1].actor, "zhang");
  EXPECT_EQ((*entries)[1].at, 1'700'000'010);
  EXPECT_THAT((*entries)[1].detail, HasSubstr("client=10.0.0.7"));
  EXPECT_THAT((*entries)[2].detail, HasSubstr("failures=1"));

  // Filters and paging.
  auto logins = auth->ListAudit(AuditFilter{.action = "login"});
  ASSERT_TRUE(logins.ok());
  ASSERT_EQ(logins->size(), 1u);
  EXPECT_EQ(logins->front().id, 2);
  auto by_root = auth->ListAudit(AuditFilter{.actor = "root", .limit = -1});
  ASSERT_TRUE(by_root.ok());
  EXPECT_EQ(by_root->size(), 5u);
  auto late = auth->ListAudit(AuditFilter{.from = 1'700'000'005, .limit = -1});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->size(), 8u);
  auto early = auth->ListAudit(AuditFilter{.to = 1'700'000'005});
  ASSERT_TRUE(early.ok());
  ASSERT_EQ(early->size(), 1u);
  auto page = auth->ListAudit(AuditFilter{.after_id = 3, .limit = 2});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, 4);
  EXPECT_EQ((*page)[1].id, 5);
  auto newest = auth->ListAudit(AuditFilter{.limit = 2, .newest_first = true});
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].action, "source_key_revoke");
  EXPECT_EQ((*newest)[1].action, "source_key_add");
  EXPECT_TRUE(auth->VerifyAudit().ok());
}

TEST_F(AuthTest, AuditDetailIsOneBoundedLine) {
  auto auth = Open();
  ASSERT_TRUE(auth->Audit("cli", "note", "x", "line one\nline two\r" + std::string(5000, 'd')).ok());
  auto entries = auth->ListAudit(AuditFilter{});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().detail.find('\n'), std::string::npos);
  EXPECT_LE(entries->front().detail.size(), 1003u);
  EXPECT_THAT(entries->front().detail, HasSubstr("line one\\x0Aline two"));
  EXPECT_TRUE(auth->VerifyAudit().ok());
}

TEST_F(AuthTest, AuditRefusesUpdateAndDeleteAndShowsTampering) {
  auto auth = Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(auth->Audit("cli", "note", "t", "entry " + std::to_string(i)).ok());
  ASSERT_TRUE(auth->VerifyAudit().ok());

  EXPECT_THAT(RawSql(db_path(), "UPDATE audit SET detail = 'edited' WHERE id = 2"), HasSubstr("append-only"));
  EXPECT_THAT(RawSql(db_path(), "DELETE FROM audit WHERE id = 5"), HasSubstr("append-only"));
  ASSERT_TRUE(auth->VerifyAudit().ok());

  // With the triggers dropped (someone with the file), an edit shows in the chain ...
  ASSERT_EQ(RawSql(db_path(), "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete"), "");
  ASSERT_EQ(RawSql(db_path(), "UPDATE audit SET detail = 'edited' WHERE id = 3"), "");
  absl::Status edited = auth->VerifyAudit();
  EXPECT_EQ(edited.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(edited.message(), HasSubstr("entry 3"));
  ASSERT_EQ(RawSql(db_path(), "UPDATE audit SET detail = 'entry 2' WHERE id = 3"), "");
  ASSERT_TRUE(auth->VerifyAudit().ok());
  // ... and so does a removed entry.
  ASSERT_EQ(RawSql(db_path(), "DELETE FROM audit WHERE id = 2"), "");
  absl::Status removed = auth->VerifyAudit();
  EXPECT_EQ(removed.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(removed.message(), HasSubstr("entry 3"));
}

TEST_F(AuthTest, AuditAtAnotherTimeOrActorShowsToo) {
  auto auth = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(auth->Audit("zhang", "read_unmasked", "330106", "").ok());
  ASSERT_EQ(RawSql(db_path(), "DROP TRIGGER audit_no_update"), "");
  ASSERT_EQ(RawSql(db_path(), "UPDATE audit SET actor = 'li' WHERE id = 1"), "");
  EXPECT_THAT(auth->VerifyAudit().message(), HasSubstr("entry 1"));
  ASSERT_EQ(RawSql(db_path(), "UPDATE audit SET actor = 'zhang', at = at + 1 WHERE id = 1"), "");
  EXPECT_THAT(auth->VerifyAudit().message(), HasSubstr("entry 1"));
}

TEST_F(AuthTest, NoPasswordTokenOrKeyIsStored) {
  const std::string password = "Sup3r-Secret-Passw0rd";
  const std::string wrong = "Wr0ng Guess: in the log?";
  const std::string second = "An0ther-Password-Here";
  auto auth = Open();
  ASSERT_TRUE(auth->AddUser("zhang", Role::kCityAnalyst, {"3301"}, password, "admin").ok());
  auto session = auth->Login("zhang", password, "test");
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE(auth->Login("zhang", wrong, "test").ok());
  EXPECT_FALSE(auth->Login(wrong, wrong, "test").ok());  // a password typed as the username
  auto key = auth->AddSourceKey("police", "admin");
  ASSERT_TRUE(key.ok());
  auto principal = auth->Authenticate(session->token);
  ASSERT_TRUE(principal.ok());
  ASSERT_TRUE(auth->AuthenticateSource(key->key).ok());
  ASSERT_TRUE(auth->SetPassword("zhang", second, "admin").ok());
  ASSERT_TRUE(auth->Logout(*principal).ok());

  std::string tables;
  for (const char* table : {"audit", "users", "sessions", "source_keys", "login_failures"}) {
    tables += TableText(db_path(), table);
  }
  ASSERT_THAT(tables, HasSubstr("login_failed"));  // the dump did read the tables
  ASSERT_THAT(tables, HasSubstr("$argon2id$"));
  // The database files, byte for byte (pages, WAL), hold none of the secrets.
  const std::string files = tables + testing::ReadFile(db_path()) + testing::ReadFile(db_path().string() + "-wal");
  for (const std::string& secret : {password, wrong, second, session->token, key->key}) {
    EXPECT_THAT(files, Not(HasSubstr(secret))) << secret;
  }
}

TEST(InScope, Matrix) {
  const Principal admin{.name = "a", .role = Role::kAdmin};
  const Principal auditor{.name = "b", .role = Role::kAuditor};
  const Principal district{.name = "c", .role = Role::kDistrictAnalyst, .scopes = {"330106"}};
  const Principal two{.name = "d", .role = Role::kDistrictAnalyst, .scopes = {"330106", "330110"}};
  const Principal grid{.name = "e", .role = Role::kGridWorker, .scopes = {"330106004003001"}};
  const Principal none{.name = "f", .role = Role::kCityAnalyst};

  for (const Principal* everyone : {&admin, &auditor}) {
    for (const char* code : {"33", "3301", "330106", "440300", "330106004003001000120301203"}) {
      EXPECT_TRUE(InScope(*everyone, code)) << code;
    }
  }
  // A district analyst: its district and everything below, nothing beside or above.
  for (const char* code : {"330106", "330106000", "330106000000000000000000000", "330106004",
                           "330106004003001000120301203"}) {
    EXPECT_TRUE(InScope(district, code)) << code;
  }
  for (const char* code : {"3301", "330100", "33", "330105", "330108004", "330110", "330116",
                           "330100000000000000000000000", "000000000000000000000000000", "", "3301060",
                           "33010x", "330106004003001000120301203x"}) {
    EXPECT_FALSE(InScope(district, code)) << code;
  }
  // 余杭区 330110 ends in a zero: it is not the prefix "33011", and 富阳区 330111 is outside it.
  // A grid worker: its grid and the buildings and rooms in it; not its community or town.
  struct Case {
    const Principal* principal;
    const char* code;
    bool in;
  };
  for (const Case& c : {Case{&two, "330110005", true}, Case{&two, "330106", true}, Case{&two, "330111", false},
                        Case{&two, "330111000000000000000000000", false}, Case{&two, "3301", false},
                        Case{&grid, "330106004003001", true}, Case{&grid, "330106004003001000120301203", true},
                        Case{&grid, "33010600400300100012", true}, Case{&grid, "330106004003002", false},
                        Case{&grid, "330106004003", false}, Case{&grid, "330106004", false},
                        Case{&grid, "330106", false}}) {
    EXPECT_EQ(InScope(*c.principal, c.code), c.in) << c.principal->name << " " << c.code;
  }
  // No scopes, no access; an unnormalised scope in a hand-made principal still works.
  EXPECT_FALSE(InScope(none, "3301"));
  const Principal padded{.name = "g", .role = Role::kTownOfficial, .scopes = {"330106004000000000000000000"}};
  EXPECT_TRUE(InScope(padded, "330106004001"));
  EXPECT_FALSE(InScope(padded, "330106"));
}

TEST_F(AuthTest, ConcurrentAuthenticationAndAudit) {
  auto auth = Open();
  AddAnalyst(*auth, "zhang");
  auto session = auth->Login("zhang", kPassword, "test");
  ASSERT_TRUE(session.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!auth->Authenticate(session->token).ok()) ++failures;
        if (i % 50 == 0 && !auth->Audit("zhang", "read_unmasked", "330106", std::to_string(t)).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(auth->VerifyAudit().ok());
  EXPECT_EQ(Actions(*auth).size(), 2u + 16u);
}

}  // namespace
}  // namespace pingan
