// Place names: the official names of the statistical registry and their stripped forms.
//
// Official names are kept as published (多福巷社区居委会, 沈冠村村委会村委会); matching uses the
// short form with the administrative suffixes removed (多福巷, 沈冠). Pure functions.
#pragma once

#include <span>
#include <string>
#include <vector>
#include <string_view>

#include "address/code.h"

namespace pingan {

// The name a person would write: the committee suffixes (居委会, 村委会, 村民委员会, ...) removed,
// even when doubled, so that 多福巷社区居委会 -> 多福巷社区 and 沈冠村村委会村委会 -> 沈冠村.
std::string DisplayName(std::string_view official);

// The matching key: DisplayName with the level suffix (省, 市, 区, 县, 街道, 镇, 乡, 社区, 村,
// 自治州, ...) removed, never leaving fewer than two characters: 西湖区 -> 西湖,
// 浦沿街道 -> 浦沿, 新村村委会 -> 新村, 东区 -> 东区.
std::string ShortName(std::string_view official, Level level);

// The names people write for a development zone (开发区, 高新区, 工业园区: county- or town-level
// units of the registry): the display name without the places written before it (`places`:
// the names of the units above, full and short, in any order), and the usual abbreviation of
// its kind. 石家庄高新技术产业开发区 under 河北省/石家庄市 -> 高新技术产业开发区, 高新区;
// 合肥新站高新技术产业开发区 -> 新站高新技术产业开发区, 新站高新区, 新站区; 吉林松原经济开发区
// -> 经济开发区, 经开区, 开发区. Empty for a name that is not a zone's; never the display name.
std::vector<std::string> ZoneNames(std::string_view display, std::span<const std::string> places);

// The names people write for an autonomous prefecture, county or banner (自治州, 自治县, 自治旗):
// the place without the peoples and with the kind's last character, and the bare place:
// 恩施土家族苗族自治州 -> 恩施州, 恩施; 景宁畲族自治县 -> 景宁县, 景宁; 西双版纳傣族自治州 ->
// 西双版纳州, 西双版纳. Empty for any other name, or where the place would be one character.
std::vector<std::string> AutonomousNames(std::string_view display);

}  // namespace pingan
