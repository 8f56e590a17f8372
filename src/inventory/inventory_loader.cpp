// Reading and validating an inventory file (the schema is documented in docs/inventory.md). Every problem is
// collected, located and reported at once; the Inventory is returned only when there are no errors.
#include "inventory/inventory_loader.h"

#include "core/file_io.h"
#include "core/utf8.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "core/suggest.h"
#include "inventory/inventory_sections.h"
#include "inventory/url.h"
#include "inventory/yaml_reader.h"

namespace dr {
namespace {

const std::vector<std::string> kTopKeys = {"cluster", "defaults",    "tooling",             "tls",       "members",
                                           "api_servers", "controller_managers", "schedulers", "kubelets"};
const std::vector<std::string> kDefaultsKeys = {"ssh",
                                                "data_dir",
                                                "etcd_user",
                                                "etcd_group",
                                                "etcd_service",
                                                "apiserver_service",
                                                "controller_manager_service",
                                                "scheduler_service",
                                                "kubelet_service"};
const std::vector<std::string> kMemberKeys = {"name",      "address",    "peer_url", "client_url", "data_dir",
                                              "etcd_user", "etcd_group", "ssh",      "service"};
const std::vector<std::string> kApiServerKeys = {"host", "ssh", "service", "readyz_url"};
const std::vector<std::string> kComponentKeys = {"host", "ssh", "service"};

// The three optional lists of Kubernetes components, each with its defaults key and service role.
struct ComponentSection {
  const char* key;           // "controller_managers"
  const char* defaults_key;  // "controller_manager_service"
  const char* what;          // "controller manager"
  KubeRole role;
  ServiceRole service_role;
};
const ComponentSection kComponentSections[] = {
    {"controller_managers", "controller_manager_service", "controller manager", KubeRole::ControllerManager,
     ServiceRole::ControllerManager},
    {"schedulers", "scheduler_service", "scheduler", KubeRole::Scheduler, ServiceRole::Scheduler},
    {"kubelets", "kubelet_service", "kubelet", KubeRole::Kubelet, ServiceRole::Kubelet},
};

constexpr int kDefaultClientPort = 2379;
constexpr int kDefaultApiServerPort = 6443;

// What members and API servers start from before their own overrides.
struct Defaults {
  SshSettings ssh;
  std::string data_dir = "/var/lib/etcd";
  std::string etcd_user = "etcd";
  std::string etcd_group = "etcd";
  ServiceControl etcd_service = defaultService(ServiceRole::Etcd);
  ServiceControl apiserver_service = defaultService(ServiceRole::ApiServer);
  std::map<KubeRole, ServiceControl> component_service = {
      {KubeRole::ControllerManager, defaultService(ServiceRole::ControllerManager)},
      {KubeRole::Scheduler, defaultService(ServiceRole::Scheduler)},
      {KubeRole::Kubelet, defaultService(ServiceRole::Kubelet)}};
};

// Cluster names end up in file names (the run lock) and in the cluster token: keep them to a safe alphabet.
bool isSafeLabel(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.front() == '.') return false;
  for (const unsigned char c : text) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Member names are data: the planner quotes them, so `;` or `$(...)` cannot inject. Only what breaks etcd's own
// syntax is refused: `,` and `=` split --initial-cluster ("name=url,name=url"), control characters split lines.
std::optional<std::string> memberNameProblem(std::string_view name) {
  for (const unsigned char c : name) {
    if (c == ',' || c == '=') {
      return fmt::format("must not contain '{}': it would split etcd's --initial-cluster (NAME=URL,NAME=URL)",
                         static_cast<char>(c));
    }
    if (c < 0x20 || c == 0x7f) return std::string("must not contain control characters (tab, newline...)");
  }
  return std::nullopt;
}

// Reports the second and later occurrences of a value, naming the first one's line.
class UniqueValues {
 public:
  UniqueValues(DiagnosticSink& sink, std::string what) : sink_(sink), what_(std::move(what)) {}
  // `normalized` is compared; `shown` is what the message quotes. Returns false for a duplicate.
  bool add(const std::string& normalized, const std::string& shown, const SourceLocation& where,
           std::string_view owner_note = "") {
    auto [it, inserted] = first_.emplace(normalized, where);
    if (inserted) return true;
    sink_.error(where,
                fmt::format("duplicate {} '{}'{} (first used at line {})", what_, shown, owner_note, it->second.line));
    return false;
  }

 private:
  DiagnosticSink& sink_;
  std::string what_;
  std::map<std::string, SourceLocation> first_;
};

std::string lowerCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// An etcd URL: http or https, an explicit port, no path (etcd refuses peer and client URLs with a path).
std::optional<Url> readEtcdUrl(MappingReader& reader, std::string_view key, Need need) {
  auto text = reader.string(key, need);
  if (!text) return std::nullopt;
  auto url = parseUrl(*text);
  if (!url) {
    reader.badValue(key, fmt::format("'{}' is malformed: {}", *text, url.error().message));
    return std::nullopt;
  }
  if (url->port == 0) {
    reader.badValue(key, fmt::format("'{}' has no port: etcd URLs need one (SCHEME://HOST:PORT)", *text));
    return std::nullopt;
  }
  if (!url->path.empty() && url->path != "/") {
    reader.badValue(key, fmt::format("'{}' has a path: etcd URLs are SCHEME://HOST:PORT only", *text));
    return std::nullopt;
  }
  url->path.clear();
  return *url;
}

class InventoryParser {
 public:
  explicit InventoryParser(DiagnosticSink& sink) : sink_(sink) {}

  Inventory parse(const YAML::Node& root) {
    Inventory inventory;
    MappingReader reader(sink_, root, "the inventory", kTopKeys);
    if (auto name = reader.string("cluster", Need::Required)) {
      if (!isSafeLabel(*name)) {
        reader.badValue("cluster", fmt::format("'{}' may hold only letters, digits, '-', '_' and '.' (it names "
                                               "lock files and the cluster token)",
                                               *name));
      }
      inventory.cluster_name = *name;
    }
    if (auto map = reader.mapping("defaults")) readDefaults(*map);
    if (auto map = reader.mapping("tooling")) inventory.tooling = readTooling(sink_, *map);
    if (auto map = reader.mapping("tls")) inventory.tls = readTls(sink_, *map);
    if (auto members = reader.sequence("members", Need::Required)) {
      readMembers(reader, *members, inventory);
    }
    if (auto servers = reader.sequence("api_servers")) {
      if (servers->size() > kMaxInventoryHosts) {
        sink_.error(sink_.at((*servers)[kMaxInventoryHosts]),
                    fmt::format("{} API servers: a plan for more than {} is refused (every etcd member waits for "
                                "every API server to stop)",
                                servers->size(), kMaxInventoryHosts));
      } else {
        for (const auto& item : *servers) readApiServer(item, inventory);
      }
    }
    for (const auto& section : kComponentSections) {
      auto items = reader.sequence(section.key);
      if (!items) continue;
      if (items->size() > kMaxInventoryHosts) {
        sink_.error(sink_.at((*items)[kMaxInventoryHosts]),
                    fmt::format("{} {}s: more than {} are refused", items->size(), section.what, kMaxInventoryHosts));
        continue;
      }
      UniqueValues hosts{sink_, std::string(section.what) + " host"};
      for (const auto& item : *items) readComponent(item, section, hosts, inventory);
    }
    return inventory;
  }

 private:
  std::optional<std::string> readPath(MappingReader& reader, std::string_view key) {
    auto path = reader.string(key);
    if (path && !isSafeAbsolutePath(*path)) {
      reader.badValue(key, fmt::format("must be an absolute path other than '/', with no '.', '..' or empty "
                                       "component, trailing '/' or control character, not {}",
                                       nlohmann::json(toValidUtf8(*path)).dump()));
      return std::nullopt;
    }
    return path;
  }

  // A user or group for chown: no spaces, no ':' (chown's USER:GROUP separator), not an option.
  std::optional<std::string> readAccount(MappingReader& reader, std::string_view key) {
    auto name = reader.string(key);
    if (name && !isSafeLabel(*name)) {
      reader.badValue(key, fmt::format("'{}' is not a user or group name (letters, digits, '-', '_', '.')", *name));
      return std::nullopt;
    }
    return name;
  }

  void readDefaults(const YAML::Node& map) {
    MappingReader reader(sink_, map, "defaults", kDefaultsKeys);
    if (auto ssh = reader.mapping("ssh")) defaults_.ssh = readSsh(sink_, *ssh, "defaults.ssh", defaults_.ssh);
    if (auto path = readPath(reader, "data_dir")) defaults_.data_dir = *path;
    if (auto user = readAccount(reader, "etcd_user")) defaults_.etcd_user = *user;
    if (auto group = readAccount(reader, "etcd_group")) defaults_.etcd_group = *group;
    if (auto map_node = reader.mapping("etcd_service")) {
      if (auto service = readService(sink_, *map_node, "defaults.etcd_service", ServiceRole::Etcd)) {
        defaults_.etcd_service = *service;
      }
    }
    if (auto map_node = reader.mapping("apiserver_service")) {
      if (auto service = readService(sink_, *map_node, "defaults.apiserver_service", ServiceRole::ApiServer)) {
        defaults_.apiserver_service = *service;
      }
    }
    for (const auto& section : kComponentSections) {
      if (auto map_node = reader.mapping(section.defaults_key)) {
        if (auto service = readService(sink_, *map_node, std::string("defaults.") + section.defaults_key,
                                       section.service_role)) {
          defaults_.component_service[section.role] = *service;
        }
      }
    }
  }

  void readMembers(MappingReader& top, const std::vector<YAML::Node>& items, Inventory& inventory) {
    const std::size_t count = items.size();
    if (count > kMaxInventoryHosts) {
      sink_.error(sink_.at(items[kMaxInventoryHosts]),
                  fmt::format("{} members: an etcd cluster has 3, 5 or 7 members, and a plan for more than {} is "
                              "refused (its size grows with the square of the count: every member's restore names "
                              "every other member)",
                              count, kMaxInventoryHosts));
      return;
    }
    for (const auto& item : items) readMember(item, inventory);
    if (count == 0) {
      sink_.error(top.valueAt("members"), "'members' is empty: an inventory needs at least one etcd member");
    } else if (count % 2 == 0) {
      // Quorum is a majority: n/2+1 members must be up, so n and n-1 tolerate the same number of failures.
      sink_.warning(top.keyAt("members"),
                    fmt::format("{} members is an even count: a majority of {} is {}, so it tolerates {} failed "
                                "member(s), no more than {} members would; an odd count is usual",
                                count, count, count / 2 + 1, (count - 1) / 2, count - 1));
    }
  }

  void readMember(const YAML::Node& item, Inventory& inventory) {
    if (!item.IsMap()) {
      sink_.error(sink_.at(item),
                  fmt::format("a member must be a mapping (name, address, peer_url...), not {}", describeNode(item)));
      return;
    }
    MappingReader reader(sink_, item, "member", kMemberKeys);
    EtcdMember member;
    member.where = reader.at();
    member.ssh = defaults_.ssh;
    member.data_dir = defaults_.data_dir;
    member.etcd_user = defaults_.etcd_user;
    member.etcd_group = defaults_.etcd_group;
    member.service = defaults_.etcd_service;

    if (auto name = reader.string("name", Need::Required)) {
      if (auto problem = memberNameProblem(*name)) {
        reader.badValue("name", *problem);
      } else {
        member.name = *name;
        names_.add(*name, *name, reader.valueAt("name"));
      }
    }
    bool address_ok = false;
    if (auto address = reader.string("address", Need::Required)) {
      if (!isPlausibleAddress(*address)) {
        reader.badValue("address", fmt::format("'{}' is not an IP address or a DNS name", *address));
      } else {
        member.address = *address;
        address_ok = addresses_.add(lowerCase(*address), *address, reader.valueAt("address"));
      }
    }
    auto peer = readEtcdUrl(reader, "peer_url", Need::Required);
    if (peer) {
      member.peer_url = peer->str();
      if (!member.address.empty() && !sameHost(peer->host, member.address)) {
        reader.badValue("peer_url", fmt::format("host '{}' is not the member's address '{}': etcd peers and SSH "
                                                "must reach the same machine",
                                                peer->host, member.address));
      }
      peer_urls_.add(lowerCase(member.peer_url), member.peer_url, reader.valueAt("peer_url"));
    }
    if (reader.has("client_url")) {
      if (auto client = readEtcdUrl(reader, "client_url", Need::Optional)) {
        member.client_url = client->str();
        client_urls_.add(lowerCase(member.client_url), member.client_url, reader.valueAt("client_url"));
      }
    } else if (peer && !member.address.empty()) {
      member.client_url = fmt::format("{}://{}:{}", peer->scheme, hostForUrl(member.address), kDefaultClientPort);
      // A defaulted URL that repeats another's is only news when the addresses differ (else that was reported).
      if (address_ok) {
        client_urls_.add(lowerCase(member.client_url), member.client_url, reader.at(), " (the default client URL)");
      }
    }
    if (auto path = readPath(reader, "data_dir")) member.data_dir = *path;
    if (auto user = readAccount(reader, "etcd_user")) member.etcd_user = *user;
    if (auto group = readAccount(reader, "etcd_group")) member.etcd_group = *group;
    if (auto ssh = reader.mapping("ssh")) member.ssh = readSsh(sink_, *ssh, "member ssh", member.ssh);
    if (auto map = reader.mapping("service")) {
      if (auto service = readService(sink_, *map, "member service", ServiceRole::Etcd)) member.service = *service;
    }
    inventory.members.push_back(std::move(member));
  }

  void readApiServer(const YAML::Node& item, Inventory& inventory) {
    if (!item.IsMap()) {
      sink_.error(sink_.at(item),
                  fmt::format("an API server must be a mapping (host, ssh, service...), not {}", describeNode(item)));
      return;
    }
    MappingReader reader(sink_, item, "API server", kApiServerKeys);
    ApiServer server;
    server.where = reader.at();
    server.ssh = defaults_.ssh;
    server.service = defaults_.apiserver_service;
    if (auto host = reader.string("host", Need::Required)) {
      server.host = *host;
      resolveApiServerHost(reader, inventory, server);
    }
    if (auto ssh = reader.mapping("ssh")) server.ssh = readSsh(sink_, *ssh, "API server ssh", server.ssh);
    if (auto map = reader.mapping("service")) {
      if (auto service = readService(sink_, *map, "API server service", ServiceRole::ApiServer)) {
        server.service = *service;
      }
    }
    if (auto text = reader.string("readyz_url")) {
      if (auto url = parseUrl(*text)) {
        server.readyz_url = url->str();
      } else {
        reader.badValue("readyz_url", fmt::format("'{}' is malformed: {}", *text, url.error().message));
      }
    } else if (!server.address.empty()) {
      server.readyz_url = fmt::format("https://{}:{}/readyz", hostForUrl(server.address), kDefaultApiServerPort);
    }
    inventory.api_servers.push_back(std::move(server));
  }

  // A controller manager, scheduler or kubelet: a host like an API server's, and a service of its role.
  void readComponent(const YAML::Node& item, const ComponentSection& section, UniqueValues& hosts,
                     Inventory& inventory) {
    if (!item.IsMap()) {
      sink_.error(sink_.at(item), fmt::format("a {} must be a mapping (host, ssh, service), not {}", section.what,
                                              describeNode(item)));
      return;
    }
    MappingReader reader(sink_, item, section.what, kComponentKeys);
    KubeComponent component;
    component.role = section.role;
    component.where = reader.at();
    component.ssh = defaults_.ssh;
    component.service = defaults_.component_service.at(section.role);
    bool on_member = false;
    if (auto host = reader.string("host", Need::Required)) {
      component.host = *host;
      if (auto resolved = resolveHost(reader, inventory, component.host, section.what)) {
        component.address = resolved->address;
        on_member = resolved->member != nullptr;
        if (on_member) component.ssh = resolved->member->ssh;
        hosts.add(lowerCase(component.address), component.host, reader.valueAt("host"));
      }
    }
    if (auto ssh = reader.mapping("ssh")) {
      component.ssh = readSsh(sink_, *ssh, std::string(section.what) + " ssh", component.ssh);
      // The run keeps one SSH session per host, made with the member's settings on a member's host.
      if (on_member) {
        sink_.warning(reader.keyAt("ssh"),
                      fmt::format("ssh of the {} on {} is not used: it runs on a member's host, reached with that "
                                  "member's SSH settings (one session per host)",
                                  section.what, component.host));
      }
    }
    if (auto map = reader.mapping("service")) {
      if (auto service = readService(sink_, *map, std::string(section.what) + " service", section.service_role)) {
        component.service = *service;
      }
    }
    (section.role == KubeRole::Kubelet ? inventory.kubelets : inventory.components).push_back(std::move(component));
  }

  // A member name takes the member's address and SSH settings; so does an address that is a member's.
  void resolveApiServerHost(MappingReader& reader, const Inventory& inventory, ApiServer& server) {
    auto resolved = resolveHost(reader, inventory, server.host, "API server");
    if (!resolved) return;
    server.address = resolved->address;
    if (resolved->member) server.ssh = resolved->member->ssh;
    api_hosts_.add(lowerCase(server.address), server.host, reader.valueAt("host"), " (as an API server host)");
  }

  struct ResolvedHost {
    std::string address;
    const EtcdMember* member = nullptr;  // the member whose host it is, if any
  };

  // A host as written: a member's name, or an address (a member's or another machine's). Reports and returns
  // nullopt when it is neither.
  std::optional<ResolvedHost> resolveHost(MappingReader& reader, const Inventory& inventory, const std::string& host,
                                          const char* what) {
    const EtcdMember* member = inventory.findMember(host);
    if (!member) {
      for (const auto& candidate : inventory.members) {
        if (!candidate.address.empty() && sameHost(candidate.address, host)) member = &candidate;
      }
    }
    if (member) return ResolvedHost{member->address, member};
    std::vector<std::string> names;
    for (const auto& m : inventory.members) names.push_back(m.name);
    if (isPlausibleAddress(host)) {
      // A DNS-looking host one typo away from a member name was most likely meant to be that member.
      if (!isIpv4Literal(host) && !isIpv6Literal(host)) {
        if (auto guess = closestMatch(host, names)) {
          sink_.warning(reader.valueAt("host"),
                        fmt::format("{} host '{}' is not a member name, so it is taken as a DNS name; did you mean "
                                    "member '{}'?",
                                    what, host, *guess));
        }
      }
      return ResolvedHost{host, nullptr};
    }
    std::string message = fmt::format("'{}' is neither a member name nor an IP address or DNS name", host);
    if (auto guess = closestMatch(host, names)) message += fmt::format("; did you mean '{}'?", *guess);
    reader.badValue("host", message);
    return std::nullopt;
  }

  DiagnosticSink& sink_;
  Defaults defaults_;
  UniqueValues names_{sink_, "member name"};
  UniqueValues addresses_{sink_, "member address"};
  UniqueValues peer_urls_{sink_, "peer URL"};
  UniqueValues client_urls_{sink_, "client URL"};
  UniqueValues api_hosts_{sink_, "API server host"};
};

}  // namespace

InventoryLoad parseInventory(std::string_view yaml_text, const std::filesystem::path& file_name) {
  DiagnosticSink sink(file_name.string());
  InventoryLoad load;
  try {
    const SingleDocument document = loadSingleDocument(yaml_text);
    const YAML::Node& root = document.root;
    if (document.second_document) {
      sink.error(sink.at(document.second_document->line, document.second_document->column),
                 "a second YAML document starts here: an inventory is one document (remove the '---' and what "
                 "follows, or give it its own file)");
    } else if (root.IsNull()) {
      sink.error(SourceLocation{file_name.string(), 1, 1},
                 "the inventory is empty: it needs at least 'cluster' and 'members'");
    } else if (!root.IsMap()) {
      sink.error(sink.at(root), fmt::format("an inventory must be a mapping with 'cluster', 'members' and more, not {}",
                                            describeKind(root)));
    } else {
      Inventory inventory = InventoryParser(sink).parse(root);
      inventory.source = file_name;
      if (!sink.hasErrors()) load.inventory = std::move(inventory);
    }
  } catch (const YAML::Exception& e) {
    sink.error(sink.at(e.mark.line, e.mark.column), fmt::format("YAML syntax error: {}", e.msg));
  }
  load.diagnostics = sink.take();
  return load;
}

InventoryLoad loadInventory(const std::filesystem::path& path) {
  auto text = readRegularFile(path, kMaxConfigFileBytes, "inventory");
  if (!text) {
    InventoryLoad load;
    load.diagnostics.push_back(Diagnostic{Severity::Error, SourceLocation{path.string(), 0, 0},
                                               messageWithoutPath(text.error(), path)});
    return load;
  }
  return parseInventory(*text, path);
}

}  // namespace dr
