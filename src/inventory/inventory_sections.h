// The parts of an inventory that appear in more than one place: SSH settings (defaults, members, API servers),
// service control (defaults, members, API servers), plus the tooling and TLS sections. Each reader reports its
// problems to the sink and returns what it could read; the loader (inventory_loader.cpp) assembles the whole.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "inventory/inventory.h"
#include "inventory/yaml_reader.h"

namespace dr {

// `~` and `~/...` expanded with $HOME (or the passwd entry when HOME is unset); anything else unchanged.
std::string expandHome(const std::string& path);

// The settings of `base` with the fields present in `map` overriding them (per field).
SshSettings readSsh(DiagnosticSink& sink, const YAML::Node& map, const std::string& what, SshSettings base);

// Which service a ServiceControl is for: it decides the systemd unit used when `unit` is left out.
enum class ServiceRole { Etcd, ApiServer, ControllerManager, Scheduler, Kubelet };
ServiceControl defaultService(ServiceRole role);

// A whole service control (an override replaces the default entirely, it is not merged field by field).
// nullopt when it has errors.
std::optional<ServiceControl> readService(DiagnosticSink& sink, const YAML::Node& map, const std::string& what,
                                          ServiceRole role);

EtcdTooling readTooling(DiagnosticSink& sink, const YAML::Node& map);
TlsFiles readTls(DiagnosticSink& sink, const YAML::Node& map);

// An absolute path that is not "/" itself, spelled one way only: no ".", ".." or empty component, no trailing '/',
// no control character. Data dirs are moved aside under names derived from them, and moving "/" is never meant.
bool isSafeAbsolutePath(std::string_view path);

}  // namespace dr
