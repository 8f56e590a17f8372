// Helpers shared by the inventory tests: parse a YAML text and look diagnostics up by their place.
#pragma once

#include <string>
#include <vector>

#include "inventory/inventory_loader.h"

namespace dr::test {

inline InventoryLoad parse(const std::string& text) {
  return parseInventory(text, "inv.yaml");
}

// Every diagnostic as "LINE:COLUMN: [warning: ]message" (the file name left out), in the loader's order.
inline std::vector<std::string> placed(const InventoryLoad& load) {
  std::vector<std::string> out;
  for (const auto& d : load.diagnostics) {
    out.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " +
                  (d.severity == Severity::Warning ? "warning: " : "") + d.message);
  }
  return out;
}

// The message of the one diagnostic at LINE:COLUMN, or "<none at L:C; have: ...>" so a failure shows what was found.
inline std::string messageAt(const InventoryLoad& load, int line, int column) {
  for (const auto& d : load.diagnostics) {
    if (d.where.line == line && d.where.column == column) return d.message;
  }
  std::string have;
  for (const auto& p : placed(load)) have += "\n  " + p;
  return "<none at " + std::to_string(line) + ":" + std::to_string(column) + "; have:" + have + ">";
}

}  // namespace dr::test
