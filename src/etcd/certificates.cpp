// Certificate validity checks with OpenSSL's X509 API. See certificates.h.
#include "etcd/certificates.h"

#include <openssl/crypto.h>

#include "core/file_io.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include <fmt/format.h>

namespace dr {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct TimeFree {
  void operator()(ASN1_TIME* t) const { ASN1_TIME_free(t); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string subjectOf(X509* cert) {
  char buffer[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof(buffer));
  return buffer;
}

std::string formatTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "an unreadable date";
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

// Seconds from `now` to `time` (negative when `time` is in the past).
long long secondsUntil(const ASN1_TIME* time, std::time_t now) {
  std::unique_ptr<ASN1_TIME, TimeFree> now_asn(ASN1_TIME_set(nullptr, now));
  int days = 0;
  int seconds = 0;
  if (!now_asn || ASN1_TIME_diff(&days, &seconds, now_asn.get(), time) != 1) return 0;
  return static_cast<long long>(days) * 86400 + seconds;
}

// A memory BIO over a PEM file's text (read as any other input: regular files only, bounded).
std::unique_ptr<BIO, BioFree> pemBio(const std::string& path, const std::string& what, std::string& text,
                                     std::string& error) {
  auto read = readPemFile(path, what);
  if (!read) {
    error = messageWithoutPath(read.error(), path);
    return nullptr;
  }
  text = std::move(read).value();
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Reads every certificate in a PEM file; an error message when there is none or the file cannot be read.
std::vector<X509Ptr> readCertificates(const std::string& path, std::string& error) {
  std::vector<X509Ptr> certs;
  std::string text;
  auto bio = pemBio(path, "file", text, error);
  if (!bio) return certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();  // the loop ends on "no start line": expected, not an error
  if (certs.empty()) error = "no PEM certificate in the file";
  return certs;
}

void checkFile(const std::string& what, const std::string& path, std::time_t now, std::chrono::days warn_within,
               CertificateReport& report, X509Ptr* first = nullptr) {
  std::string error;
  auto certs = readCertificates(path, error);
  if (!error.empty()) {
    report.errors.push_back(fmt::format("{} {}: {}", what, path, error));
    return;
  }
  const long long warn_seconds = static_cast<long long>(warn_within.count()) * 86400;
  for (auto& cert : certs) {
    const std::string subject = subjectOf(cert.get());
    const ASN1_TIME* not_before = X509_get0_notBefore(cert.get());
    const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
    if (secondsUntil(not_before, now) > 0) {
      report.errors.push_back(fmt::format("{} {}: certificate {} is not valid yet (valid from {})", what, path, subject,
                                          formatTime(not_before)));
    }
    const long long left = secondsUntil(not_after, now);
    if (left <= 0) {
      report.errors.push_back(
          fmt::format("{} {}: certificate {} expired on {}", what, path, subject, formatTime(not_after)));
    } else if (left < warn_seconds) {
      report.warnings.push_back(fmt::format("{} {}: certificate {} expires in {} days (on {})", what, path, subject,
                                            left / 86400, formatTime(not_after)));
    }
  }
  if (first != nullptr) *first = std::move(certs.front());
}

}  // namespace

Result<std::string> readPemFile(const std::string& path, std::string_view what) {
  auto text = readRegularFile(path, kMaxConfigFileBytes, fmt::format("{} file", what));
  if (!text) return text.error();
  if (text->find("-----BEGIN") == std::string::npos) return fail("{} {} is not a PEM file", what, path);
  return text;
}

CertificateReport checkCertificates(const TlsFiles& tls, std::chrono::system_clock::time_point now,
                                    std::chrono::days warn_within) {
  CertificateReport report;
  const std::time_t now_t = std::chrono::system_clock::to_time_t(now);
  if (!tls.ca.empty()) checkFile("TLS CA", tls.ca, now_t, warn_within, report);
  X509Ptr client;
  if (!tls.cert.empty()) checkFile("TLS certificate", tls.cert, now_t, warn_within, report, &client);
  if (!tls.key.empty()) {
    std::string text, error;
    auto bio = pemBio(tls.key, "TLS key", text, error);
    std::unique_ptr<EVP_PKEY, KeyFree> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                                : nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    ERR_clear_error();
    if (!key) {
      report.errors.push_back(fmt::format("TLS key {}: cannot read a PEM private key (unreadable, encrypted or not a key)",
                                          tls.key));
    } else if (client && X509_check_private_key(client.get(), key.get()) != 1) {
      ERR_clear_error();
      report.errors.push_back(fmt::format("TLS key {}: does not match the certificate {}", tls.key, tls.cert));
    }
  }
  if (tls.cert.empty() != tls.key.empty()) {
    report.errors.push_back("TLS: a client certificate needs both cert and key");
  }
  return report;
}

}  // namespace dr
