// `pingan assess --input FILE.csv [--json]` end to end: R's numbers on the North Carolina SIDS
// data through the binary, and bad input. Needs no data directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "assess/eb_reference.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::Output;
using testing::TempDir;

Output Assess(const std::string& args) { return testing::RunPingan("assess " + args, ""); }

// The reference CSV with the columns pingan reads: SID74 as count, BIR74 as exposure.
std::string NcSidsInput(const TempDir& dir) {
  std::string text = testing::ReadFile(testing::NcSidsReferencePath());
  const std::string header = "id,SID74,BIR74,neighbours,raw,eb_global,eb_local";
  EXPECT_TRUE(text.starts_with(header + "\n"));
  text.replace(0, header.size(), "id,count,exposure,neighbours,r_raw,r_eb_global,r_eb_local");
  return dir.Write("nc.csv", text).string();
}

// R's numbers (the committed reference) and the NC SIDS input as pingan reads it.
class CliAssessNcSids : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reference = testing::LoadEbReference(testing::NcSidsReferencePath());
    ASSERT_TRUE(reference.ok()) << reference.status();
    reference_ = std::move(*reference);
    input_ = NcSidsInput(dir_);
  }
  Output Run(const std::string& flags) const {
    Output run = Assess("--input '" + input_ + "'" + flags);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run;
  }
  // Every unit within 1e-9 of R's value, relative.
  void ExpectAgreesWithR(const std::vector<double>& eb_global,
                         const std::vector<double>& eb_local) const {
    EXPECT_THAT(testing::Compare(eb_global, reference_.eb_global).failures, ::testing::IsEmpty());
    EXPECT_THAT(testing::Compare(eb_local, reference_.eb_local).failures, ::testing::IsEmpty());
  }

  TempDir dir_;
  std::string input_;
  testing::EbReference reference_;
};

TEST_F(CliAssessNcSids, ReproducesSpdepAsJson) {
  const Output run = Run(" --json");
  const json units = json::parse(run.out);
  ASSERT_TRUE(units.is_array());
  ASSERT_EQ(units.size(), 100u);
  std::vector<double> raw, eb_global, eb_local;
  for (size_t unit = 0; unit < units.size(); ++unit) {
    const json& object = units[unit];
    EXPECT_EQ(object["id"], reference_.table.ids[unit]);
    EXPECT_EQ(object["count"].get<double>(), reference_.table.counts[unit]);
    EXPECT_EQ(object["exposure"].get<double>(), reference_.table.exposures[unit]);
    raw.push_back(object["raw"]);
    eb_global.push_back(object["eb_global"]);
    eb_local.push_back(object["eb_local"]);
  }
  // One object a line, keys in this order, numbers in their shortest round-trip form.
  EXPECT_TRUE(
      run.out.starts_with(R"([
{"id":"Ashe","count":1.0,"exposure":1091.0,"raw":0.0009165902841429881,)"
                          R"("eb_global":0.001697297330855623,"eb_local":0.000992227550851662},
{"id":"Alleghany",)"))
      << run.out.substr(0, 300);
  EXPECT_THAT(testing::Compare(raw, reference_.raw).failures, ::testing::IsEmpty());
  ExpectAgreesWithR(eb_global, eb_local);
}

TEST_F(CliAssessNcSids, ReproducesSpdepAsText) {
  const Output run = Run("");
  std::istringstream lines(run.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_THAT(line, HasSubstr("100 units; global prior: mean 0.00202144"));
  std::getline(lines, line);
  EXPECT_THAT(line, ::testing::MatchesRegex(" *count +exposure +raw +eb_global +eb_local +id"));
  std::vector<double> eb_global, eb_local;
  std::vector<std::string> ids;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    double count = 0, exposure = 0, raw = 0, global = 0, local = 0;
    std::string id;
    fields >> count >> exposure >> raw >> global >> local >> std::ws;
    std::getline(fields, id);
    ids.push_back(id);
    eb_global.push_back(global);
    eb_local.push_back(local);
  }
  EXPECT_EQ(ids, reference_.table.ids);  // "New Hanover" too: the id is the rest of the line
  ExpectAgreesWithR(eb_global, eb_local);
}

TEST(CliAssess, WithoutNeighboursAndWithoutExposure) {
  TempDir dir;
  const std::string input =
      dir.Write("units.csv", "id,exposure,count\n网格1,1000,2\nlake,0,0\nc,3000,9\n").string();
  const Output run = Assess("--input '" + input + "' --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json units = json::parse(run.out);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0]["id"], "网格1");
  EXPECT_TRUE(units[0]["eb_local"].is_null());
  EXPECT_TRUE(units[0]["eb_global"].is_number());
  EXPECT_TRUE(units[1]["raw"].is_null());
  EXPECT_TRUE(units[1]["eb_global"].is_null());
  EXPECT_DOUBLE_EQ(units[2]["raw"].get<double>(), 0.003);

  const Output text = Assess("--input '" + input + "'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, ::testing::ContainsRegex("\n +0 +0 +- +- +lake\n"));
  EXPECT_THAT(text.out, ::testing::Not(HasSubstr("eb_local")));
}

TEST(CliAssess, DataNeedsAPinganDataDirectory) {
  Output run = Assess("--data /nonexistent --period 2024-06 --level grid");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("/nonexistent"));
  run = Assess("--input x.csv --period 2024-06");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("excludes"));
}

TEST(CliAssess, BadInputNamesTheLineAndColumn) {
  TempDir dir;
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"id,count\na,1\n", "line 1: no column 'exposure'"},
           {"id,exposure,count\na,1,one\n", "line 2, column 'count': 'one' is not a number"},
           {"id,exposure,count\na,1,1\nb,-5,1\n", "line 3, column 'exposure': -5 is negative"},
           {"id,exposure,count\na,1,1\na,1,1\n",
            "line 3, column 'id': 'a' again (first on line 2)"},
           {"id,exposure,count,neighbours\na,1,1,b\n",
            "line 2, column 'neighbours': unknown id 'b'"},
           {"id,exposure,count,neighbours\na,1,1,a\n",
            "line 2, column 'neighbours': 'a' is the unit itself"},
           {"id,exposure,count\na,0,0\n", "no unit has a positive exposure"},
       }) {
    const std::string input = dir.Write("bad.csv", text).string();
    const Output run = Assess("--input '" + input + "'");
    EXPECT_EQ(run.exit_code, 1) << text;
    EXPECT_EQ(run.out, "");
    EXPECT_THAT(run.err, HasSubstr("pingan: " + input + ": " + message)) << text;
  }
  const Output missing = Assess("--input '" + (dir.path() / "missing.csv").string() + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot open"));
}

}  // namespace
}  // namespace pingan
