// Benchmark: N trivial commands (`true`) over one reused SshTransport session vs N separate OpenSSH `ssh host true`
// processes, both against the same loopback sshd (the test fixture), measured in the same run. Target: >= 5x.
// usage: bench_ssh_steps [N]   (default 100)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/shell.h"
#include "fixtures/sshd_fixture.h"
#include "transport/ssh_transport.h"

using Clock = std::chrono::steady_clock;

static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [N]\n", argv[0]);
    return 2;
  }
  dr::test::SshdFixture sshd;
  dr::SshTransport transport;

  const auto start = Clock::now();
  auto session = transport.connect(sshd.target());
  if (!session) {
    std::fprintf(stderr, "connect failed: %s\n", session.error().message.c_str());
    return 1;
  }
  const auto connected = Clock::now();
  dr::CommandRequest trivial;
  trivial.command = "true";
  for (int i = 0; i < n; ++i) {
    auto result = (*session)->run(trivial);
    if (!result || result->exit_code != 0) {
      std::fprintf(stderr, "command %d failed\n", i);
      return 1;
    }
  }
  const auto ours_done = Clock::now();

  const std::string ssh = "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
                          " -o UserKnownHostsFile=" + dr::shellQuote(sshd.knownHosts().string()) +
                          " -i " + dr::shellQuote(sshd.identityFile().string()) +
                          " -p " + std::to_string(sshd.port()) + " root@127.0.0.1 true";
  const auto theirs_start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (std::system(ssh.c_str()) != 0) {
      std::fprintf(stderr, "ssh process %d failed: %s\n", i, ssh.c_str());
      return 1;
    }
  }
  const auto theirs_done = Clock::now();

  const double connect_s = seconds(connected - start);
  const double ours_s = seconds(ours_done - start);  // including the one connection
  const double commands_s = seconds(ours_done - connected);
  const double theirs_s = seconds(theirs_done - theirs_start);
  std::printf("ssh_steps: %d x `true` against sshd on 127.0.0.1:%d\n", n, sshd.port());
  std::printf("  SshTransport, one session: %.3f s total (connect %.3f s + %.2f ms per command)\n", ours_s, connect_s,
              1000 * commands_s / n);
  std::printf("  separate `ssh host true`:  %.3f s total (%.2f ms per process)\n", theirs_s, 1000 * theirs_s / n);
  std::printf("  ratio (ssh processes / one session, connect included): %.1fx  (target >= 5x) %s\n", theirs_s / ours_s,
              theirs_s / ours_s >= 5 ? "OK" : "BELOW TARGET");
  return 0;
}
