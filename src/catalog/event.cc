#include "catalog/event.h"

namespace pingan {

std::string_view EventStatusName(EventStatus status) {
  return status == EventStatus::kWithdrawn ? "withdrawn" : "active";
}

std::string_view PlaceMethodName(PlaceMethod method) {
  switch (method) {
    case PlaceMethod::kCode: return "code";
    case PlaceMethod::kPoint: return "point";
    case PlaceMethod::kText: return "text";
    case PlaceMethod::kNone: break;
  }
  return "none";
}

}  // namespace pingan
