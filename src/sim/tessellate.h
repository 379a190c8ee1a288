// A deterministic tessellation: a rectangle cut into rectangles whose areas are proportional
// to given weights, by recursive halving along the longer side. Used for the demo city's
// synthetic polygons: districts tile the city, towns their district, and so on down to grids.
#pragma once

#include <span>
#include <vector>

#include "address/registry.h"

namespace pingan {

// Returns one box per weight, in order; they tile `box` exactly (shared edges, no gaps).
// Weights must be positive; an empty span gives an empty result.
std::vector<BoundingBox> Tessellate(const BoundingBox& box, std::span<const double> weights);

// The GeoJSON Polygon of a box (counter-clockwise, closed).
std::string BoxToGeoJson(const BoundingBox& box);

}  // namespace pingan
