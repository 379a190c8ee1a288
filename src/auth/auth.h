// Users, roles, area scopes, sessions, per-source ingest keys and the audit log, kept in the
// data directory's pingan.db (tables created on first open, read-write).
//
//   - Passwords: Argon2id (libsodium crypto_pwhash_str, interactive limits), checked at login
//     only. Repeated failed logins for one username are slowed down (a growing delay before the
//     answer) and, past a bound, refused for a while.
//   - Session tokens and source keys: 32 random bytes (randombytes_buf), handed out once as
//     base64url text; only their BLAKE2b-256 hash is stored, so checking one on every request
//     is one hash and one lookup (an in-memory cache of live sessions keeps it off the
//     database). Sessions expire (default 12 h) and are revoked by logout or by disabling the
//     user.
//   - Audit: an append-only table (no UPDATE or DELETE is ever issued; triggers refuse them),
//     each row chained to the previous one by a hash so that a gap or an edit shows. Logins
//     (good and bad), logouts, reads of unmasked personal data and every change go in.
//
// Thread-safety: AuthStore serialises its own database access; one instance is shared by the
// server's threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct sqlite3;

namespace pingan {

enum class Role : uint8_t { kAdmin, kCityAnalyst, kDistrictAnalyst, kTownOfficial, kGridWorker, kAuditor };

// "admin", "city_analyst", "district_analyst", "town_official", "grid_worker", "auditor".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct User {
  int64_t id = 0;
  std::string name;  // the login username: 1-64 characters, letters, digits, '_', '.', '-'
  Role role = Role::kCityAnalyst;
  // Unit subtrees the user may see, as significant-digit prefixes of 27-digit codes
  // ("330106" = 西湖区). Never empty for a non-admin, non-auditor; admins and auditors are not
  // cut by scope.
  std::vector<std::string> scopes;
  bool disabled = false;
  int64_t created_at = 0;  // Unix seconds
};

// Who is asking: what the server attaches to a request once its token checks out.
struct Principal {
  int64_t user_id = 0;
  std::string name;
  Role role = Role::kCityAnalyst;
  std::vector<std::string> scopes;  // as User::scopes
  std::string token_hash;           // hex, to revoke this session on logout
};

struct Session {
  std::string token;   // base64url, shown once
  int64_t expires_at;  // Unix seconds
};

struct SourceKey {
  std::string source;  // catalog source id
  std::string key;     // base64url, shown once
};

struct AuditEntry {
  int64_t id = 0;
  int64_t at = 0;      // Unix seconds
  std::string actor;   // username, "source:ID" for a source key, "cli" for a local operator
  std::string action;  // login, login_failed, logout, user_add, user_disable, user_passwd,
                       // source_key_add, source_key_revoke, read_unmasked, ingest, ...
  std::string target;  // what it acted on (a username, a unit code, a source id, ...)
  std::string detail;  // one line; never a password, token or personal value
};

struct AuditFilter {
  std::optional<int64_t> from, to;  // at in [from, to)
  std::string actor, action;        // exact, "" for any
  int64_t after_id = 0;             // entries with id > after_id (paging)
  int64_t limit = 100;              // at most this many; negative: all
  bool newest_first = false;        // the last `limit` matches, newest first
};

struct AuthOptions {
  int64_t session_seconds = 12 * 3600;
  // Failed logins per username before the answer is refused for lockout_seconds.
  int max_failures = 10;
  int64_t lockout_seconds = 300;
  // From the slow_after-th failure on, each answer for that username waits
  // (failures - slow_after + 1) x delay_step, at most max_delay. A count whose last failure is
  // older than failure_window_seconds starts again; a good login clears it.
  int slow_after = 3;
  std::chrono::milliseconds delay_step{250};
  std::chrono::milliseconds max_delay{2000};
  int64_t failure_window_seconds = 900;
  // A cached session or source key is checked against the database again once it is older
  // than this, so that a logout, a revoked key or `pingan user disable` in another process
  // shows within it.
  std::chrono::milliseconds revalidate_after{2000};
  // Argon2id limits of new password hashes; 0: libsodium's interactive limits (2 passes,
  // 64 MiB). Tests lower them (1 and 8192) to stay fast under ASan.
  uint64_t pwhash_opslimit = 0;
  size_t pwhash_memlimit = 0;
  // Unix seconds now; empty: the system clock. Tests move time with it.
  std::function<int64_t()> clock;
  // Appended to the detail of every audit entry this instance writes (the CLI: "os_user=NAME").
  std::string audit_note;
};

class AuthStore {
 public:
  // Opens (creating the tables when absent) the auth tables of DIR/pingan.db, on a connection
  // of its own. FailedPrecondition when DIR holds no pingan database (`pingan init` makes it).
  static absl::StatusOr<std::unique_ptr<AuthStore>> Open(const std::filesystem::path& data_dir,
                                                         AuthOptions options = {});
  ~AuthStore();

  // User management. InvalidArgument for a bad name, an empty or over-long (>1024 bytes)
  // password, a scope that is not digits, or a non-admin/auditor without scopes;
  // AlreadyExists for a taken name; NotFound for an unknown one. Each is audited with `actor`.
  absl::StatusOr<User> AddUser(std::string_view name, Role role, const std::vector<std::string>& scopes,
                               std::string_view password, std::string_view actor);
  absl::StatusOr<std::vector<User>> ListUsers();
  absl::StatusOr<std::optional<User>> FindUser(std::string_view name);
  absl::Status DisableUser(std::string_view name, std::string_view actor);  // also ends its sessions
  // Also ends the user's sessions (a changed password logs every session out).
  absl::Status SetPassword(std::string_view name, std::string_view password, std::string_view actor);

  // Login: Unauthenticated (one message for unknown user, wrong password or disabled user) or
  // ResourceExhausted while locked out. Audited either way (never the password).
  absl::StatusOr<Session> Login(std::string_view name, std::string_view password, std::string_view client);
  // The principal of a live session; Unauthenticated when unknown, expired or revoked. Cheap.
  absl::StatusOr<Principal> Authenticate(std::string_view token);
  absl::Status Logout(const Principal& principal);

  // Per-source ingest keys: one live key per source at a time (adding one revokes the old).
  absl::StatusOr<SourceKey> AddSourceKey(std::string_view source, std::string_view actor);
  absl::Status RevokeSourceKey(std::string_view source, std::string_view actor);
  // The source a key belongs to; Unauthenticated when unknown or revoked.
  absl::StatusOr<std::string> AuthenticateSource(std::string_view key);

  // The audit log.
  absl::Status Audit(std::string_view actor, std::string_view action, std::string_view target,
                     std::string_view detail);
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(const AuditFilter& filter);
  // Recomputes the hash chain; DataLoss naming the first entry that does not fit.
  absl::Status VerifyAudit();

  struct Impl;

 private:
  explicit AuthStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Appends entries to the audit chain through `db`, a connection to the same database, inside
// the caller's write transaction (BEGIN IMMEDIATE), so that an action and its audit entry commit
// together (the closed loop's task transitions). Fields are cut to one printable line each. It
// keeps its statements prepared: one per connection, used by one thread at a time.
class AuditAppender {
 public:
  explicit AuditAppender(sqlite3* db);
  ~AuditAppender();
  AuditAppender(const AuditAppender&) = delete;
  AuditAppender& operator=(const AuditAppender&) = delete;
  absl::Status Append(int64_t at, std::string_view actor, std::string_view action, std::string_view target,
                      std::string_view detail);

 private:
  struct Statements;
  sqlite3* db_;
  std::unique_ptr<Statements> statements_;
};

// True when `unit_code` (27 digits or a significant-digit prefix) lies inside one of the
// principal's scopes (admins and auditors: always). A prefix shorter than a scope (asking for
// the whole city while scoped to a district) is not inside it.
bool InScope(const Principal& principal, std::string_view unit_code);

// A scope as stored: a 27-digit code or a level prefix (2, 4, 6, 9, 12, 15, 20 or 22 digits)
// cut to its smallest level boundary ("330106000000000000000000000" -> "330106", "330110" stays
// "330110"). InvalidArgument for anything else, and for the nation (all zeros).
absl::StatusOr<std::string> NormalizeScope(std::string_view code);

}  // namespace pingan
