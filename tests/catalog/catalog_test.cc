#include "catalog/catalog.h"
#include "catalog/masking.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "catalog/event.h"
#include "core/strings.h"
#include "testing/pingan_cli.h"
#include "testing/temp_dir.h"

namespace pingan {
namespace {

using testing::TempDir;

const Catalog& Shipped() {
  static const Catalog catalog = [] {
    auto loaded = LoadCatalog(std::filesystem::path(PINGAN_SOURCE_DIR) / "config");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? *std::move(loaded) : Catalog();
  }();
  return catalog;
}

std::vector<std::string> Ids(const auto& defs) {
  std::vector<std::string> ids;
  for (const auto& def : defs) ids.push_back(def.id);
  return ids;
}

std::vector<std::string> MatchedTypes(const Catalog& catalog, const MeasureDef& def) {
  std::vector<std::string> ids;
  for (uint16_t type_idx : def.type_indexes) ids.push_back(catalog.types[type_idx].id);
  return ids;
}

TEST(Catalog, ShippedConfigHasTheCanonicalIds) {
  const Catalog& catalog = Shipped();
  EXPECT_EQ(Ids(catalog.sources),
            (std::vector<std::string>{"police", "traffic", "court", "petition", "fire", "safety", "labour"}));
  EXPECT_EQ(Ids(catalog.domains), (std::vector<std::string>{"criminal", "petition", "litigation", "traffic",
                                                            "fire", "safety", "death"}));
  EXPECT_EQ(catalog.types.size(), 21u);
  EXPECT_EQ(catalog.indicators.size(), 33u);
  EXPECT_EQ(catalog.key_types.size(), 9u);
  for (std::string_view id : {"criminal.homicide", "criminal.telecom_fraud", "criminal.theft", "criminal.robbery",
                              "criminal.vice", "criminal.other", "dispute.call", "death.suicide", "death.drowning",
                              "death.other", "petition.visit", "petition.letter", "litigation.civil",
                              "litigation.administrative", "litigation.criminal", "litigation.mediation",
                              "traffic.accident", "fire.fire", "fire.alarm", "safety.accident",
                              "labour.wage_arrears"}) {
    EXPECT_NE(catalog.FindType(id), nullptr) << id;
  }
  for (std::string_view id : {"criminal.filed", "criminal.solved", "petition.total", "petition.visits",
                              "petition.collective", "petition.beyond_level", "petition.repeat",
                              "litigation.filed", "litigation.mediated", "traffic.accidents", "traffic.deaths",
                              "traffic.injuries", "traffic.loss_yuan", "traffic.major", "fire.fires",
                              "fire.deaths", "fire.injuries", "fire.loss_yuan", "safety.accidents",
                              "safety.deaths", "safety.injuries", "safety.major", "death.total",
                              "death.suicide", "death.drowning"}) {
    EXPECT_NE(catalog.FindIndicator(id), nullptr) << id;
  }
  EXPECT_EQ(Ids(catalog.key_types),
            (std::vector<std::string>{"key.petition_source", "key.vice", "key.theft", "key.dispute",
                                      "key.telecom_fraud", "key.fire_alarm", "key.traffic_death", "key.homicide",
                                      "key.wage_arrears"}));
  EXPECT_EQ(catalog.FindIndicator("nope"), nullptr);
  EXPECT_FALSE(catalog.TypeIndex("criminal.nope").has_value());
  EXPECT_EQ(catalog.types[*catalog.TypeIndex("fire.alarm")].id, "fire.alarm");
}

TEST(Catalog, LabelsDomainsAndAttributes) {
  const Catalog& catalog = Shipped();
  EXPECT_EQ(catalog.FindIndicator("criminal.filed")->zh, "刑事案件立案数");
  EXPECT_EQ(catalog.FindIndicator("litigation.mediated")->zh, "诉前调解成功");
  EXPECT_EQ(catalog.FindIndicator("traffic.major")->zh, "较大以上事故");
  EXPECT_EQ(catalog.FindIndicator("death.total")->zh, "非正常死亡人数");
  EXPECT_EQ(catalog.FindKeyType("key.traffic_death")->zh, "交通亡人");
  EXPECT_EQ(catalog.FindType("petition.letter")->zh, "来信/网上信访");
  EXPECT_EQ(catalog.FindSource("petition")->zh, "信访局");

  EXPECT_EQ(catalog.FindType("dispute.call")->domain, "");
  EXPECT_EQ(catalog.FindType("fire.alarm")->domain, "");
  EXPECT_EQ(catalog.FindType("labour.wage_arrears")->domain, "");
  EXPECT_EQ(catalog.FindType("death.drowning")->domain, "death");
  EXPECT_EQ(catalog.FindType("death.drowning")->source, "police");
  EXPECT_EQ(catalog.FindType("traffic.accident")->attributes,
            (std::vector<std::string>{"deaths", "injuries", "loss_yuan"}));

  EXPECT_EQ(catalog.FindAttribute("solved")->kind, AttrKind::kBool);
  EXPECT_EQ(catalog.FindAttribute("succeeded")->kind, AttrKind::kBool);
  EXPECT_EQ(catalog.FindAttribute("workers")->kind, AttrKind::kInt);
  EXPECT_EQ(catalog.FindAttribute("amount_yuan")->kind, AttrKind::kNumber);
  for (std::string_view name : {"reporter_name", "reporter_phone", "id_number", "subject_name"}) {
    ASSERT_NE(catalog.FindAttribute(name), nullptr) << name;
    EXPECT_TRUE(catalog.FindAttribute(name)->personal) << name;
    EXPECT_EQ(catalog.FindAttribute(name)->kind, AttrKind::kText) << name;
  }
  EXPECT_FALSE(catalog.FindAttribute("deaths")->personal);
}

TEST(Catalog, IndicatorDefinitions) {
  const Catalog& catalog = Shipped();
  EXPECT_EQ(MatchedTypes(catalog, *catalog.FindIndicator("criminal.filed")),
            (std::vector<std::string>{"criminal.homicide", "criminal.telecom_fraud", "criminal.theft",
                                      "criminal.robbery", "criminal.vice", "criminal.other"}));
  EXPECT_EQ(MatchedTypes(catalog, *catalog.FindIndicator("litigation.filed")),
            (std::vector<std::string>{"litigation.civil", "litigation.administrative", "litigation.criminal"}));
  EXPECT_EQ(MatchedTypes(catalog, *catalog.FindIndicator("death.total")),
            (std::vector<std::string>{"death.suicide", "death.drowning", "death.other"}));
  std::vector<std::string> up;
  for (const MeasureDef& def : catalog.indicators) {
    if (def.higher_is_better) up.push_back(def.id);
    EXPECT_FALSE(def.type_indexes.empty()) << def.id;
    EXPECT_TRUE(catalog.domains.end() != std::find_if(catalog.domains.begin(), catalog.domains.end(),
                                                      [&](const DomainDef& d) { return d.id == def.domain; }));
  }
  EXPECT_EQ(up, (std::vector<std::string>{"criminal.solved", "litigation.mediated"}));

  const MeasureDef& major = *catalog.FindIndicator("safety.major");
  ASSERT_EQ(major.where.size(), 1u);
  EXPECT_EQ(ConditionText(major.where[0]), "deaths >= 3");
  EXPECT_EQ(major.where[0].op, Condition::Op::kGe);
  EXPECT_EQ(MeasureText(catalog.FindIndicator("fire.loss_yuan")->measure), "sum:loss_yuan");
  EXPECT_EQ(catalog.FindIndicator("fire.loss_yuan")->unit_zh, "元");
  EXPECT_EQ(catalog.FindIndicator("traffic.deaths")->unit_en, "persons");
  EXPECT_EQ(catalog.FindIndicator("criminal.theft")->unit_zh, "起");
  EXPECT_EQ(catalog.FindIndicator("petition.total")->unit_zh, "件");
  EXPECT_NE(catalog.FindIndicator("criminal.filed")->where_defined.find("config/catalog/indicators.toml:"),
            std::string::npos);
}

TEST(Catalog, SourceMappings) {
  const Catalog& catalog = Shipped();
  const SourceMapping& police = *catalog.FindSource("police")->mapping;
  EXPECT_EQ(police.fields.at("source_id"), "警情编号");
  EXPECT_EQ(police.fields.at("status"), "状态");
  EXPECT_EQ(police.types.size(), 10u);
  EXPECT_EQ(police.types.at("0201"), "dispute.call");
  EXPECT_EQ(police.statuses.at("已撤案"), "withdrawn");
  EXPECT_EQ(police.attributes.at("报警人电话"), "reporter_phone");
  EXPECT_EQ(police.true_values, std::vector<std::string>{"是"});
  EXPECT_EQ(police.time_format, "%Y-%m-%d %H:%M:%S");

  const SourceMapping& traffic = *catalog.FindSource("traffic")->mapping;
  EXPECT_EQ(traffic.fields.at("lon"), "lng");
  EXPECT_EQ(traffic.types.at("ACC"), "traffic.accident");
  EXPECT_EQ(traffic.attributes.at("dead"), "deaths");
  EXPECT_EQ(traffic.time_format, "%E4Y%m%d%H%M%S");

  const SourceMapping& court = *catalog.FindSource("court")->mapping;
  EXPECT_EQ(court.types.at("诉前调解"), "litigation.mediation");
  EXPECT_EQ(court.statuses.at("撤诉"), "withdrawn");
  EXPECT_EQ(court.attributes.at("身份证号"), "id_number");
  EXPECT_EQ(court.true_values, std::vector<std::string>{"成功"});
  EXPECT_EQ(court.time_format, "%Y年%m月%d日");

  const SourceMapping& fire = *catalog.FindSource("fire")->mapping;
  EXPECT_EQ(fire.fields.at("code"), "addr_code");
  EXPECT_EQ(fire.types.at("火警"), "fire.alarm");
  EXPECT_EQ(fire.time_format, "");

  const SourceMapping& labour = *catalog.FindSource("labour")->mapping;
  EXPECT_EQ(labour.default_type, "labour.wage_arrears");
  EXPECT_TRUE(labour.types.empty());
  EXPECT_EQ(labour.fields.count("type"), 0u);
  EXPECT_EQ(labour.attributes.at("amount"), "amount_yuan");
  EXPECT_EQ(labour.time_format, "%Y-%m-%d");

  EXPECT_FALSE(catalog.FindSource("petition")->mapping.has_value());
  EXPECT_FALSE(catalog.FindSource("safety")->mapping.has_value());
  EXPECT_NE(police.where.find("config/catalog/sources.toml:"), std::string::npos);
}

// An event of `type` with declared numeric attributes by name.
EventRecord Event(const Catalog& catalog, std::string type, std::vector<std::pair<std::string, double>> numbers) {
  EventRecord event;
  event.type = std::move(type);
  for (const auto& [name, value] : numbers) event.numbers.emplace_back(catalog.attribute_index.at(name), value);
  std::sort(event.numbers.begin(), event.numbers.end());
  return event;
}

double Contribution(const Catalog& catalog, std::string_view indicator, const EventRecord& event) {
  const MeasureDef* def = catalog.FindIndicator(indicator);
  if (def == nullptr) def = catalog.FindKeyType(indicator);
  EXPECT_NE(def, nullptr) << indicator;
  return MeasureContribution(*def, *catalog.TypeIndex(event.type), event);
}

TEST(Catalog, MeasureContribution) {
  const Catalog& catalog = Shipped();
  const EventRecord theft = Event(catalog, "criminal.theft", {{"loss_yuan", 800}});
  const EventRecord dispute = Event(catalog, "dispute.call", {});
  EXPECT_EQ(Contribution(catalog, "criminal.filed", theft), 1);
  EXPECT_EQ(Contribution(catalog, "criminal.theft", theft), 1);
  EXPECT_EQ(Contribution(catalog, "criminal.vice", theft), 0);
  EXPECT_EQ(Contribution(catalog, "criminal.filed", dispute), 0);
  EXPECT_EQ(Contribution(catalog, "key.dispute", dispute), 1);

  EXPECT_EQ(Contribution(catalog, "criminal.solved", theft), 0);  // solved missing
  EXPECT_EQ(Contribution(catalog, "criminal.solved", Event(catalog, "criminal.theft", {{"solved", 0}})), 0);
  EXPECT_EQ(Contribution(catalog, "criminal.solved", Event(catalog, "criminal.theft", {{"solved", 1}})), 1);

  const EventRecord two_dead = Event(catalog, "traffic.accident", {{"deaths", 2}, {"injuries", 5}});
  const EventRecord three_dead = Event(catalog, "traffic.accident", {{"deaths", 3}});
  EXPECT_EQ(Contribution(catalog, "traffic.major", two_dead), 0);
  EXPECT_EQ(Contribution(catalog, "traffic.major", three_dead), 1);
  EXPECT_EQ(Contribution(catalog, "traffic.accidents", two_dead), 1);
  EXPECT_EQ(Contribution(catalog, "traffic.deaths", two_dead), 2);
  EXPECT_EQ(Contribution(catalog, "traffic.injuries", two_dead), 5);
  EXPECT_EQ(Contribution(catalog, "traffic.injuries", three_dead), 0);  // missing adds 0
  EXPECT_EQ(Contribution(catalog, "key.traffic_death", three_dead), 3);
  EXPECT_EQ(Contribution(catalog, "fire.deaths", three_dead), 0);      // another type
  EXPECT_EQ(Contribution(catalog, "safety.major", three_dead), 0);

  EXPECT_EQ(Contribution(catalog, "litigation.filed", Event(catalog, "litigation.civil", {})), 1);
  EXPECT_EQ(Contribution(catalog, "litigation.filed", Event(catalog, "litigation.mediation", {{"succeeded", 1}})), 0);
  EXPECT_EQ(Contribution(catalog, "litigation.mediated", Event(catalog, "litigation.mediation", {{"succeeded", 1}})), 1);

  EventRecord withdrawn = three_dead;
  withdrawn.status = EventStatus::kWithdrawn;
  EXPECT_EQ(Contribution(catalog, "traffic.accidents", withdrawn), 0);
  EXPECT_EQ(Contribution(catalog, "traffic.deaths", withdrawn), 0);
}

TEST(Catalog, JsonListsEverythingInFileOrder) {
  const nlohmann::json json = nlohmann::json::parse(CatalogJson(Shipped()));
  ASSERT_EQ(json["indicators"].size(), 33u);
  EXPECT_EQ(json["sources"].size(), 7u);
  EXPECT_EQ(json["domains"].size(), 7u);
  EXPECT_EQ(json["types"].size(), 21u);
  EXPECT_EQ(json["key_types"].size(), 9u);
  EXPECT_EQ(json["indicators"][0]["id"], "criminal.filed");
  EXPECT_EQ(json["indicators"][0]["zh"], "刑事案件立案数");
  EXPECT_EQ(json["indicators"][0]["types"], nlohmann::json::array({"criminal.*"}));
  EXPECT_EQ(json["indicators"][0]["unit"]["zh"], "起");
  EXPECT_EQ(json["indicators"][6]["id"], "criminal.solved");
  EXPECT_EQ(json["indicators"][6]["where"], nlohmann::json::array({"solved"}));
  EXPECT_EQ(json["indicators"][6]["higher_is_better"], true);
  EXPECT_EQ(json["sources"][0]["mapping"]["fields"]["type"], "案件类别");
  EXPECT_EQ(json["sources"][6]["mapping"]["default_type"], "labour.wage_arrears");
  EXPECT_FALSE(json["sources"][3].contains("mapping"));
  EXPECT_EQ(json["types"][1]["attributes"][1]["name"], "loss_yuan");
  EXPECT_EQ(json["types"][1]["attributes"][1]["kind"], "number");
  EXPECT_EQ(json["key_types"][6]["measure"], "sum:deaths");
  EXPECT_EQ(CatalogJson(Shipped()), CatalogJson(Shipped()));
}

// A broken copy of the shipped catalog: `from` replaced by `to` in config/catalog/FILE.
struct Broken {
  absl::Status status;
  std::string text;  // the broken file
  size_t at = 0;     // where `to` starts
  size_t to_size = 0;
  // The 1-based line of the first `marker` inside `to`, or else of the last one before it.
  int LineOf(std::string_view marker) const {
    size_t found = text.find(marker, at);
    if (found == std::string::npos || found + marker.size() > at + to_size) found = text.rfind(marker, at);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(found), '\n'));
  }
};

Broken Break(const std::string& file, const std::string& from, const std::string& to) {
  TempDir dir;
  auto config_dir = testing::CopyConfig(dir);
  Broken broken;
  broken.text = testing::ReadFile(config_dir / "catalog" / file);
  broken.at = broken.text.find(from);
  EXPECT_NE(broken.at, std::string::npos) << from;
  broken.text.replace(broken.at, from.size(), to);
  broken.to_size = to.size();
  dir.Write("config/catalog/" + file, broken.text);
  broken.status = LoadCatalog(config_dir).status();
  return broken;
}

// Expects the load error `config/catalog/FILE:LINE: key 'KEY'` with `message` after it, LINE
// being that of `marker` (see Broken::LineOf; default: the replacement's first line).
void ExpectError(const std::string& file, const std::string& from, const std::string& to, const std::string& key,
                 const std::string& message, const std::string& marker = "") {
  const Broken broken = Break(file, from, to);
  EXPECT_EQ(broken.status.code(), absl::StatusCode::kInvalidArgument) << broken.status;
  const std::string where =
      Cat("config/catalog/", file, ":", broken.LineOf(marker.empty() ? to.substr(0, to.find('\n')) : marker),
          ": key '", key, "'");
  const std::string text(broken.status.message());
  EXPECT_EQ(text.rfind(where, 0), 0u) << "expected " << where << "\n got " << text;
  EXPECT_NE(text.find(message), std::string::npos) << "expected " << message << "\n got " << text;
}

// One broken copy of the shipped catalog per validation rule: `from` replaced by `to` in FILE,
// and the error expected: its key, a part of its message, and the marker of its line.
struct BreakCase {
  std::string file, from, to, key, message, marker;
};

TEST(CatalogValidation, EveryRuleNamesFileLineAndKey) {
  const std::vector<BreakCase> cases = {
    // UnknownAndMissingKeys
    {"types.toml", "id = \"fire.alarm\"", "id = \"fire.alarm\"\ncolour = \"red\"", "colour", "unknown key", "colour"},
    {"indicators.toml", "# --- criminal ---", "colour = 1", "colour", "unknown key"},
    {"sources.toml", "time_format = \"%E4Y%m%d%H%M%S\"", "time_format = \"%E4Y%m%d%H%M%S\"\nformat = \"jsonl\"", "format", "unknown key", "format = \"jsonl\""},
    {"indicators.toml", "types = [\"criminal.*\"]\nmeasure = \"count\"\n", "types = [\"criminal.*\"]\n", "measure", "is missing", "[[indicator]]"},
    {"types.toml", "source = \"labour\"\n", "", "source", "is missing", "[[type]]"},
    {"key_types.toml", "unit = { zh = \"起\", en = \"cases\" }", "", "unit", "is missing", "[[key_type]]"},
    {"key_types.toml", "types = [\"criminal.vice\"]", "domain = \"criminal\"", "domain", "unknown key"},
    // DuplicateIds
    {"types.toml", "id = \"criminal.robbery\"", "id = \"criminal.theft\"", "id", "duplicate id 'criminal.theft'"},
    {"indicators.toml", "id = \"criminal.homicide\"", "id = \"criminal.filed\"", "id", "duplicate id 'criminal.filed'"},
    {"key_types.toml", "id = \"key.theft\"", "id = \"key.vice\"", "id", "duplicate id 'key.vice'"},
    {"sources.toml", "id = \"labour\"", "id = \"fire\"", "id", "duplicate id 'fire'"},
    {"domains.toml", "id = \"death\"", "id = \"fire\"", "id", "duplicate id 'fire'"},
    {"types.toml", "name = \"injuries\"", "name = \"deaths\"", "name", "duplicate attribute 'deaths'"},
    // TypesNameKnownSourcesDomainsAndAttributes
    {"types.toml", "source = \"labour\"", "source = \"labor\"", "source", "unknown source 'labor'"},
    {"types.toml", "domain = \"safety\"", "domain = \"safty\"", "domain", "unknown domain 'safty'"},
    {"types.toml", "domain = \"safety\"", "domain = \"fire\"", "domain", "not among the domains of source 'safety'"},
    {"types.toml", "attributes = [\"workers\", \"amount_yuan\"]", "attributes = [\"workers\", \"amount\"]", "attributes", "unknown attribute 'amount'"},
    {"types.toml", "kind = \"int\"", "kind = \"integer\"", "kind", "must be bool, int, number or text"},
    {"sources.toml", "domains = [\"fire\"]", "domains = [\"fires\"]", "domains", "unknown domain 'fires'"},
    // Mappings
    {"sources.toml", "source_id = \"acc_no\"", "sourceid = \"acc_no\"", "sourceid", "not a canonical field"},
    {"sources.toml", "ACC = \"traffic.accident\"", "ACC = \"traffic.acident\"", "ACC", "unknown event type 'traffic.acident'"},
    {"sources.toml", "\"撤诉\" = \"withdrawn\"", "\"撤诉\" = \"closed\"", "撤诉", "must be active or withdrawn"},
    {"sources.toml", "dead = \"deaths\"", "dead = \"dead\"", "dead", "unknown attribute 'dead'"},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"YYYY-MM-DD\"", "time_format", "is not a time format"},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"%Y-%m-%\"", "time_format", "is not a time format"},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"epoch_us\"", "time_format", "is not a time format"},
    {"sources.toml", "default_type = \"labour.wage_arrears\"", "default_type = \"labour.wages\"", "default_type", "unknown event type 'labour.wages'"},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"%Y-%m-%d\"\nencoding = \"klingon\"", "encoding", "unknown encoding 'klingon'", "encoding = \"klingon\""},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"%Y-%m-%d\"\nencoding = \"GBK//IGNORE\"", "encoding", "is not an encoding name", "encoding = \"GBK"},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"%Y-%m-%d\"\ncoordinates = \"Mars\"", "coordinates", "unknown coordinate system 'Mars'", "coordinates = \"Mars\""},
    {"sources.toml", "time_format = \"%Y-%m-%d\"", "time_format = \"%Y-%m-%d\"\ncoordinates = 2", "coordinates", "must be a string", "coordinates = 2"},
    {"sources.toml", "lng", "", "lon", "must not be empty"},
    // TypePatterns
    {"indicators.toml", "types = [\"criminal.*\"]", "types = [\"crimnal.*\"]", "types", "'crimnal.*' matches no event type"},
    {"indicators.toml", "types = [\"criminal.homicide\"]", "types = [\"criminal.homicid\"]", "types", "'criminal.homicid' matches no event type"},
    {"indicators.toml", "types = [\"criminal.*\"]", "types = [\"criminal*\"]", "types", "is not a type pattern"},
    {"key_types.toml", "types = [\"criminal.vice\"]", "types = [\"*\"]", "types", "is not a type pattern"},
    {"key_types.toml", "types = [\"criminal.vice\"]", "types = []", "types", "at least one type pattern"},
    {"indicators.toml", "\"litigation.administrative\", \"litigation.criminal\"]", "\"litigation.administrative\",\n  \"litigation.crimnal\"]", "types", "'litigation.crimnal'", "\"litigation.crimnal\""},
    // Conditions
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\"deaths >=\"]", "where", "'deaths >=' is not a condition"},
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\"foo ~ 3\"]", "where", "'foo ~ 3' is not a condition"},
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\">= 3\"]", "where", "is not a condition"},
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\"deaths >= three\"]", "where", "is not a condition"},
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\"fatalities >= 3\"]", "where", "unknown attribute 'fatalities'"},
    {"indicators.toml", "where = [\"deaths >= 3\"]", "where = [\"reporter_name >= 3\"]", "where", "attribute 'reporter_name' is text"},
    {"indicators.toml", "where = [\"collective\"]", "where = [\"solved\"]", "where", "attribute 'solved' is not declared by type petition.visit"},
    // Measures
    {"indicators.toml", "measure = \"sum:deaths\"", "measure = \"sum:reporter_phone\"", "measure", "attribute 'reporter_phone' is text"},
    {"indicators.toml", "measure = \"sum:deaths\"", "measure = \"sum:fatalities\"", "measure", "unknown attribute 'fatalities'"},
    {"key_types.toml", "measure = \"sum:deaths\"", "measure = \"sum:solved\"", "measure", "attribute 'solved' is bool; sums need int or number"},
    {"indicators.toml", "measure = \"sum:deaths\"", "measure = \"sum:workers\"", "measure", "attribute 'workers' is not declared by type traffic.accident"},
    {"indicators.toml", "measure = \"count\"", "measure = \"average\"", "measure", "is not a measure"},
    {"indicators.toml", "unit = { zh = \"起\", en = \"cases\" }", "unit = \"起\"", "unit", "must be a table"},
    {"indicators.toml", "unit = { zh = \"起\", en = \"cases\" }", "unit = { zh = \"起\" }", "en", "is missing"},
    {"indicators.toml", "measure = \"count\"\nhigher_is_better = true", "measure = \"count\"\nhigher_is_better = \"yes\"", "higher_is_better", "must be true or false", "higher_is_better"},
    // IndicatorDomain
    {"indicators.toml", "domain = \"criminal\"", "domain = \"crime\"", "domain", "unknown domain 'crime'"},
    // IdsAndLabels
    {"types.toml", "id = \"fire.alarm\"", "id = \"Fire.Alarm\"", "id", "is not an id"},
    {"indicators.toml", "id = \"criminal.filed\"", "id = \"criminal..filed\"", "id", "is not an id"},
    {"key_types.toml", "id = \"key.vice\"", "id = \"key.vice.\"", "id", "is not an id"},
    {"domains.toml", "id = \"death\"", "id = \"9death\"", "id", "is not an id"},
    {"types.toml", "name = \"workers\"", "name = \"workers.count\"", "name", "is not an attribute name"},
    {"types.toml", "zh = \"火警\"", "zh = \"\"", "zh", "must not be empty"},
    {"indicators.toml", "en = \"Thefts\"", "en = \"\"", "en", "must not be empty"},
    {"types.toml", "zh = \"火警\"", "zh = 7", "zh", "must be a string"},
    {"indicators.toml", "unit = { zh = \"起\", en = \"cases\" }", "unit = { zh = \"\", en = \"cases\" }", "zh", "must not be empty"},
  };
  for (const BreakCase& rule : cases) {
    SCOPED_TRACE(rule.file + ": " + rule.to);
    ExpectError(rule.file, rule.from, rule.to, rule.key, rule.message, rule.marker);
  }
}

TEST(CatalogValidation, InvalidUtf8AndSyntaxNameFileAndLine) {
  const Broken utf8 = Break("types.toml", "zh = \"火警\"", "zh = \"\xff\xfe\"");
  EXPECT_EQ(utf8.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(utf8.status.message()).rfind(Cat("config/catalog/types.toml:", utf8.LineOf("zh = ")), 0), 0u)
      << utf8.status;
  const Broken syntax = Break("key_types.toml", "measure = \"count\"", "measure = count");
  EXPECT_EQ(syntax.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(syntax.status.message()).rfind(Cat("config/catalog/key_types.toml:", syntax.LineOf("measure")), 0),
            0u)
      << syntax.status;
}

TEST(CatalogValidation, ASourcesEncodingIsReadWhenIconvKnowsIt) {
  TempDir dir;
  auto config_dir = testing::CopyConfig(dir);
  std::string text = testing::ReadFile(config_dir / "catalog" / "sources.toml");
  const std::string from = "time_format = \"%Y-%m-%d %H:%M:%S\"";  // the police mapping's
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), from + "\nencoding = \"gbk\"\ncoordinates = \"gcj-02\"");
  const std::string labour_format = "time_format = \"%Y-%m-%d\"";  // the labour mapping's
  ASSERT_NE(text.find(labour_format), std::string::npos);
  text.replace(text.find(labour_format), labour_format.size(), "time_format = \"epoch_ms\"");
  dir.Write("config/catalog/sources.toml", text);
  absl::StatusOr<Catalog> catalog = LoadCatalog(config_dir);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->FindSource("police")->mapping->encoding, "gbk");
  EXPECT_EQ(catalog->FindSource("court")->mapping->encoding, "");
  EXPECT_EQ(catalog->FindSource("police")->mapping->coordinates, Datum::kGcj02);
  EXPECT_EQ(catalog->FindSource("court")->mapping->coordinates, Datum::kWgs84);
  EXPECT_EQ(catalog->FindSource("labour")->mapping->time_format, "epoch_ms");
  const nlohmann::json json = nlohmann::json::parse(CatalogJson(*catalog));
  for (const nlohmann::json& source : json["sources"]) {
    if (source["id"] == "police") {
      EXPECT_EQ(source["mapping"]["encoding"], "gbk");
    }
    if (source["id"] == "police") {
      EXPECT_EQ(source["mapping"]["coordinates"], "GCJ-02");
    }
    if (source["id"] == "court") {
      EXPECT_EQ(source["mapping"]["coordinates"], "WGS-84");
    }
  }
}

TEST(CatalogValidation, MissingFileOrDirectory) {
  TempDir dir;
  auto config_dir = testing::CopyConfig(dir);
  std::filesystem::remove(config_dir / "catalog" / "key_types.toml");
  absl::Status missing = LoadCatalog(config_dir).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("key_types.toml"), absl::string_view::npos) << missing;
  EXPECT_EQ(LoadCatalog(dir.path() / "nowhere").status().code(), absl::StatusCode::kNotFound);
}

TEST(CatalogCli, JsonHasThe33Indicators) {
  const testing::Output run = testing::RunPingan("catalog --json", "");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["indicators"].size(), 33u);
  EXPECT_EQ(json["key_types"].size(), 9u);
  EXPECT_EQ(json["indicators"][32]["id"], "death.drowning");
}

TEST(CatalogCli, TextListingAndErrors) {
  const testing::Output run = testing::RunPingan("catalog", "");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (std::string_view text : {"criminal.filed", "刑事案件立案数", "key.traffic_death", "交通亡人",
                                "labour.wage_arrears", "来源系统", "police"}) {
    EXPECT_NE(run.out.find(text), std::string::npos) << text << "\n" << run.out;
  }

  TempDir dir;
  auto config_dir = testing::CopyConfig(dir);
  std::string text = testing::ReadFile(config_dir / "catalog" / "indicators.toml");
  text.replace(text.find("criminal.*"), 10, "crimnal.*");
  dir.Write("config/catalog/indicators.toml", text);
  const testing::Output bad = testing::RunPingan("catalog --json --config '" + config_dir.string() + "'", "");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_NE(bad.err.find("config/catalog/indicators.toml:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("matches no event type"), std::string::npos) << bad.err;
}

TEST(Masking, PhoneAndIdNumbersInTextKeepOnlyTheirEnds) {
  EXPECT_EQ(MaskDigitRuns("西湖区文三路478号 电话13812345678"), "西湖区文三路478号 电话138****5678");
  EXPECT_EQ(MaskDigitRuns("文北路102号 158 0000 0001"), "文北路102号 158 **** 0001");
  EXPECT_EQ(MaskDigitRuns("0571-8888-6666"), "057*-****-6666");
  EXPECT_EQ(MaskDigitRuns("电话１３８１２３４５６７８"), "电话１３８****５６７８");
  EXPECT_EQ(MaskDigitRuns("33010619900101123X"), "330106********123X");
  EXPECT_EQ(MaskDigitRuns("8888666 号"), "******* 号");
  EXPECT_EQ(MaskDigitRuns("12幢3单元1203室 12-3-1203"), "12幢3单元1203室 12-3-1203");
}

}  // namespace
}  // namespace pingan
