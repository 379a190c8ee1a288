#include "auth/auth.h"

#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "address/code.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "store/data_dir.h"
#include "store/sqlite_store.h"
#include "store/sqlite_util.h"
#include "store/write_gate.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using sqlite::Statement;
using SteadyTime = std::chrono::steady_clock::time_point;

// The auth tables (docs/security.md). Secrets are kept only as BLAKE2b-256 hex of their text.
// - sessions, source_keys: WITHOUT ROWID on the hash, the one lookup of every request.
// - source_keys_live: at most one live key per source.
// - audit: id is assigned by the writer (last id + 1, inside its transaction) and is part of
//   the chained hash; the triggers refuse every UPDATE and DELETE.
constexpr char kAuthSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  scopes TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions(
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  client TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS source_keys(
  key_hash TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS source_keys_live ON source_keys(source) WHERE revoked = 0;
CREATE TABLE IF NOT EXISTS login_failures(
  name TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS login_failures_last ON login_failures(last_at);
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";
constexpr char kAuthSchemaKey[] = "auth_schema_version";
constexpr char kAuthSchemaVersion[] = "1";

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr size_t kMaxScopes = 64;
constexpr size_t kMaxDetailBytes = 1000;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64url of 32 bytes, no padding
// Sessions expired this long ago are deleted at the next login.
constexpr int64_t kExpiredSessionKeepSeconds = 24 * 3600;
// Cache entries beyond this many are pruned of stale ones.
constexpr size_t kCachePruneSize = 10'000;
constexpr char kLoginRefused[] = "wrong username or password";

constexpr std::array<std::pair<Role, std::string_view>, 6> kRoleNames{{
    {Role::kAdmin, "admin"},
    {Role::kCityAnalyst, "city_analyst"},
    {Role::kDistrictAnalyst, "district_analyst"},
    {Role::kTownOfficial, "town_official"},
    {Role::kGridWorker, "grid_worker"},
    {Role::kAuditor, "auditor"},
}};

bool Unscoped(Role role) { return role == Role::kAdmin || role == Role::kAuditor; }

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

// BLAKE2b-256 of a token's or key's text, in hex: all the tables keep of a secret.
std::string SecretHash(std::string_view secret) {
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     nullptr, 0);
  return Hex(digest, sizeof digest);
}

// 32 random bytes as base64url without padding.
std::string NewSecret() {
  unsigned char bytes[kSecretBytes];
  randombytes_buf(bytes, sizeof bytes);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(kSecretBytes, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, sizeof bytes, kVariant);
  sodium_memzero(bytes, sizeof bytes);
  out.resize(kSecretChars);
  return out;
}

// Only text NewSecret could have made reaches a lookup.
bool WellFormedSecret(std::string_view text) {
  return text.size() == kSecretChars && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
         });
}

// Usernames and source ids: 1-64 of letters, digits, '_', '.', '-'.
absl::Status CheckIdentifier(std::string_view text, std::string_view what) {
  const bool allowed = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
  if (text.empty() || text.size() > kMaxNameBytes || !allowed) {
    return absl::InvalidArgumentError(Cat(what, " '", Printable(text, kMaxNameBytes), "' is not 1-", kMaxNameBytes,
                                          " letters, digits, '_', '.' or '-'"));
  }
  return absl::OkStatus();
}

absl::Status CheckPassword(std::string_view password) {
  if (password.empty()) return absl::InvalidArgumentError("the password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(Cat("the password is longer than ", kMaxPasswordBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> NormalizeScopes(Role role, const std::vector<std::string>& scopes) {
  if (scopes.size() > kMaxScopes) return absl::InvalidArgumentError(Cat("more than ", kMaxScopes, " scopes"));
  std::vector<std::string> out;
  for (const std::string& scope : scopes) {
    absl::StatusOr<std::string> normalized = NormalizeScope(scope);
    if (!normalized.ok()) return absl::InvalidArgumentError(Cat("scope: ", normalized.status().message()));
    out.push_back(*std::move(normalized));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty() && !Unscoped(role)) {
    return absl::InvalidArgumentError(Cat("a ", RoleName(role), " needs at least one scope (a unit code)"));
  }
  return out;
}

// The scopes column: significant-digit prefixes joined by ','.
std::vector<std::string> SplitScopes(std::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(absl::string_view(text.data(), text.size()), ',');
}

// Audit fields are one printable line each, bounded.
std::string OneLine(std::string_view text, size_t max_bytes) { return Printable(text, max_bytes); }

void HashU64(crypto_generichash_state* state, uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  crypto_generichash_update(state, bytes, sizeof bytes);
}
void HashText(crypto_generichash_state* state, std::string_view text) {
  HashU64(state, text.size());
  crypto_generichash_update(state, reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

// hash = BLAKE2b-256(prev_hash, id, at, actor, action, target, detail), texts length-prefixed.
std::string ChainHash(std::string_view prev_hash, const AuditEntry& entry) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  HashText(&state, prev_hash);
  HashU64(&state, static_cast<uint64_t>(entry.id));
  HashU64(&state, static_cast<uint64_t>(entry.at));
  for (std::string_view field : {std::string_view(entry.actor), std::string_view(entry.action),
                                 std::string_view(entry.target), std::string_view(entry.detail)}) {
    HashText(&state, field);
  }
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash_final(&state, digest, sizeof digest);
  return Hex(digest, sizeof digest);
}

// A value the cache keeps for a secret's hash: good until `expires_at` (Unix seconds) and
// trusted without the database until `checked` is older than the revalidation window.
template <typename Value>
struct Cached {
  Value value;
  int64_t expires_at = 0;
  SteadyTime checked;
};

template <typename Value>
class SecretCache {
 public:
  explicit SecretCache(std::chrono::milliseconds window) : window_(window) {}

  std::optional<Value> Get(const std::string& hash, int64_t now) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(hash);
    if (it == entries_.end() || it->second.expires_at <= now || Stale(it->second)) return std::nullopt;
    return it->second.value;
  }
  void Put(const std::string& hash, Value value, int64_t expires_at) {
    std::unique_lock lock(mutex_);
    if (entries_.size() >= kCachePruneSize) EraseIfLocked([this](const Cached<Value>& entry) { return Stale(entry); });
    entries_[hash] = Cached<Value>{std::move(value), expires_at, std::chrono::steady_clock::now()};
  }
  void Erase(const std::string& hash) {
    std::unique_lock lock(mutex_);
    entries_.erase(hash);
  }
  template <typename Predicate>
  void EraseIf(Predicate predicate) {
    std::unique_lock lock(mutex_);
    EraseIfLocked([&](const Cached<Value>& entry) { return predicate(entry.value); });
  }

 private:
  bool Stale(const Cached<Value>& entry) const { return std::chrono::steady_clock::now() - entry.checked > window_; }
  template <typename Predicate>
  void EraseIfLocked(Predicate predicate) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (predicate(it->second)) {
        entries_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  const std::chrono::milliseconds window_;
  mutable std::shared_mutex mutex_;
  absl::flat_hash_map<std::string, Cached<Value>> entries_;
};

struct StoredUser {
  User user;
  std::string password_hash;
};

// Failed logins of one username as they count now.
struct Failures {
  int count = 0;
  bool locked = false;
};

}  // namespace

struct AuthStore::Impl {
  Impl(AuthOptions options_in, std::unique_ptr<SqliteStore> db_in)
      : options(std::move(options_in)),
        db(std::move(db_in)),
        sessions(options.revalidate_after),
        source_keys(options.revalidate_after) {}

  int64_t Now() const { return options.clock ? options.clock() : static_cast<int64_t>(std::time(nullptr)); }
  sqlite3* handle() { return db->handle(); }

  absl::StatusOr<std::string> HashPassword(std::string_view password) const;
  // Checks `password` against `hash` (or, with no hash, against a throw-away one, so that an
  // unknown user costs as much time as a known one).
  bool VerifyPassword(const std::string* hash, std::string_view password);

  // The helpers below REQUIRE `mutex`; the writing ones run inside InTransaction.
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  // Runs one statement that returns no rows with `args` bound to ?1, ?2, ... (integers or
  // text); the number of rows it changed.
  template <typename... Args>
  absl::StatusOr<int> Run(std::string_view sql, const Args&... args);
  // In one transaction: finds the user `name` (NotFound when there is none), applies `change`
  // to its id, ends its sessions and audits `action`; then drops its sessions from the cache.
  absl::Status ChangeUser(std::string_view name, std::string_view actor, std::string_view action,
                          const std::function<absl::Status(int64_t user_id)>& change);
  absl::Status AppendAudit(std::string_view actor, std::string_view action, std::string_view target,
                           std::string_view detail);
  absl::StatusOr<std::optional<StoredUser>> ReadUser(std::string_view name);
  absl::StatusOr<std::vector<User>> ReadUsers();
  absl::StatusOr<Failures> ReadFailures(std::string_view name, int64_t now);
  absl::Status RecordFailure(std::string_view name, int64_t now);
  // Marks live sessions revoked: of one user (user_id) or one session (token_hash).
  absl::StatusOr<int> RevokeSessions(std::optional<int64_t> user_id, std::string_view token_hash = "");
  absl::StatusOr<int> RevokeSourceKeys(std::string_view source);

  const AuthOptions options;
  std::unique_ptr<SqliteStore> db;  // this instance's own connection
  std::mutex mutex;                 // serialises every use of `db`
  SecretCache<Principal> sessions;
  SecretCache<std::string> source_keys;
  std::once_flag dummy_once;
  std::string dummy_hash;
};

absl::StatusOr<std::string> AuthStore::Impl::HashPassword(std::string_view password) const {
  const unsigned long long ops = options.pwhash_opslimit != 0 ? options.pwhash_opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const size_t memory = options.pwhash_memlimit != 0 ? options.pwhash_memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), ops, memory) != 0) {
    return absl::ResourceExhaustedError("not enough memory to hash a password");
  }
  return std::string(out);
}

bool AuthStore::Impl::VerifyPassword(const std::string* hash, std::string_view password) {
  if (hash == nullptr) {
    std::call_once(dummy_once, [this] { dummy_hash = HashPassword(NewSecret()).value_or(""); });
    [[maybe_unused]] const int ignored = crypto_pwhash_str_verify(dummy_hash.c_str(), password.data(), password.size());
    return false;
  }
  return crypto_pwhash_str_verify(hash->c_str(), password.data(), password.size()) == 0;
}

absl::Status AuthStore::Impl::InTransaction(const std::function<absl::Status()>& body) {
  WriteTurn turn;
  PA_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  absl::Status status = body();
  if (status.ok()) status = db->Exec("COMMIT");
  if (!status.ok()) (void)db->Exec("ROLLBACK");
  return status;
}

template <typename... Args>
absl::StatusOr<int> AuthStore::Impl::Run(std::string_view sql, const Args&... args) {
  Statement statement(handle(), sql);
  PA_RETURN_IF_ERROR(statement.status());
  int index = 0;
  auto bind = [&](const auto& arg) {
    if constexpr (std::is_integral_v<std::decay_t<decltype(arg)>>) {
      statement.Bind(++index, static_cast<int64_t>(arg));
    } else {
      statement.Bind(++index, std::string_view(arg));
    }
  };
  (bind(args), ...);
  PA_RETURN_IF_ERROR(statement.Run());
  return sqlite3_changes(handle());
}

absl::Status AuthStore::Impl::ChangeUser(std::string_view name, std::string_view actor, std::string_view action,
                                         const std::function<absl::Status(int64_t user_id)>& change) {
  int64_t user_id = 0;
  PA_RETURN_IF_ERROR(InTransaction([&]() -> absl::Status {
    PA_ASSIGN_OR_RETURN(std::optional<StoredUser> stored, ReadUser(name));
    if (!stored) return absl::NotFoundError(Cat("no user '", Printable(name, kMaxNameBytes), "'"));
    user_id = stored->user.id;
    PA_RETURN_IF_ERROR(change(user_id));
    PA_ASSIGN_OR_RETURN(const int ended, RevokeSessions(user_id));
    return AppendAudit(actor, action, name, Cat("sessions_ended=", ended));
  }));
  sessions.EraseIf([&](const Principal& principal) { return principal.user_id == user_id; });
  return absl::OkStatus();
}

absl::Status AuthStore::Impl::AppendAudit(std::string_view actor, std::string_view action, std::string_view target,
                                          std::string_view detail) {
  std::string full_detail(detail);
  if (!options.audit_note.empty()) CatTo(full_detail, full_detail.empty() ? "" : " ", options.audit_note);
  return AuditAppender(handle()).Append(Now(), actor, action, target, full_detail);
}

struct AuditAppender::Statements {
  explicit Statements(sqlite3* db)
      : last(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"),
        insert(db, "INSERT INTO audit(id, at, actor, action, target, detail, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?)") {}
  Statement last, insert;
};

AuditAppender::AuditAppender(sqlite3* db) : db_(db), statements_(std::make_unique<Statements>(db)) {}
AuditAppender::~AuditAppender() = default;

absl::Status AuditAppender::Append(int64_t at, std::string_view actor, std::string_view action, std::string_view target,
                                   std::string_view detail) {
  Statement& last = statements_->last;
  Statement& insert = statements_->insert;
  PA_RETURN_IF_ERROR(last.status());
  PA_RETURN_IF_ERROR(insert.status());
  AuditEntry entry;
  std::string prev_hash;
  const int rc = last.Step();
  if (rc == SQLITE_ROW) {
    entry.id = last.Int(0) + 1;
    prev_hash = last.Text(1);
  } else if (rc == SQLITE_DONE) {
    entry.id = 1;
  } else {
    last.Reset();
    return absl::InternalError(Cat("audit: ", sqlite3_errmsg(db_)));
  }
  last.Reset();
  entry.at = at;
  entry.actor = OneLine(actor, 128);
  entry.action = OneLine(action, 64);
  entry.target = OneLine(target, 256);
  entry.detail = OneLine(detail, kMaxDetailBytes);
  insert.Bind(1, entry.id);
  insert.Bind(2, entry.at);
  insert.Bind(3, std::string_view(entry.actor));
  insert.Bind(4, std::string_view(entry.action));
  insert.Bind(5, std::string_view(entry.target));
  insert.Bind(6, std::string_view(entry.detail));
  insert.Bind(7, std::string_view(prev_hash));
  insert.Bind(8, std::string_view(ChainHash(prev_hash, entry)));
  return insert.Run();
}

#define PA_USER_COLUMNS "id, name, role, scopes, disabled, created_at, password_hash"

namespace {

absl::StatusOr<StoredUser> ReadUserRow(const Statement& row) {
  StoredUser stored;
  User& user = stored.user;
  user.id = row.Int(0);
  user.name = row.Text(1);
  std::optional<Role> role = ParseRole(row.Text(2));
  if (!role) return absl::DataLossError(Cat("user '", user.name, "' has an unknown role '", Printable(row.Text(2)), "'"));
  user.role = *role;
  user.scopes = SplitScopes(row.Text(3));
  user.disabled = row.Int(4) != 0;
  user.created_at = row.Int(5);
  stored.password_hash = row.Text(6);
  return stored;
}

}  // namespace

absl::StatusOr<std::optional<StoredUser>> AuthStore::Impl::ReadUser(std::string_view name) {
  Statement select(handle(), "SELECT " PA_USER_COLUMNS " FROM users WHERE name = ?");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, name);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredUser>();
  if (rc != SQLITE_ROW) return absl::InternalError(Cat("users: ", sqlite3_errmsg(handle())));
  PA_ASSIGN_OR_RETURN(StoredUser stored, ReadUserRow(select));
  return std::optional<StoredUser>(std::move(stored));
}

absl::StatusOr<std::vector<User>> AuthStore::Impl::ReadUsers() {
  Statement select(handle(), "SELECT " PA_USER_COLUMNS " FROM users ORDER BY name");
  PA_RETURN_IF_ERROR(select.status());
  std::vector<User> users;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    PA_ASSIGN_OR_RETURN(StoredUser stored, ReadUserRow(select));
    users.push_back(std::move(stored.user));
  }
  if (rc != SQLITE_DONE) return absl::InternalError(Cat("users: ", sqlite3_errmsg(handle())));
  return users;
}

#undef PA_USER_COLUMNS

absl::StatusOr<Failures> AuthStore::Impl::ReadFailures(std::string_view name, int64_t now) {
  Statement select(handle(), "SELECT failures, last_at FROM login_failures WHERE name = ?");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, name);
  const int rc = select.Step();
  Failures failures;
  if (rc == SQLITE_DONE) return failures;
  if (rc != SQLITE_ROW) return absl::InternalError(Cat("login_failures: ", sqlite3_errmsg(handle())));
  const int64_t count = select.Int(0);
  const int64_t since_last = now - select.Int(1);
  if (count >= options.max_failures) {
    // Locked until lockout_seconds after the last failure; then the count starts again.
    failures.locked = since_last < options.lockout_seconds;
    failures.count = failures.locked ? static_cast<int>(count) : 0;
  } else if (since_last < options.failure_window_seconds) {
    failures.count = static_cast<int>(count);
  }
  return failures;
}

absl::Status AuthStore::Impl::RecordFailure(std::string_view name, int64_t now) {
  PA_ASSIGN_OR_RETURN(Failures failures, ReadFailures(name, now));
  PA_RETURN_IF_ERROR(Run("INSERT INTO login_failures(name, failures, last_at) VALUES(?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at",
                         name, failures.count + 1, now)
                         .status());
  // Counts nobody can be refused by any more (names tried once and never again).
  return Run("DELETE FROM login_failures WHERE last_at < ?",
             now - std::max(options.failure_window_seconds, options.lockout_seconds))
      .status();
}

absl::StatusOr<int> AuthStore::Impl::RevokeSessions(std::optional<int64_t> user_id, std::string_view token_hash) {
  if (user_id) return Run("UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0", *user_id);
  return Run("UPDATE sessions SET revoked = 1 WHERE token_hash = ? AND revoked = 0", token_hash);
}

absl::StatusOr<int> AuthStore::Impl::RevokeSourceKeys(std::string_view source) {
  return Run("UPDATE source_keys SET revoked = 1 WHERE source = ? AND revoked = 0", source);
}

std::string_view RoleName(Role role) {
  for (const auto& [value, name] : kRoleNames) {
    if (value == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [value, role_name] : kRoleNames) {
    if (role_name == name) return value;
  }
  return std::nullopt;
}

AuthStore::AuthStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuthStore::~AuthStore() = default;

absl::StatusOr<std::unique_ptr<AuthStore>> AuthStore::Open(const fs::path& data_dir, AuthOptions options) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  if ((options.pwhash_opslimit != 0 && options.pwhash_opslimit < crypto_pwhash_OPSLIMIT_MIN) ||
      (options.pwhash_memlimit != 0 && options.pwhash_memlimit < crypto_pwhash_MEMLIMIT_MIN)) {
    return absl::InvalidArgumentError("password hash limits below libsodium's minimum");
  }
  if (options.session_seconds <= 0 || options.max_failures <= 0) {
    return absl::InvalidArgumentError("session_seconds and max_failures must be positive");
  }
  PA_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> db,
                      SqliteStore::Open(data_dir / kDatabaseFile, SqliteStore::Mode::kReadWrite));
  PA_ASSIGN_OR_RETURN(std::optional<std::string> version, db->GetMeta(kAuthSchemaKey));
  if (!version) {
    // First open: create the tables (IF NOT EXISTS: another process may be doing the same).
    PA_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
    absl::Status status = db->Exec(kAuthSchema);
    if (status.ok()) status = db->SetMeta(kAuthSchemaKey, kAuthSchemaVersion);
    if (status.ok()) status = db->Exec("COMMIT");
    if (!status.ok()) {
      (void)db->Exec("ROLLBACK");
      return status;
    }
  } else if (*version != kAuthSchemaVersion) {
    return absl::FailedPreconditionError(Cat("the auth tables have version ", Printable(*version, 20),
                                             "; this pingan reads version ", kAuthSchemaVersion));
  }
  return std::unique_ptr<AuthStore>(new AuthStore(std::make_unique<Impl>(std::move(options), std::move(db))));
}

absl::StatusOr<User> AuthStore::AddUser(std::string_view name, Role role, const std::vector<std::string>& scopes,
                                        std::string_view password, std::string_view actor) {
  PA_RETURN_IF_ERROR(CheckIdentifier(name, "username"));
  PA_RETURN_IF_ERROR(CheckPassword(password));
  User user{.name = std::string(name), .role = role};
  PA_ASSIGN_OR_RETURN(user.scopes, NormalizeScopes(role, scopes));
  PA_ASSIGN_OR_RETURN(const std::string password_hash, impl_->HashPassword(password));
  std::lock_guard lock(impl_->mutex);
  user.created_at = impl_->Now();
  PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
    PA_ASSIGN_OR_RETURN(std::optional<StoredUser> existing, impl_->ReadUser(name));
    if (existing) return absl::AlreadyExistsError(Cat("user '", name, "' already exists"));
    const std::string joined = absl::StrJoin(user.scopes, ",");
    PA_RETURN_IF_ERROR(impl_->Run("INSERT INTO users(name, role, scopes, password_hash, disabled, created_at) "
                                  "VALUES(?,?,?,?,0,?)",
                                  name, RoleName(role), joined, password_hash, user.created_at)
                           .status());
    user.id = sqlite3_last_insert_rowid(impl_->handle());
    return impl_->AppendAudit(actor, "user_add", name, Cat("role=", RoleName(role), " scopes=", joined));
  }));
  return user;
}

absl::StatusOr<std::vector<User>> AuthStore::ListUsers() {
  std::lock_guard lock(impl_->mutex);
  return impl_->ReadUsers();
}

absl::StatusOr<std::optional<User>> AuthStore::FindUser(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  PA_ASSIGN_OR_RETURN(std::optional<StoredUser> stored, impl_->ReadUser(name));
  if (!stored) return std::optional<User>();
  return std::optional<User>(std::move(stored->user));
}

absl::Status AuthStore::DisableUser(std::string_view name, std::string_view actor) {
  std::lock_guard lock(impl_->mutex);
  return impl_->ChangeUser(name, actor, "user_disable", [&](int64_t user_id) {
    return impl_->Run("UPDATE users SET disabled = 1 WHERE id = ?", user_id).status();
  });
}

absl::Status AuthStore::SetPassword(std::string_view name, std::string_view password, std::string_view actor) {
  PA_RETURN_IF_ERROR(CheckPassword(password));
  PA_ASSIGN_OR_RETURN(const std::string password_hash, impl_->HashPassword(password));
  std::lock_guard lock(impl_->mutex);
  return impl_->ChangeUser(name, actor, "user_passwd", [&](int64_t user_id) -> absl::Status {
    PA_RETURN_IF_ERROR(impl_->Run("UPDATE users SET password_hash = ? WHERE id = ?", password_hash, user_id).status());
    return impl_->Run("DELETE FROM login_failures WHERE name = ?", name).status();  // lifts a lockout
  });
}

absl::StatusOr<Session> AuthStore::Login(std::string_view name, std::string_view password, std::string_view client) {
  const bool valid_name = CheckIdentifier(name, "username").ok();
  // A malformed name is audited as such, never as typed (it may be a password typed in the
  // wrong field).
  const std::string target = valid_name ? std::string(name) : "(malformed)";
  const std::string detail = Cat("client=", OneLine(client, 64));
  Failures failures;
  std::optional<StoredUser> stored;
  {
    std::lock_guard lock(impl_->mutex);
    const int64_t now = impl_->Now();
    if (valid_name) {
      PA_ASSIGN_OR_RETURN(failures, impl_->ReadFailures(name, now));
      if (failures.locked) {
        PA_RETURN_IF_ERROR(impl_->InTransaction(
            [&] { return impl_->AppendAudit(target, "login_locked", target, Cat(detail, " failures=", failures.count)); }));
        return absl::ResourceExhaustedError("too many failed logins for this user; try again later");
      }
      PA_ASSIGN_OR_RETURN(stored, impl_->ReadUser(name));
    }
  }
  // Slow down a run of failures, and hash, without holding the database.
  const AuthOptions& options = impl_->options;
  if (failures.count >= options.slow_after) {
    std::this_thread::sleep_for(
        std::min<std::chrono::milliseconds>(options.delay_step * (failures.count - options.slow_after + 1), options.max_delay));
  }
  bool ok = false;
  if (password.size() <= kMaxPasswordBytes) {
    ok = impl_->VerifyPassword(stored ? &stored->password_hash : nullptr, password) && !stored->user.disabled;
  }

  std::lock_guard lock(impl_->mutex);
  const int64_t now = impl_->Now();
  if (!ok) {
    PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
      if (valid_name) PA_RETURN_IF_ERROR(impl_->RecordFailure(name, now));
      return impl_->AppendAudit(target, "login_failed", target, Cat(detail, " failures=", failures.count + 1));
    }));
    return absl::UnauthenticatedError(kLoginRefused);
  }
  const User& user = stored->user;
  Session session{.token = NewSecret(), .expires_at = now + options.session_seconds};
  Principal principal{.user_id = user.id, .name = user.name, .role = user.role, .scopes = user.scopes,
                      .token_hash = SecretHash(session.token)};
  PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
    PA_RETURN_IF_ERROR(impl_->Run("DELETE FROM login_failures WHERE name = ?", name).status());
    PA_RETURN_IF_ERROR(impl_->Run("DELETE FROM sessions WHERE expires_at < ?", now - kExpiredSessionKeepSeconds).status());
    PA_RETURN_IF_ERROR(impl_->Run("INSERT INTO sessions(token_hash, user_id, created_at, expires_at, revoked, client) "
                                  "VALUES(?,?,?,?,0,?)",
                                  principal.token_hash, user.id, now, session.expires_at, OneLine(client, 64))
                           .status());
    return impl_->AppendAudit(user.name, "login", user.name, detail);
  }));
  impl_->sessions.Put(principal.token_hash, principal, session.expires_at);
  return session;
}

absl::StatusOr<Principal> AuthStore::Authenticate(std::string_view token) {
  const absl::Status refused = absl::UnauthenticatedError("no such session, or it has expired or ended");
  if (!WellFormedSecret(token)) return refused;
  const std::string hash = SecretHash(token);
  const int64_t now = impl_->Now();
  if (std::optional<Principal> cached = impl_->sessions.Get(hash, now)) return *std::move(cached);

  std::lock_guard lock(impl_->mutex);
  Statement select(impl_->handle(),
                   "SELECT u.id, u.name, u.role, u.scopes, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
                   "WHERE s.token_hash = ? AND s.revoked = 0 AND u.disabled = 0 AND s.expires_at > ?");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, hash);
  select.Bind(2, now);
  const int rc = select.Step();
  if (rc != SQLITE_ROW) {
    impl_->sessions.Erase(hash);
    if (rc != SQLITE_DONE) return absl::InternalError(Cat("sessions: ", sqlite3_errmsg(impl_->handle())));
    return refused;
  }
  std::optional<Role> role = ParseRole(select.Text(2));
  if (!role) return refused;
  Principal principal{.user_id = select.Int(0), .name = std::string(select.Text(1)), .role = *role,
                      .token_hash = hash};
  principal.scopes = SplitScopes(select.Text(3));
  impl_->sessions.Put(hash, principal, select.Int(4));
  return principal;
}

absl::Status AuthStore::Logout(const Principal& principal) {
  if (principal.token_hash.empty()) return absl::InvalidArgumentError("the principal has no session");
  {
    std::lock_guard lock(impl_->mutex);
    PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
      PA_ASSIGN_OR_RETURN(const int ended, impl_->RevokeSessions(std::nullopt, principal.token_hash));
      return impl_->AppendAudit(principal.name, "logout", principal.name, ended == 0 ? "already ended" : "");
    }));
  }
  impl_->sessions.Erase(principal.token_hash);
  return absl::OkStatus();
}

absl::StatusOr<SourceKey> AuthStore::AddSourceKey(std::string_view source, std::string_view actor) {
  PA_RETURN_IF_ERROR(CheckIdentifier(source, "source"));
  SourceKey key{.source = std::string(source), .key = NewSecret()};
  {
    std::lock_guard lock(impl_->mutex);
    const int64_t now = impl_->Now();
    PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
      PA_ASSIGN_OR_RETURN(const int replaced, impl_->RevokeSourceKeys(source));
      PA_RETURN_IF_ERROR(impl_->Run("INSERT INTO source_keys(key_hash, source, created_at, revoked) VALUES(?,?,?,0)",
                                    SecretHash(key.key), source, now)
                             .status());
      return impl_->AppendAudit(actor, "source_key_add", source, Cat("replaced=", replaced));
    }));
  }
  impl_->source_keys.EraseIf([&](const std::string& owner) { return owner == source; });
  return key;
}

absl::Status AuthStore::RevokeSourceKey(std::string_view source, std::string_view actor) {
  {
    std::lock_guard lock(impl_->mutex);
    PA_RETURN_IF_ERROR(impl_->InTransaction([&]() -> absl::Status {
      PA_ASSIGN_OR_RETURN(const int revoked, impl_->RevokeSourceKeys(source));
      if (revoked == 0) return absl::NotFoundError(Cat("source '", Printable(source, kMaxNameBytes), "' has no live key"));
      return impl_->AppendAudit(actor, "source_key_revoke", source, "");
    }));
  }
  impl_->source_keys.EraseIf([&](const std::string& owner) { return owner == source; });
  return absl::OkStatus();
}

absl::StatusOr<std::string> AuthStore::AuthenticateSource(std::string_view key) {
  const absl::Status refused = absl::UnauthenticatedError("no such source key, or it was revoked");
  if (!WellFormedSecret(key)) return refused;
  const std::string hash = SecretHash(key);
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  if (std::optional<std::string> cached = impl_->source_keys.Get(hash, impl_->Now())) return *std::move(cached);

  std::lock_guard lock(impl_->mutex);
  Statement select(impl_->handle(), "SELECT source FROM source_keys WHERE key_hash = ? AND revoked = 0");
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, hash);
  const int rc = select.Step();
  if (rc != SQLITE_ROW) {
    impl_->source_keys.Erase(hash);
    if (rc != SQLITE_DONE) return absl::InternalError(Cat("source_keys: ", sqlite3_errmsg(impl_->handle())));
    return refused;
  }
  std::string source(select.Text(0));
  impl_->source_keys.Put(hash, source, kNever);
  return source;
}

absl::Status AuthStore::Audit(std::string_view actor, std::string_view action, std::string_view target,
                              std::string_view detail) {
  if (actor.empty() || action.empty()) return absl::InvalidArgumentError("an audit entry needs an actor and an action");
  std::lock_guard lock(impl_->mutex);
  return impl_->InTransaction([&] { return impl_->AppendAudit(actor, action, target, detail); });
}

absl::StatusOr<std::vector<AuditEntry>> AuthStore::ListAudit(const AuditFilter& filter) {
  const std::string sql = Cat(
      "SELECT id, at, actor, action, target, detail FROM audit WHERE id > ?1 AND (?2 IS NULL OR at >= ?2) "
      "AND (?3 IS NULL OR at < ?3) AND (?4 = '' OR actor = ?4) AND (?5 = '' OR action = ?5) ORDER BY id ",
      filter.newest_first ? "DESC" : "ASC", " LIMIT ?6");
  std::lock_guard lock(impl_->mutex);
  Statement select(impl_->handle(), sql);
  PA_RETURN_IF_ERROR(select.status());
  select.Bind(1, filter.after_id);
  for (auto [index, bound] : {std::pair{2, filter.from}, std::pair{3, filter.to}}) {
    if (bound) {
      select.Bind(index, *bound);
    } else {
      select.BindNull(index);
    }
  }
  select.Bind(4, filter.actor);
  select.Bind(5, filter.action);
  select.Bind(6, filter.limit < 0 ? int64_t{-1} : filter.limit);
  std::vector<AuditEntry> entries;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    entries.push_back(AuditEntry{.id = select.Int(0), .at = select.Int(1), .actor = std::string(select.Text(2)),
                                 .action = std::string(select.Text(3)), .target = std::string(select.Text(4)),
                                 .detail = std::string(select.Text(5))});
  }
  if (rc != SQLITE_DONE) return absl::InternalError(Cat("audit: ", sqlite3_errmsg(impl_->handle())));
  return entries;
}

absl::Status AuthStore::VerifyAudit() {
  std::lock_guard lock(impl_->mutex);
  Statement select(impl_->handle(),
                   "SELECT id, at, actor, action, target, detail, prev_hash, hash FROM audit ORDER BY id");
  PA_RETURN_IF_ERROR(select.status());
  std::string prev_hash;
  int64_t prev_id = 0;
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    const AuditEntry entry{.id = select.Int(0), .at = select.Int(1), .actor = std::string(select.Text(2)),
                           .action = std::string(select.Text(3)), .target = std::string(select.Text(4)),
                           .detail = std::string(select.Text(5))};
    if (entry.id != prev_id + 1 || select.Text(6) != prev_hash) {
      return absl::DataLossError(Cat("audit entry ", entry.id, " does not follow entry ", prev_id,
                                     " (entries removed or reordered)"));
    }
    std::string hash = ChainHash(prev_hash, entry);
    if (select.Text(7) != hash) {
      return absl::DataLossError(Cat("audit entry ", entry.id, " does not match its hash (edited)"));
    }
    prev_hash = std::move(hash);
    prev_id = entry.id;
  }
  if (rc != SQLITE_DONE) return absl::InternalError(Cat("audit: ", sqlite3_errmsg(impl_->handle())));
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeScope(std::string_view code) {
  PA_ASSIGN_OR_RETURN(const AddressCode parsed, AddressCode::ParsePrefix(code));
  const int digits = parsed.SignificantBoundary();
  if (digits == 0) return absl::InvalidArgumentError("a scope cannot be the nation (all zeros)");
  return parsed.ToString().substr(0, static_cast<size_t>(digits));
}

bool InScope(const Principal& principal, std::string_view unit_code) {
  if (Unscoped(principal.role)) return true;
  absl::StatusOr<AddressCode> code = AddressCode::ParsePrefix(unit_code);
  if (!code.ok()) return false;
  // A prefix asks for its whole subtree: "3301000" ... is the city, not a part of it.
  const size_t requested = static_cast<size_t>(code->SignificantBoundary());
  const std::string digits = code->ToString();
  for (const std::string& scope_text : principal.scopes) {
    absl::StatusOr<std::string> scope = NormalizeScope(scope_text);
    if (scope.ok() && requested >= scope->size() && digits.compare(0, scope->size(), *scope) == 0) return true;
  }
  return false;
}

}  // namespace pingan
