#include "address/registry.h"

#include <gtest/gtest.h>

namespace pingan {
namespace {

AddressCode C(const char* text) { return *AddressCode::ParsePrefix(text); }

// A small registry: 浙江 > 杭州 > 西湖区 > 西溪街道 > 一社区 > 网格 > 2 buildings, the 西湖风景名胜区
// management unit administering 西湖街道, and 广东 > 东莞 with a town straight under the city.
struct Fixture {
  Fixture() {
    RegistryBuilder builder;
    zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
    hz = builder.Add({.code = C("3301"), .level = Level::kCity, .name = "杭州市", .parent = zj});
    xh = builder.Add({.code = C("330106"), .level = Level::kDistrict, .name = "西湖区", .parent = hz});
    scenic = builder.Add({.code = C("330190"), .level = Level::kDistrict, .name = "西湖风景名胜区",
                          .parent = hz, .kind = UnitKind::kManagement});
    xx = builder.Add({.code = C("330106004"), .level = Level::kTown, .name = "西溪街道", .parent = xh});
    xhjd = builder.Add({.code = C("330106008"), .level = Level::kTown, .name = "西湖街道",
                        .parent = scenic, .stat_parent = xh});
    community = builder.Add({.code = C("330106004003"), .level = Level::kCommunity,
                             .name = "古荡新村社区居委会", .parent = xx});
    grid = builder.Add({.code = C("330106004003001"), .level = Level::kGrid, .name = "第1网格",
                        .parent = community, .kind = UnitKind::kSynthetic,
                        .figures = {.resident = 1000, .floating = 200, .enterprises = 30, .houses = 400, .households = 390}});
    grid2 = builder.Add({.code = C("330106004003002"), .level = Level::kGrid, .name = "第2网格",
                         .parent = community, .kind = UnitKind::kSynthetic,
                         .figures = {.resident = 500, .floating = 100, .enterprises = 5, .houses = 200, .households = 190}});
    uint32_t road = builder.AddRoad(Road{.name = "文三路", .town = xx});
    uint32_t compound = builder.AddCompound(Compound{.name = "翠苑小区", .community = community,
                                                     .road = road, .house_number = 478});
    tower = builder.Add({.code = C("33010600400300100012"), .level = Level::kBuilding, .parent = grid,
                         .kind = UnitKind::kSynthetic,
                         .building = {.road = road, .house_number = 478, .compound = compound, .number = 12,
                                      .entrances = 3, .floors = 18, .rooms_per_floor = 4}});
    house = builder.Add({.code = C("33010600400300100013"), .level = Level::kBuilding, .parent = grid,
                         .kind = UnitKind::kSynthetic,
                         .building = {.road = road, .house_number = 480, .entrances = 0, .floors = 3,
                                      .rooms_per_floor = 1}});
    gd = builder.Add({.code = C("44"), .level = Level::kProvince, .name = "广东省", .parent = builder.nation()});
    dg = builder.Add({.code = C("4419"), .level = Level::kCity, .name = "东莞市", .parent = gd});
    dg_town = builder.Add({.code = C("441900003"), .level = Level::kTown, .name = "东城街道", .parent = dg});
    auto built = std::move(builder).Build();
    EXPECT_TRUE(built.ok()) << built.status();
    registry = std::make_unique<Registry>(*std::move(built));
  }
  UnitId zj, hz, xh, scenic, xx, xhjd, community, grid, grid2, tower, house, gd, dg, dg_town;
  std::unique_ptr<Registry> registry;
};

TEST(Registry, ResolvesEveryLevelDownToTheRoom) {
  Fixture f;
  const Registry& r = *f.registry;
  EXPECT_EQ(r.Resolve(C("3301"))->unit, f.hz);
  EXPECT_EQ(r.Resolve(C("330106004003001"))->level, Level::kGrid);
  auto building = r.Resolve(C("33010600400300100012"));
  ASSERT_TRUE(building.ok());
  EXPECT_EQ(r.name(building->unit), "翠苑小区12幢");
  auto entrance = r.Resolve(C("3301060040030010001203"));
  ASSERT_TRUE(entrance.ok()) << entrance.status();
  EXPECT_EQ(entrance->level, Level::kUnit);
  EXPECT_EQ(r.PlaceName(*entrance), "3单元");
  auto room = r.Resolve(*AddressCode::Parse("330106004003001000120301804"));
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->level, Level::kRoom);
  EXPECT_EQ(r.PlaceName(*room), "1804室");
  EXPECT_EQ(r.PlaceCode(*room).ToString(), "330106004003001000120301804");
  // An entrance-less house addresses rooms with unit 00.
  auto house_room = r.Resolve(*AddressCode::Parse("330106004003001000130000201"));
  ASSERT_TRUE(house_room.ok()) << house_room.status();
  EXPECT_EQ(r.name(house_room->unit), "文三路480号");
}

TEST(Registry, RejectsCodesThatNameNothingWithTheReason) {
  Fixture f;
  const Registry& r = *f.registry;
  auto unknown_town = r.Resolve(C("330106999"));
  EXPECT_EQ(unknown_town.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown_town.status().message().find("under 西湖区"), absl::string_view::npos) << unknown_town.status();
  auto no_entrance = r.Resolve(C("3301060040030010001204"));
  EXPECT_NE(no_entrance.status().message().find("3 entrances"), absl::string_view::npos) << no_entrance.status();
  auto high_floor = r.Resolve(*AddressCode::Parse("330106004003001000120301901"));
  EXPECT_NE(high_floor.status().message().find("no floor 19"), absl::string_view::npos) << high_floor.status();
  auto room_five = r.Resolve(*AddressCode::Parse("330106004003001000120301805"));
  EXPECT_NE(room_five.status().message().find("no room 5"), absl::string_view::npos);
  auto missing_entrance = r.Resolve(*AddressCode::Parse("330106004003001000120000101"));
  EXPECT_EQ(missing_entrance.status().code(), absl::StatusCode::kInvalidArgument);
  auto room_in_grid = r.Resolve(*AddressCode::Parse("330106004003001000000100101"));
  EXPECT_FALSE(room_in_grid.ok());
  EXPECT_FALSE(r.Resolve(C("45")).ok());
}

TEST(Registry, ManagementUnitIsTheGovernanceParent) {
  Fixture f;
  const Registry& r = *f.registry;
  EXPECT_EQ(r.parent(f.xhjd), f.scenic);
  EXPECT_EQ(r.stat_parent(f.xhjd), f.xh);
  auto west_lake_towns = r.children(f.xh);
  EXPECT_EQ(std::count(west_lake_towns.begin(), west_lake_towns.end(), f.xhjd), 0);
  EXPECT_TRUE(r.IsWithin(f.xhjd, f.scenic));
  EXPECT_FALSE(r.IsWithin(f.xhjd, f.xh));
  EXPECT_EQ(r.children(f.hz).size(), 2u);
}

TEST(Registry, TownsMayHangStraightUnderACity) {
  Fixture f;
  const Registry& r = *f.registry;
  EXPECT_EQ(r.parent(f.dg_town), f.dg);
  EXPECT_EQ(r.Resolve(C("441900003"))->unit, f.dg_town);
  EXPECT_EQ(r.Resolve(C("441900"))->unit, f.dg);  // the city, padded
  EXPECT_EQ(r.AncestorAt(f.dg_town, Level::kDistrict), kNoUnit);
  UnitId path[kLevelCount];
  ASSERT_EQ(r.Ancestors(f.dg_town, path), 4);  // the skipped district leaves no hole
  EXPECT_EQ(path[0], r.nation());
  EXPECT_EQ(path[1], f.gd);
  EXPECT_EQ(path[2], f.dg);
  EXPECT_EQ(path[3], f.dg_town);
  EXPECT_TRUE(r.IsWithin(f.dg_town, f.dg));
  EXPECT_FALSE(r.IsWithin(f.dg_town, f.zj));
  std::vector<UnitId> ids{f.dg_town, f.tower, f.xhjd};
  std::vector<UnitId> districts(3);
  r.AncestorsAt(ids, Level::kDistrict, districts);
  EXPECT_EQ(districts, (std::vector<UnitId>{kNoUnit, f.xh, f.scenic}));
}

TEST(Registry, AncestorsChildrenAndFigures) {
  Fixture f;
  const Registry& r = *f.registry;
  UnitId path[kLevelCount];
  int count = r.Ancestors(f.tower, path);
  ASSERT_EQ(count, 8);
  EXPECT_EQ(path[0], r.nation());
  EXPECT_EQ(path[3], f.xh);
  EXPECT_EQ(path[7], f.tower);
  EXPECT_EQ(r.AncestorAt(f.tower, Level::kTown), f.xx);
  EXPECT_EQ(r.children(f.grid).size(), 2u);
  // Grid figures sum up to every ancestor; buildings carry none.
  EXPECT_EQ(r.figures(f.community).resident, 1500);
  EXPECT_EQ(r.figures(f.hz).households, 580);
  EXPECT_EQ(r.own_figures(f.hz).resident, 0);
  EXPECT_EQ(r.Descendants(f.hz, Level::kGrid).size(), 2u);
  EXPECT_EQ(r.CountByLevel(f.hz)[static_cast<int>(Level::kBuilding)], 2u);
}

TEST(Registry, FindsByOfficialAndShortName) {
  Fixture f;
  const Registry& r = *f.registry;
  EXPECT_EQ(r.FindByName("西湖区"), std::vector<UnitId>{f.xh});
  EXPECT_EQ(r.FindByName("西溪"), std::vector<UnitId>{f.xx});
  EXPECT_EQ(r.FindByName("古荡新村"), std::vector<UnitId>{f.community});
  EXPECT_TRUE(r.FindByName("不存在").empty());
}

TEST(RegistryBuilder, RejectsDuplicateCodesAndMisplacedChildren) {
  {
    RegistryBuilder builder;
    UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
    builder.Add({.code = C("3301"), .level = Level::kCity, .name = "杭州市", .parent = zj});
    builder.Add({.code = C("3301"), .level = Level::kCity, .name = "又一个", .parent = zj});
    auto built = std::move(builder).Build();
    EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(built.status().message().find("same code"), absl::string_view::npos);
  }
  {
    RegistryBuilder builder;
    UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
    builder.Add({.code = C("3401"), .level = Level::kCity, .name = "合肥市", .parent = zj});
    auto built = std::move(builder).Build();
    EXPECT_NE(built.status().message().find("not under its parent's code"), absl::string_view::npos) << built.status();
  }
  {
    RegistryBuilder builder;
    UnitId zj = builder.Add({.code = C("33"), .level = Level::kProvince, .name = "浙江省", .parent = builder.nation()});
    builder.Add({.code = C("330106"), .level = Level::kCity, .name = "x", .parent = zj});
    auto built = std::move(builder).Build();
    EXPECT_NE(built.status().message().find("sets digits below its level"), absl::string_view::npos) << built.status();
  }
}

TEST(Registry, ARetiredUnitSaysSoAndLeavesTheTree) {
  Fixture f;
  RegistryBuilder builder = RegistryBuilder::FromRegistry(*f.registry);
  builder.record(f.grid2).retired = true;
  UnitId replacement = builder.Add({.code = C("330106004003002"), .level = Level::kGrid, .name = "新网格",
                                    .parent = f.community, .kind = UnitKind::kImported});
  builder.record(replacement).retired = true;
  builder.Add({.code = C("330106004003003"), .level = Level::kGrid, .name = "第3网格", .parent = f.community,
               .kind = UnitKind::kImported, .retired = true});
  auto built = std::move(builder).Build();
  ASSERT_TRUE(built.ok()) << built.status();
  auto retired = built->Resolve(C("330106004003003"));
  EXPECT_EQ(retired.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(retired.status().message().find("retired"), absl::string_view::npos) << retired.status();
  EXPECT_EQ(built->children(f.community).size(), 1u);
  EXPECT_EQ(built->figures(f.community).resident, 1000);  // the retired grid no longer counts
}

TEST(RegistryBuilder, FromRegistryRoundTrips) {
  Fixture f;
  RegistryBuilder copy = RegistryBuilder::FromRegistry(*f.registry);
  auto rebuilt = std::move(copy).Build();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ASSERT_EQ(rebuilt->size(), f.registry->size());
  for (uint32_t index = 0; index < rebuilt->size(); ++index) {
    UnitId id{index};
    EXPECT_EQ(rebuilt->code(id), f.registry->code(id));
    EXPECT_EQ(rebuilt->name(id), f.registry->name(id));
    EXPECT_EQ(rebuilt->parent(id), f.registry->parent(id));
    EXPECT_EQ(rebuilt->figures(id), f.registry->figures(id));
  }
}

}  // namespace
}  // namespace pingan
