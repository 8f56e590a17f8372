// Benchmark: upload one file to the loopback sshd (the test fixture) with Session::upload (SFTP, pipelined, fsync,
// SHA-256 verified on the host) vs OpenSSH `scp` of the same file (OpenSSH 9's default: the SFTP protocol, default
// cipher), measured in the same run. Prints MB/s of both, the ratio (target >= 0.8x) and our peak RSS (VmHWM,
// target < 64 MiB whatever the size). The source is a sparse file (content does not matter to either side: no
// compression), so generating it costs nothing.
// usage: bench_sftp_upload [SIZE_MIB]   (default 1024)
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/sha256.h"
#include "core/shell.h"
#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"

using Clock = std::chrono::steady_clock;

static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

static long peakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

int main(int argc, char** argv) {
  const long mib = argc > 1 ? std::atol(argv[1]) : 1024;
  if (mib <= 0) {
    std::fprintf(stderr, "usage: %s [SIZE_MIB]\n", argv[0]);
    return 2;
  }
  const std::uint64_t bytes = static_cast<std::uint64_t>(mib) * 1024 * 1024;
  dr::test::SshdFixture sshd;
  dr::test::TempDir work("dr-bench-sftp");
  const auto source = work.path() / "source.bin";
  {
    int fd = ::open(source.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      std::fprintf(stderr, "cannot create %s\n", source.c_str());
      return 1;
    }
    ::close(fd);
  }
  const auto hash_start = Clock::now();
  const std::string expected = dr::sha256FileHex(source).value();
  const double hash_s = seconds(Clock::now() - hash_start);
  const long rss_before = peakRssKiB();

  dr::SshTransport transport;
  auto session = transport.connect(sshd.target());
  if (!session) {
    std::fprintf(stderr, "connect failed: %s\n", session.error().message.c_str());
    return 1;
  }
  const std::string ours_path = (work.path() / "ours.bin").string();
  const auto ours_start = Clock::now();
  Clock::time_point transferred = ours_start;  // when the last byte was acknowledged (before fsync + verification)
  auto uploaded = (*session)->upload({source, ours_path, expected, [&](std::uint64_t sent, std::uint64_t total) {
                                        if (sent == total) transferred = Clock::now();
                                      }});
  const double ours_s = seconds(Clock::now() - ours_start);
  const double transfer_s = seconds(transferred - ours_start);
  if (!uploaded) {
    std::fprintf(stderr, "upload failed: %s\n", uploaded.error().message.c_str());
    return 1;
  }
  const long rss_after = peakRssKiB();
  std::remove(ours_path.c_str());

  const std::string theirs_path = (work.path() / "scp.bin").string();
  const std::string scp = "scp -q -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
                          " -o UserKnownHostsFile=" + dr::shellQuote(sshd.knownHosts().string()) +
                          " -i " + dr::shellQuote(sshd.identityFile().string()) +
                          " -P " + std::to_string(sshd.port()) + " " + dr::shellQuote(source.string()) +
                          " root@127.0.0.1:" + dr::shellQuote(theirs_path);
  const auto scp_start = Clock::now();
  if (std::system(scp.c_str()) != 0) {
    std::fprintf(stderr, "scp failed: %s\n", scp.c_str());
    return 1;
  }
  const double scp_s = seconds(Clock::now() - scp_start);
  std::remove(theirs_path.c_str());

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("sftp_upload: %ld MiB sparse file to sshd on 127.0.0.1:%d\n", mib, sshd.port());
  std::printf("  Session::upload (SFTP, fsync, sha256 verified on host): %.2f s, %.1f MB/s\n", ours_s, mb / ours_s);
  std::printf("  scp (OpenSSH 9 default = SFTP protocol, default cipher): %.2f s, %.1f MB/s\n", scp_s, mb / scp_s);
  std::printf("    of which the transfer itself (to the last acknowledged byte): %.2f s, %.1f MB/s\n", transfer_s,
              mb / transfer_s);
  std::printf("  ratio (ours / scp throughput), end to end incl. fsync + on-host sha256: %.2fx  (target >= 0.8x) %s\n",
              scp_s / ours_s, scp_s / ours_s >= 0.8 ? "OK" : "BELOW TARGET");
  std::printf("  ratio (ours / scp throughput), transfer only (scp neither fsyncs nor verifies): %.2fx  %s\n",
              scp_s / transfer_s, scp_s / transfer_s >= 0.8 ? "OK" : "BELOW TARGET");
  std::printf("  peak RSS: %.1f MiB (before the upload %.1f MiB; target < 64 MiB) %s\n", rss_after / 1024.0,
              rss_before / 1024.0, rss_after < 64 * 1024 ? "OK" : "ABOVE TARGET");
  std::printf("  (local sha256 of the source, not included above: %.2f s)\n", hash_s);
  return 0;
}
