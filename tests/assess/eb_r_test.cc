// Live against R (CTest label `r`): runs tests/assess/eb_reference.R with the installed R and
// spdep, and compares the rates of src/assess/eb.h with what R computes now, and the committed
// reference with R's fresh output. Skips where Rscript, spdep or spData is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "assess/eb.h"
#include "assess/eb_reference.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using ::pingan::testing::Compare;
using ::pingan::testing::LoadEbReference;

bool HaveRWithSpdep() {
  return std::system(
             "Rscript -e 'quit(status = if (requireNamespace(\"spdep\", quietly = TRUE) && "
             "requireNamespace(\"spData\", quietly = TRUE)) 0 else 1)' >/dev/null 2>&1") == 0;
}

TEST(EmpiricalBayesLiveR, AgreesWithSpdepNow) {
  if (!HaveRWithSpdep()) GTEST_SKIP() << "Rscript with spdep and spData is not installed";
  testing::TempDir dir;
  const std::string fresh = (dir.path() / "nc_sids_eb.csv").string();
  const std::string command = "Rscript '" + std::string(PINGAN_SOURCE_DIR) +
                              "/tests/assess/eb_reference.R' '" + fresh + "' 2>'" +
                              (dir.path() / "err").string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << testing::ReadFile(dir.path() / "err");

  auto live = LoadEbReference(fresh);
  ASSERT_TRUE(live.ok()) << live.status();
  const UnitTable& table = live->table;
  auto global = EbGlobal(table.counts, table.exposures);
  auto local = EbLocal(table.counts, table.exposures, table.neighbours);
  ASSERT_TRUE(global.ok() && local.ok());
  EXPECT_THAT(Compare(RawRates(table.counts, table.exposures), live->raw).failures,
              ::testing::IsEmpty());
  EXPECT_THAT(Compare(global->estimate, live->eb_global).failures, ::testing::IsEmpty());
  EXPECT_THAT(Compare(local->estimate, live->eb_local).failures, ::testing::IsEmpty());

  // The committed reference is what R makes today (to R's rounding, should R or spdep change).
  auto committed = LoadEbReference(::pingan::testing::NcSidsReferencePath());
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->table.ids, table.ids);
  EXPECT_EQ(committed->table.counts, table.counts);
  EXPECT_EQ(committed->table.exposures, table.exposures);
  for (size_t unit = 0; unit < table.ids.size(); ++unit) {
    const auto want = table.neighbours.of(unit);
    EXPECT_THAT(committed->table.neighbours.of(unit),
                ::testing::ElementsAreArray(want.begin(), want.end()));
  }
  EXPECT_THAT(Compare(committed->eb_global, live->eb_global, 1e-12).failures, ::testing::IsEmpty());
  EXPECT_THAT(Compare(committed->eb_local, live->eb_local, 1e-12).failures, ::testing::IsEmpty());
}

}  // namespace
}  // namespace pingan
