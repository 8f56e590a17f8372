// Readers for the inventory's repeated sections: ssh, service control, tooling, tls. See inventory_sections.h.
#include <algorithm>
#include "inventory/inventory_sections.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace dr {
namespace {

const std::vector<std::string> kSshKeys = {"user", "port", "identity_file", "known_hosts", "become"};
const std::vector<std::string> kKinds = {"systemd", "static-pod", "command"};
const std::vector<std::string> kSystemdKeys = {"kind", "unit"};
const std::vector<std::string> kStaticPodKeys = {"kind", "manifest", "parked_dir", "container"};
const std::vector<std::string> kCommandKeys = {"kind", "start", "stop", "status"};
const std::vector<std::string> kAllServiceKeys = {"kind",      "unit",  "manifest", "parked_dir",
                                                  "container", "start", "stop",     "status"};

constexpr const char* kDefaultParkedDir = "/etc/kubernetes/manifests-parked";

std::string homeDirectory() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* entry = getpwuid(getuid()); entry && entry->pw_dir) return entry->pw_dir;
  return "/";
}

// "/a/b/", "/a/./b" and "/a/b" name the same directory.
std::filesystem::path directoryOf(const std::filesystem::path& path) {
  std::filesystem::path normal = path.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

}  // namespace

std::string expandHome(const std::string& path) {
  if (path == "~") return homeDirectory();
  if (path.starts_with("~/")) return homeDirectory() + path.substr(1);
  return path;
}

bool isSafeAbsolutePath(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  // Control characters (NUL, newline) would end or split the path inside a command line.
  if (std::any_of(path.begin(), path.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) return false;
  // One spelling per directory: the swap derives sibling names from it (DIR.before-RUN), and with "/./" or "/../"
  // those siblings are somewhere else entirely ("mv /. /..before-RUN").
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

SshSettings readSsh(DiagnosticSink& sink, const YAML::Node& map, const std::string& what, SshSettings base) {
  MappingReader reader(sink, map, what, kSshKeys);
  if (auto user = reader.string("user")) base.user = *user;
  if (auto port = reader.port("port")) base.port = *port;
  // Empty identity_file means "use ssh-agent", empty known_hosts "the default file": both may be given empty.
  if (auto file = reader.string("identity_file", Need::Optional, true)) base.identity_file = expandHome(*file);
  if (auto file = reader.string("known_hosts", Need::Optional, true)) base.known_hosts = expandHome(*file);
  static const std::vector<std::string> kBecome = {"sudo", "none"};
  if (auto become = reader.choice("become", kBecome)) base.become = *become == "sudo" ? Become::Sudo : Become::None;
  return base;
}

ServiceControl defaultService(ServiceRole role) {
  ServiceControl service;
  service.kind = ServiceKind::Systemd;
  switch (role) {
    case ServiceRole::Etcd: service.unit = "etcd.service"; break;
    case ServiceRole::ApiServer: service.unit = "kube-apiserver.service"; break;
    case ServiceRole::ControllerManager: service.unit = "kube-controller-manager.service"; break;
    case ServiceRole::Scheduler: service.unit = "kube-scheduler.service"; break;
    case ServiceRole::Kubelet: service.unit = "kubelet.service"; break;
  }
  return service;
}

std::optional<ServiceControl> readService(DiagnosticSink& sink, const YAML::Node& map, const std::string& what,
                                          ServiceRole role) {
  const std::size_t errors_before = sink.errorCount();
  // The kind decides which keys are allowed, so look at it before reading the rest.
  const YAML::Node kind_node = map["kind"];
  const std::string kind = kind_node.IsDefined() && kind_node.IsScalar() ? kind_node.Scalar() : std::string();
  const std::vector<std::string>* keys = &kAllServiceKeys;
  if (kind == "systemd") keys = &kSystemdKeys;
  if (kind == "static-pod") keys = &kStaticPodKeys;
  if (kind == "command") keys = &kCommandKeys;
  const bool known_kind = keys != &kAllServiceKeys;
  MappingReader reader(sink, map, known_kind ? fmt::format("{} (kind {})", what, kind) : what, *keys);
  if (!reader.choice("kind", kKinds, Need::Required)) return std::nullopt;

  ServiceControl service = defaultService(role);
  service.where = reader.at();
  if (kind == "systemd") {
    if (auto unit = reader.string("unit")) service.unit = *unit;
  } else if (kind == "static-pod" && role == ServiceRole::Kubelet) {
    reader.badValue("kind", "must be systemd or command: a kubelet cannot be a static pod, it is what runs them");
  } else if (kind == "static-pod") {
    service.kind = ServiceKind::StaticPod;
    service.unit.clear();
    service.parked_dir = kDefaultParkedDir;
    if (auto manifest = reader.string("manifest", Need::Required)) {
      const std::filesystem::path path(*manifest);
      if (!isSafeAbsolutePath(*manifest) || !path.has_filename()) {
        reader.badValue("manifest", "must be the absolute path of a manifest file");
      } else {
        service.manifest = *manifest;
        std::string stem = path.filename().string();
        if (path.extension() == ".yaml" || path.extension() == ".yml") stem = path.stem().string();
        service.container_name = stem;
      }
    }
    if (auto parked = reader.string("parked_dir")) {
      while (parked->size() > 1 && parked->back() == '/') parked->pop_back();  // a directory may be written "dir/"
      if (!isSafeAbsolutePath(*parked)) {
        reader.badValue("parked_dir", "must be an absolute directory path");
      } else {
        service.parked_dir = *parked;
      }
    }
    // Parking the manifest inside the manifest directory would leave the kubelet running the pod.
    if (!service.manifest.empty() &&
        directoryOf(service.parked_dir) == directoryOf(std::filesystem::path(service.manifest).parent_path())) {
      sink.error(reader.has("parked_dir") ? reader.valueAt("parked_dir") : reader.at(),
                 fmt::format("parked_dir in {} is the manifest's own directory: the kubelet would keep running the "
                             "pod; park it elsewhere (default {})",
                             reader.what(), kDefaultParkedDir));
    }
    if (auto container = reader.string("container")) service.container_name = *container;
  } else if (kind == "command") {
    service.kind = ServiceKind::Command;
    service.unit.clear();
    // Operator-written commands are trusted like a shell script: inserted as written, never quoted.
    if (auto start = reader.string("start", Need::Required)) service.start = *start;
    if (auto stop = reader.string("stop", Need::Required)) service.stop = *stop;
    if (auto status = reader.string("status", Need::Required)) service.status = *status;
  }
  if (sink.errorCount() != errors_before) return std::nullopt;
  return service;
}

EtcdTooling readTooling(DiagnosticSink& sink, const YAML::Node& map) {
  EtcdTooling tooling;
  MappingReader reader(sink, map, "tooling", {"restore_tool", "etcdctl", "etcdutl", "bump_revision"});
  static const std::vector<std::string> kTools = {"etcdctl", "etcdutl"};
  if (auto tool = reader.choice("restore_tool", kTools)) {
    tooling.restore_tool = *tool == "etcdutl" ? RestoreTool::Etcdutl : RestoreTool::Etcdctl;
  }
  if (auto path = reader.string("etcdctl")) tooling.etcdctl = *path;
  if (auto path = reader.string("etcdutl")) tooling.etcdutl = *path;
  if (auto bump = reader.boolean("bump_revision")) tooling.bump_revision = *bump;
  return tooling;
}

TlsFiles readTls(DiagnosticSink& sink, const YAML::Node& map) {
  TlsFiles tls;
  MappingReader reader(sink, map, "tls", {"ca", "cert", "key"});
  std::vector<std::string> absent;
  for (const auto& [key, field] :
       {std::pair{"ca", &tls.ca}, std::pair{"cert", &tls.cert}, std::pair{"key", &tls.key}}) {
    if (!reader.has(key)) {
      absent.emplace_back(key);
    } else if (auto path = reader.string(key)) {
      *field = *path;
    }
  }
  // Half a TLS configuration would fail only at the first etcd call, deep into a restore.
  if (!absent.empty() && absent.size() < 3) {
    sink.error(reader.at(), fmt::format("tls needs all of ca, cert and key, or none of them (missing: {})",
                                        fmt::join(absent, ", ")));
  }
  return tls;
}

}  // namespace dr
