// The preflight's certificate check: reads the inventory's TLS files (CA, client certificate, key) with OpenSSL and
// says what would make the restore fail half-way: an unreadable file, a certificate that has expired or is not yet
// valid (errors: the run is refused), one that expires soon (a warning), a key that does not match its certificate.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "inventory/inventory.h"

namespace dr {

struct CertificateReport {
  std::vector<std::string> errors;    // each "FILE: what"; any error refuses the run
  std::vector<std::string> warnings;  // each "FILE: what"
  bool ok() const { return errors.empty(); }
};

inline constexpr std::chrono::days kCertificateWarnWithin{30};

// A PEM file's text (CA, certificate or key): a regular file of bounded size holding a "-----BEGIN" block. `what`
// names it in the error ("TLS CA", "server key"). The one reader of TLS files for etcd's client, drd and drctl.
Result<std::string> readPemFile(const std::string& path, std::string_view what);

// Checks every certificate in each PEM file (a bundle may hold several). No TLS configured: an empty report.
CertificateReport checkCertificates(const TlsFiles& tls,
                                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                                    std::chrono::days warn_within = kCertificateWarnWithin);

}  // namespace dr
