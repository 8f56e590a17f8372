// Small helpers shared by `drctl etcd` and `drctl snapshot`: loading the inventory with its diagnostics printed,
// and durations written the way operators write them ("30s", "500ms", "2m", "1h"; a bare number is seconds).
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "inventory/inventory_loader.h"

namespace dr::cli {

inline std::optional<Inventory> loadInventoryForCli(const std::string& path) {
  InventoryLoad load = loadInventory(path);
  for (const auto& d : load.diagnostics) fmt::print(stderr, "{}\n", d.str());
  if (!load.inventory) return std::nullopt;
  return std::move(load.inventory);
}

inline std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || value < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  return std::nullopt;
}

inline std::optional<std::chrono::milliseconds> parseDurationArg(const std::string& text, const char* option) {
  auto duration = parseDuration(text);
  if (!duration) fmt::print(stderr, "drctl: {} {}: expected a duration such as 500ms, 30s, 2m or 1h\n", option, text);
  return duration;
}

}  // namespace dr::cli
