// The preflight's certificate check on certificates made by the openssl CLI, including expired and future ones.
#include <catch2/catch.hpp>

#include "etcd/certificates.h"
#include "fixtures/etcd_fixture.h"

using namespace dr;
namespace fs = std::filesystem;

TEST_CASE("certificates: valid, soon expiring, expired, not yet valid, unreadable, mismatched key", "[etcd][tls]") {
  const fs::path dir = fs::temp_directory_path() / ("dr-certs-" + std::to_string(getpid()));
  test::TestCertificates certs(dir);
  const auto good = checkCertificates(TlsFiles{certs.ca, certs.client_cert, certs.client_key});
  INFO(good.errors.size());
  CHECK(good.ok());
  CHECK(good.warnings.empty());

  const auto [soon_cert, soon_key] = certs.issueForDays("soon", 10);
  const auto soon = checkCertificates(TlsFiles{certs.ca, soon_cert, soon_key});
  CHECK(soon.ok());
  REQUIRE(soon.warnings.size() == 1);
  CHECK_THAT(soon.warnings[0], Catch::Contains("expires in") && Catch::Contains("soon.pem"));

  const auto [old_cert, old_key] = certs.issueBetween("expired", "20200101000000Z", "20200201000000Z");
  const auto expired = checkCertificates(TlsFiles{certs.ca, old_cert, old_key});
  REQUIRE(expired.errors.size() == 1);
  CHECK_THAT(expired.errors[0], Catch::Contains("expired on 2020-02-01"));

  const auto [future_cert, future_key] = certs.issueBetween("future", "20400101000000Z", "20410101000000Z");
  const auto future = checkCertificates(TlsFiles{certs.ca, future_cert, future_key});
  REQUIRE(future.errors.size() == 1);
  CHECK_THAT(future.errors[0], Catch::Contains("not valid yet"));

  const auto missing = checkCertificates(TlsFiles{"/nonexistent/ca.pem", certs.client_cert, certs.client_key});
  REQUIRE(missing.errors.size() == 1);
  CHECK_THAT(missing.errors[0], Catch::Contains("/nonexistent/ca.pem"));

  const auto mismatched = checkCertificates(TlsFiles{certs.ca, certs.client_cert, soon_key});
  REQUIRE(mismatched.errors.size() == 1);
  CHECK_THAT(mismatched.errors[0], Catch::Contains("does not match"));

  CHECK(checkCertificates(TlsFiles{}).ok());
  fs::remove_all(dir);
}
