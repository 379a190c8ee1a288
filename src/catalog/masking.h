// Masking personal data on output (INDICATORS.md: personal attributes, and phone and ID
// numbers inside address text), unless the reader may see it.
//
//   MaskValue("reporter_phone", "13812345678") == "138****5678"
//   MaskValue("reporter_name", "张三丰") == "张**"
//   MaskDigitRuns("西湖区文三路478号 电话13812345678") == "西湖区文三路478号 电话138****5678"
//   MaskDigitRuns("文北路102号 158 0000 0001") == "文北路102号 158 **** 0001"
#pragma once

#include <string>
#include <string_view>

#include "catalog/catalog.h"

namespace pingan {

// One personal value: a digit string keeps its first 3 (phones) or 6 (ID numbers, 15+ long)
// and last 4 characters; other text keeps its first character; the rest become '*'.
std::string MaskValue(std::string_view text);

// Masks phone and ID numbers inside free text (FindPersonalNumbers, core/text.h: runs of 7 or
// more digits, and numbers written in groups, 189 1234 5678, or in full width); house numbers
// and rooms are left alone.
std::string MaskDigitRuns(std::string_view text);

// The attributes object (JSON text) with every personal attribute of the catalog masked.
std::string MaskAttributesJson(const Catalog& catalog, std::string_view attributes_json);

}  // namespace pingan
