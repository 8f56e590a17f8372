// Reads and validates an inventory file. Every problem is reported at once as a Diagnostic with the file, line and
// column it was found at: unknown keys (with a did-you-mean), missing fields, wrong types, duplicates, a peer URL
// whose host is not the member's address, zero members, an even member count (a warning).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"
#include "inventory/inventory.h"

namespace dr {

// At most this many members, and as many API servers: an etcd cluster has 3, 5 or 7 members, and a plan's size grows
// with the square of the count (each restore lists every member, each start waits for every restore), so a number
// far beyond any real cluster is refused before it is planned.
inline constexpr std::size_t kMaxInventoryHosts = 100;

struct InventoryLoad {
  std::optional<Inventory> inventory;  // set only when there are no errors (warnings allowed)
  std::vector<Diagnostic> diagnostics;
};

InventoryLoad loadInventory(const std::filesystem::path& path);
// `file_name` is used in diagnostics only.
InventoryLoad parseInventory(std::string_view yaml_text, const std::filesystem::path& file_name);

}  // namespace dr
