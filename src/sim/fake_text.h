// Synthetic personal data and written noise shared by the demo city's labelled address sets
// (eval_sets.cc) and its source feeds (feeds.cc): fake names and phone numbers, full-width
// digits, and how records write a town.
//
// Deterministic: every function draws only from the Rng it is given, in a fixed order, so the
// same stream gives the same text. Pure functions otherwise; thread-safe with one Rng per thread.
#pragma once

#include <string>
#include <string_view>

#include "address/registry.h"
#include "core/rng.h"

namespace pingan {

// A Chinese name: a common surname and one or two given characters (王伟, 陈晓东).
std::string PersonName(Rng& rng);

// A synthetic number in one of the test patterns (13800000000, 13912345678, ...), written
// whole or grouped; sometimes a Hangzhou landline of the same kind (0571-88888888).
std::string PhoneNumber(Rng& rng);

// ASCII digits, letters and '-' as their full-width forms (１２３号); everything else as is.
std::string ToFullwidth(std::string_view text);

// How a record writes a town: 街道 rather than 街道办事处.
std::string TownText(const Registry& registry, UnitId town);

}  // namespace pingan
