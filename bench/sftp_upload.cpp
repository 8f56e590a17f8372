// Benchmark: upload one file to the loopback sshd (the test fixture) with Session::upload (staged as .part, fsync,
// SHA-256 computed on the host, renamed) vs OpenSSH `scp` of the same file (OpenSSH 9's default: the SFTP protocol,
// default cipher; no fsync, no verification), measured in the same run, several runs alternating which goes first.
// Prints per run and the median: both throughputs, the end-to-end ratio (target >= 0.8x), the transfer-only ratio
// (to the last byte sent, before the host's verdict) and our peak RSS (VmHWM, target < 64 MiB whatever the size).
// The source is a sparse file (content does not matter to either side: no compression), so creating it costs nothing.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "core/shell.h"
#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"

using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage =
    "usage: bench_sftp_upload [--size MIB] [--runs N]\n"
    "  Uploads a MIB-sized file (default 1024) to a loopback sshd N times (default 3) with Session::upload and with\n"
    "  OpenSSH scp, alternating which goes first, and prints both throughputs, the ratios and the peak RSS.\n";

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

long peakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Timing {
  double end_to_end = 0;  // until upload() returned: transfer, fsync, host-side SHA-256, rename
  double transfer = 0;    // until the last byte was handed over and acknowledged
  double sequential_hash = 0;  // a sha256sum of the placed file on the host afterwards (not part of end_to_end)
};

}  // namespace

int main(int argc, char** argv) {
  long mib = 1024, runs = 3;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if ((arg == "--size" || arg == "--runs") && i + 1 < argc) {
      (arg == "--size" ? mib : runs) = std::atol(argv[++i]);
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (mib <= 0 || runs <= 0) {
    std::fputs(kUsage, stderr);
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
  const std::string expected = dr::sha256FileHex(source).value();
  const long rss_before = peakRssKiB();

  dr::SshTransport transport;
  auto session = transport.connect(sshd.target());
  if (!session) {
    std::fprintf(stderr, "connect failed: %s\n", session.error().message.c_str());
    return 1;
  }
  const std::string ours_path = (work.path() / "ours.bin").string();
  auto ours = [&]() -> Timing {
    const auto start = Clock::now();
    Clock::time_point transferred = start;
    dr::UploadRequest request;
    request.local_path = source;
    request.remote_path = ours_path;
    request.expected_sha256 = expected;
    request.on_progress = [&](std::uint64_t sent, std::uint64_t total) {
      if (sent == total) transferred = Clock::now();
    };
    auto uploaded = (*session)->upload(request);
    Timing timing{seconds(Clock::now() - start), seconds(transferred - start)};
    if (!uploaded) {
      std::fprintf(stderr, "upload failed: %s\n", uploaded.error().message.c_str());
      std::exit(1);
    }
    // What verifying after the transfer (the previous design) added on top: sha256sum of the placed file, run on the
    // host over the same session.
    auto sequential_start = Clock::now();
    dr::CommandRequest sequential;
    sequential.command = "sha256sum -- " + dr::shellQuote(ours_path);
    auto hashed = (*session)->run(sequential);
    timing.sequential_hash = seconds(Clock::now() - sequential_start);
    if (!hashed || hashed->exit_code != 0 || hashed->output.rfind(expected, 0) != 0) {
      std::fprintf(stderr, "sha256sum of the uploaded file failed or differs\n");
      std::exit(1);
    }
    std::remove(ours_path.c_str());
    return timing;
  };
  const std::string theirs_path = (work.path() / "scp.bin").string();
  const std::string scp_command =
      "scp -q -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
      " -o UserKnownHostsFile=" + dr::shellQuote(sshd.knownHosts().string()) +
      " -i " + dr::shellQuote(sshd.identityFile().string()) + " -P " + std::to_string(sshd.port()) + " " +
      dr::shellQuote(source.string()) + " root@127.0.0.1:" + dr::shellQuote(theirs_path);
  auto scp = [&]() -> double {
    const auto start = Clock::now();
    if (std::system(scp_command.c_str()) != 0) {
      std::fprintf(stderr, "scp failed: %s\n", scp_command.c_str());
      std::exit(1);
    }
    double s = seconds(Clock::now() - start);
    std::remove(theirs_path.c_str());
    return s;
  };

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("sftp_upload: %ld MiB sparse file to sshd on 127.0.0.1:%d, %ld runs\n", mib, sshd.port(), runs);
  std::printf("  run  first  scp MB/s  ours MB/s (end to end)  ours MB/s (transfer)  ratio e2e  ratio transfer\n");
  std::vector<double> e2e_ratios, transfer_ratios, sequential_ratios, scp_rates, ours_rates, tails, sequential_hashes;
  for (long run = 0; run < runs; ++run) {
    // Alternate the order: whichever goes second finds warmer caches and a different background load.
    double scp_s = 0;
    Timing timing;
    if (run % 2 == 0) {
      scp_s = scp();
      timing = ours();
    } else {
      timing = ours();
      scp_s = scp();
    }
    e2e_ratios.push_back(scp_s / timing.end_to_end);
    transfer_ratios.push_back(scp_s / timing.transfer);
    scp_rates.push_back(mb / scp_s);
    ours_rates.push_back(mb / timing.end_to_end);
    tails.push_back(timing.end_to_end - timing.transfer);
    sequential_ratios.push_back(scp_s / (timing.end_to_end + timing.sequential_hash));
    sequential_hashes.push_back(timing.sequential_hash);
    std::printf("  %3ld  %-5s  %8.1f  %22.1f  %20.1f  %8.2fx  %13.2fx\n", run + 1, run % 2 == 0 ? "scp" : "ours",
                mb / scp_s, mb / timing.end_to_end, mb / timing.transfer, e2e_ratios.back(),
                transfer_ratios.back());
    std::fflush(stdout);
  }
  const long rss_after = peakRssKiB();
  const double e2e = median(e2e_ratios);
  std::printf("  median: scp %.1f MB/s, Session::upload %.1f MB/s end to end (transfer, fsync, sha256 on the host, "
              "rename)\n",
              median(scp_rates), median(ours_rates));
  std::printf("  ratio (ours / scp throughput), end to end: median %.2fx, min %.2fx, max %.2fx  (target >= 0.8x) %s\n",
              e2e, *std::min_element(e2e_ratios.begin(), e2e_ratios.end()),
              *std::max_element(e2e_ratios.begin(), e2e_ratios.end()), e2e >= 0.8 ? "OK" : "BELOW TARGET");
  std::printf("  ratio (ours / scp throughput), transfer only: median %.2fx\n", median(transfer_ratios));
  std::printf("  ratio if the host hashed after the transfer instead (the previous design, estimated in the same runs "
              "as end to end + that sha256sum): median %.2fx\n",
              median(sequential_ratios));
  std::printf("  after the last byte: median %.2f s to fsync, finish the host's hash and rename; a sha256sum of the "
              "file on the host after the transfer alone takes %.2f s\n",
              median(tails), median(sequential_hashes));
  std::printf("  peak RSS: %.1f MiB (before the uploads %.1f MiB; target < 64 MiB) %s\n", rss_after / 1024.0,
              rss_before / 1024.0, rss_after < 64 * 1024 ? "OK" : "ABOVE TARGET");
  return 0;
}
