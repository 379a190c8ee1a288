// The OpenAPI 3 document of the HTTP API (src/server/openapi.json, embedded at build time and
// served at /api/openapi.json; a test checks it against Server::Routes()).
#pragma once

#include <string_view>

namespace pingan {

extern const std::string_view kOpenApiJson;

}  // namespace pingan
