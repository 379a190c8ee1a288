// `pingan user`, `pingan source-key` and `pingan audit` through the binary, on a copy of the
// national fixture's database and settings.
#include <sqlite3.h>

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunPingan;
using testing::TempDir;

// pingan.db and pingan.toml of the fixture (not its registry snapshot: these commands do not
// load the registry).
fs::path CopyData(const TempDir& dir) {
  const fs::path target = dir.path() / "data";
  fs::create_directories(target);
  for (const char* file : {"pingan.db", "pingan.toml"}) fs::copy_file(fs::path(testing::NationalData()) / file, target / file);
  return target;
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(UserCli, AddListDisablePasswd) {
  TempDir dir;
  const fs::path data = CopyData(dir);
  const std::string password = dir.Write("password", "first pass\r\nsecond line is ignored\n").string();
  testing::Output added =
      RunPingan("user add --name wang --role district_analyst --scope 330106000 --scope 330110 < " + password,
                data.string());
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "user wang added: district_analyst, scopes 330106,330110\n");
  EXPECT_THAT(added.out + added.err, Not(HasSubstr("first pass")));
  ASSERT_EQ(RunPingan("user add --name boss --role admin < " + password, data.string()).exit_code, 0);

  testing::Output listed = RunPingan("user list --json", data.string());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<nlohmann::json> users = JsonLines(listed.out);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]["name"], "boss");
  EXPECT_EQ(users[0]["role"], "admin");
  EXPECT_EQ(users[1]["name"], "wang");
  EXPECT_EQ(users[1]["scopes"], nlohmann::json::array({"330106", "330110"}));
  EXPECT_EQ(users[1]["disabled"], false);
  EXPECT_THAT(users[1]["created_at"].get<std::string>(), HasSubstr("+08:00"));
  EXPECT_THAT(listed.out, Not(HasSubstr("argon2")));
  testing::Output text = RunPingan("user list", data.string());
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("2 users"));

  // The password is the first line, without its "\r\n".
  {
    auto auth = AuthStore::Open(data);
    ASSERT_TRUE(auth.ok()) << auth.status();
    EXPECT_TRUE((*auth)->Login("wang", "first pass", "test").ok());
  }
  const std::string second = dir.Write("second", "second pass\n").string();
  testing::Output passwd = RunPingan("user passwd --name wang < " + second, data.string());
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
  {
    auto auth = AuthStore::Open(data);
    ASSERT_TRUE(auth.ok());
    EXPECT_FALSE((*auth)->Login("wang", "first pass", "test").ok());
    EXPECT_TRUE((*auth)->Login("wang", "second pass", "test").ok());
  }
  testing::Output disabled = RunPingan("user disable --name wang", data.string());
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  users = JsonLines(RunPingan("user list --json", data.string()).out);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[1]["disabled"], true);
  {
    auto auth = AuthStore::Open(data);
    ASSERT_TRUE(auth.ok());
    EXPECT_FALSE((*auth)->Login("wang", "second pass", "test").ok());
  }
}

TEST(UserCli, RefusesBadInputWithOneLine) {
  TempDir dir;
  const fs::path data = CopyData(dir);
  const std::string password = dir.Write("password", "a password\n").string();
  const std::string empty = dir.Write("empty", "\n").string();
  auto expect_error = [&](const std::string& args, int code, const std::string& message) {
    testing::Output run = RunPingan(args, data.string());
    EXPECT_EQ(run.exit_code, code) << args << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(message)) << args;
    if (code == 1) {
      EXPECT_EQ(run.err.find("pingan: "), 0u) << run.err;
      EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    }
  };
  expect_error("user add --name x --role root --scope 3301 < " + password, 2, "--role");
  expect_error("user add --name x --role city_analyst < " + password, 1, "needs at least one scope");
  expect_error("user add --name x --role city_analyst --scope 330199 < " + password, 1, "no unit 330199");
  expect_error("user add --name x --role city_analyst --scope 33010 < " + password, 1, "--scope");
  expect_error("user add --name x --role city_analyst --scope 3301 < " + empty, 1, "no password");
  expect_error("user add --name x --role city_analyst --scope 3301 < /dev/null", 1, "no password");
  expect_error("user add --name 'x y' --role city_analyst --scope 3301 < " + password, 1, "username");
  expect_error("user add --role admin < " + password, 2, "--name");
  expect_error("user disable --name nobody", 1, "no user 'nobody'");
  expect_error("user passwd --name nobody < " + password, 1, "no user 'nobody'");
  ASSERT_EQ(RunPingan("user add --name x --role auditor < " + password, data.string()).exit_code, 0);
  expect_error("user add --name x --role auditor < " + password, 1, "already exists");
  expect_error("source-key add --source nosuch", 1, "no source 'nosuch' in the catalog");
  expect_error("source-key revoke --source police", 1, "has no live key");
  expect_error("audit --from yesterday", 1, "not a date");
  testing::Output no_dir = RunPingan("user list", (dir.path() / "missing").string());
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_THAT(no_dir.err, HasSubstr("not a pingan data directory"));
  testing::Output listed = RunPingan("user list --json", data.string());
  EXPECT_EQ(JsonLines(listed.out).size(), 1u);  // only x
}

TEST(UserCli, SourceKeysAndTheAuditLog) {
  TempDir dir;
  const fs::path data = CopyData(dir);
  testing::Output key = RunPingan("source-key add --source police", data.string());
  ASSERT_EQ(key.exit_code, 0) << key.err;
  ASSERT_EQ(key.out.size(), 44u) << key.out;  // 43 characters and a newline
  const std::string police_key = key.out.substr(0, 43);
  {
    auto auth = AuthStore::Open(data);
    ASSERT_TRUE(auth.ok());
    EXPECT_EQ(*(*auth)->AuthenticateSource(police_key), "police");
  }
  testing::Output replaced = RunPingan("source-key add --source police", data.string());
  ASSERT_EQ(replaced.exit_code, 0);
  EXPECT_NE(replaced.out.substr(0, 43), police_key);
  testing::Output revoked = RunPingan("source-key revoke --source police", data.string());
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  {
    auto auth = AuthStore::Open(data);
    ASSERT_TRUE(auth.ok());
    EXPECT_FALSE((*auth)->AuthenticateSource(police_key).ok());
    EXPECT_FALSE((*auth)->AuthenticateSource(replaced.out.substr(0, 43)).ok());
  }

  // Reading unmasked records is audited in the same log, not in a file beside it.
  testing::Output unmasked = RunPingan("quarantine --unmasked", data.string());
  ASSERT_EQ(unmasked.exit_code, 0) << unmasked.err;
  EXPECT_FALSE(fs::exists(data / "audit.log"));

  testing::Output audit = RunPingan("audit --json", data.string());
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  std::vector<nlohmann::json> entries = JsonLines(audit.out);
  ASSERT_EQ(entries.size(), 4u) << audit.out;
  const char* actions[] = {"source_key_add", "source_key_add", "source_key_revoke", "read_unmasked"};
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i]["id"], static_cast<int>(i) + 1);
    EXPECT_EQ(entries[i]["action"], actions[i]);
    EXPECT_EQ(entries[i]["actor"], "cli");
    EXPECT_THAT(entries[i]["detail"].get<std::string>(), HasSubstr("os_user="));
    EXPECT_THAT(entries[i]["at"].get<std::string>(), HasSubstr("+08:00"));
  }
  EXPECT_EQ(entries[0]["target"], "police");
  EXPECT_EQ(entries[3]["target"], "quarantine");
  EXPECT_THAT(audit.out, Not(HasSubstr(police_key)));

  std::vector<nlohmann::json> adds = JsonLines(RunPingan("audit --json --action source_key_add", data.string()).out);
  EXPECT_EQ(adds.size(), 2u);
  std::vector<nlohmann::json> last = JsonLines(RunPingan("audit --json --limit 1", data.string()).out);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["action"], "read_unmasked");
  EXPECT_TRUE(JsonLines(RunPingan("audit --json --actor nobody", data.string()).out).empty());
  EXPECT_TRUE(JsonLines(RunPingan("audit --json --to 2000-01-01", data.string()).out).empty());
  EXPECT_EQ(JsonLines(RunPingan("audit --json --from 2000-01-01", data.string()).out).size(), 4u);
  testing::Output text = RunPingan("audit", data.string());
  EXPECT_THAT(text.out, HasSubstr("\tcli\tsource_key_revoke\tpolice\t"));

  testing::Output verified = RunPingan("audit --verify", data.string());
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr("4 entries"));

  // An entry edited behind the triggers' back fails the check.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data / "pingan.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE audit SET target = 'court' WHERE id = 1", nullptr, nullptr, nullptr), SQLITE_CONSTRAINT);
  ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER audit_no_update; UPDATE audit SET target = 'court' WHERE id = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  testing::Output tampered = RunPingan("audit --verify", data.string());
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_THAT(tampered.err, HasSubstr("audit entry 1"));
}

}  // namespace
}  // namespace pingan
