// `pingan user add|list|disable|passwd`, `pingan source-key add|revoke` and `pingan audit`:
// the auth tables of a data directory, from the command line (docs/security.md). Every change
// is audited with actor "cli" and the OS user.
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "address/code.h"
#include "auth/auth.h"
#include "catalog/catalog.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/line_io.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/text.h"
#include "store/data_dir.h"

namespace pingan::cli {
namespace {

using nlohmann::json;

// The data directory (for its time zone and registry) and its auth tables.
struct OpenedAuth {
  DataDir data;
  std::unique_ptr<AuthStore> auth;
};

absl::StatusOr<OpenedAuth> OpenAuth(const Context& context) {
  OpenedAuth opened;
  PA_ASSIGN_OR_RETURN(opened.data, DataDir::Open(context.data_dir, SqliteStore::Mode::kReadWrite));
  PA_ASSIGN_OR_RETURN(opened.auth, OpenCliAuth(context));
  return opened;
}

// The first line of standard input, its newline (and a '\r') dropped. On a terminal, asks for
// it on the error stream and turns echo off while it is typed.
absl::StatusOr<std::string> ReadPassword(const Context& context) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    *context.err << "password: " << std::flush;
  }
  LineReader reader(STDIN_FILENO);
  std::string line;
  bool too_long = false;
  const bool read = reader.Next(line, too_long);
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    *context.err << "\n";
  }
  if (too_long) return absl::InvalidArgumentError("the password is too long");
  if (!read || line.empty()) {
    return absl::InvalidArgumentError("no password: give it as the first line of standard input");
  }
  return line;
}

// Each --scope must name a unit of the registry (one index lookup, not the whole registry).
absl::Status CheckScopes(SqliteStore& store, const std::vector<std::string>& scopes) {
  for (const std::string& scope : scopes) {
    absl::StatusOr<AddressCode> code = AddressCode::ParsePrefix(scope);
    if (!code.ok()) return absl::InvalidArgumentError(Cat("--scope: ", code.status().message()));
    PA_ASSIGN_OR_RETURN(std::optional<Level> level, store.FindUnitLevel(*code));
    if (!level) return absl::NotFoundError(Cat("--scope: no unit ", Printable(scope, 30), " in the registry"));
  }
  return absl::OkStatus();
}

// Opens the auth tables, makes one change and prints `done`; errors as "COMMAND: ...".
int RunChange(const Context& context, std::string_view command, const std::function<absl::Status(AuthStore&)>& change,
              const std::string& done) {
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  if (absl::Status status = change(*opened->auth); !status.ok()) return Fail(context, Cat(command, ": ", Message(status)));
  *context.out << done << "\n";
  return 0;
}

std::string ScopesText(const std::vector<std::string>& scopes) {
  return scopes.empty() ? "-" : absl::StrJoin(scopes, ",");
}

}  // namespace

int RunUserAdd(const Context& context, const std::string& name, const std::string& role_name,
               const std::vector<std::string>& scopes) {
  const std::optional<Role> role = ParseRole(role_name);
  if (!role) return Fail(context, Cat("user add: unknown role '", Printable(role_name, 30), "'"));
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  if (absl::Status status = CheckScopes(*opened->data.store, scopes); !status.ok()) {
    return Fail(context, Cat("user add: ", Message(status)));
  }
  auto password = ReadPassword(context);
  if (!password.ok()) return Fail(context, Cat("user add: ", Message(password.status())));
  auto user = opened->auth->AddUser(name, *role, scopes, *password, kCliActor);
  if (!user.ok()) return Fail(context, Cat("user add: ", Message(user.status())));
  *context.out << fmt::format("user {} added: {}, scopes {}\n", user->name, RoleName(user->role),
                              ScopesText(user->scopes));
  return 0;
}

int RunUserList(const Context& context, bool json_output) {
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  auto users = opened->auth->ListUsers();
  if (!users.ok()) return Fail(context, Message(users.status()));
  const absl::TimeZone zone = ZoneOf(opened->data.deployment);
  for (const User& user : *users) {
    if (json_output) {
      json line{{"id", user.id},
                {"name", user.name},
                {"role", RoleName(user.role)},
                {"scopes", user.scopes},
                {"disabled", user.disabled},
                {"created_at", FormatTime(user.created_at, zone)}};
      *context.out << line.dump() << "\n";
    } else {
      *context.out << fmt::format("{:<24} {:<16} {:<8} {}  {}\n", user.name, RoleName(user.role),
                                  user.disabled ? "disabled" : "active", ScopesText(user.scopes),
                                  FormatTime(user.created_at, zone));
    }
  }
  if (!json_output) *context.out << users->size() << " users\n";
  return 0;
}

int RunUserDisable(const Context& context, const std::string& name) {
  return RunChange(
      context, "user disable", [&](AuthStore& auth) { return auth.DisableUser(name, kCliActor); },
      fmt::format("user {} disabled; its sessions are ended", name));
}

int RunUserPasswd(const Context& context, const std::string& name) {
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  auto user = opened->auth->FindUser(name);
  if (!user.ok()) return Fail(context, Message(user.status()));
  if (!*user) return Fail(context, Cat("user passwd: no user '", Printable(name, 64), "'"));
  auto password = ReadPassword(context);
  if (!password.ok()) return Fail(context, Cat("user passwd: ", Message(password.status())));
  if (absl::Status status = opened->auth->SetPassword(name, *password, kCliActor); !status.ok()) {
    return Fail(context, Cat("user passwd: ", Message(status)));
  }
  *context.out << fmt::format("password of {} changed; its sessions are ended\n", name);
  return 0;
}

int RunSourceKeyAdd(const Context& context, const std::string& source) {
  auto config_dir = ResolveConfigDir(context);
  if (!config_dir.ok()) return Fail(context, Message(config_dir.status()));
  auto catalog = LoadCatalog(*config_dir);
  if (!catalog.ok()) return Fail(context, Message(catalog.status()));
  if (catalog->FindSource(source) == nullptr) {
    std::vector<std::string> known;
    for (const SourceDef& def : catalog->sources) known.push_back(def.id);
    return Fail(context, Cat("source-key add: no source '", Printable(source, 64), "' in the catalog (",
                             absl::StrJoin(known, ", "), ")"));
  }
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  auto key = opened->auth->AddSourceKey(source, kCliActor);
  if (!key.ok()) return Fail(context, Cat("source-key add: ", Message(key.status())));
  *context.out << key->key << "\n";
  *context.err << fmt::format("the key of source {} is shown once; a new key replaces it\n", source);
  return 0;
}

int RunSourceKeyRevoke(const Context& context, const std::string& source) {
  return RunChange(
      context, "source-key revoke", [&](AuthStore& auth) { return auth.RevokeSourceKey(source, kCliActor); },
      fmt::format("the key of source {} is revoked", source));
}

int RunAudit(const Context& context, const AuditQuery& query) {
  auto opened = OpenAuth(context);
  if (!opened.ok()) return Fail(context, Message(opened.status()));
  AuthStore& auth = *opened->auth;
  if (query.verify) {
    if (absl::Status status = auth.VerifyAudit(); !status.ok()) return Fail(context, Cat("audit: ", Message(status)));
    auto last = auth.ListAudit(AuditFilter{.limit = 1, .newest_first = true});
    if (!last.ok()) return Fail(context, Message(last.status()));
    const int64_t count = last->empty() ? 0 : last->front().id;
    *context.out << fmt::format("audit log intact: {} {}, hash chain verified\n", count,
                                count == 1 ? "entry" : "entries");
    return 0;
  }
  const absl::TimeZone zone = ZoneOf(opened->data.deployment);
  AuditFilter filter{.actor = query.actor, .action = query.action, .limit = query.limit == 0 ? -1 : query.limit,
                     .newest_first = true};
  for (auto [text, bound] : {std::pair{&query.from, &filter.from}, std::pair{&query.to, &filter.to}}) {
    if (text->empty()) continue;
    auto parsed = ParseBound(*text, zone);
    if (!parsed.ok()) return Fail(context, Cat("audit: ", Message(parsed.status())));
    *bound = *parsed;
  }
  auto entries = auth.ListAudit(filter);
  if (!entries.ok()) return Fail(context, Message(entries.status()));
  std::reverse(entries->begin(), entries->end());
  for (const AuditEntry& entry : *entries) {
    if (query.json) {
      json line{{"id", entry.id},         {"at", FormatTime(entry.at, zone)}, {"actor", entry.actor},
                {"action", entry.action}, {"target", entry.target},           {"detail", entry.detail}};
      *context.out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      *context.out << fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", entry.id, FormatTime(entry.at, zone), entry.actor,
                                  entry.action, entry.target, entry.detail);
    }
  }
  return 0;
}

}  // namespace pingan::cli
