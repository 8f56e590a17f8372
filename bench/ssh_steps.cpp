// Benchmark: N trivial commands (`true`) over one reused SshTransport session vs N separate OpenSSH `ssh host true`
// processes, both against the same loopback sshd (the test fixture), measured in the same run. Target: >= 5x.
// The session runs twice: with the host command shell (the default) and with a channel per command. The controller's
// own LocalTransport (a process per command, no SSH) runs the same N beside them.
// usage: bench_ssh_steps [N]   (default 100)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "core/shell.h"
#include "fixtures/sshd_fixture.h"
#include "transport/local_transport.h"
#include "transport/ssh_transport.h"

using Clock = std::chrono::steady_clock;

static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time the whole machine spent (all processes, sshd's included), in seconds.
static double machineCpuSeconds() {
  std::FILE* stat = std::fopen("/proc/stat", "re");
  if (stat == nullptr) return 0;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  int got = std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                        &softirq);
  std::fclose(stat);
  if (got != 7) return 0;
  return static_cast<double>(user + nice + system + irq + softirq) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Phase {
  double seconds = 0;
  double cpu = 0;
};

// Connects (timed too) and runs `n` trivial commands on one session.
static bool runSession(const dr::HostTarget& target, int n, Phase& total, double& connect_s) {
  dr::SshTransport transport;
  const double cpu0 = machineCpuSeconds();
  const auto start = Clock::now();
  auto session = transport.connect(target);
  if (!session) {
    std::fprintf(stderr, "connect failed: %s\n", session.error().message.c_str());
    return false;
  }
  connect_s = seconds(Clock::now() - start);
  dr::CommandRequest trivial;
  trivial.command = "true";
  for (int i = 0; i < n; ++i) {
    auto result = (*session)->run(trivial);
    if (!result || result->exit_code != 0) {
      std::fprintf(stderr, "command %d failed\n", i);
      return false;
    }
  }
  total = {seconds(Clock::now() - start), machineCpuSeconds() - cpu0};
  return true;
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [N]\n", argv[0]);
    return 2;
  }
  dr::test::SshdFixture sshd;

  // The command shell (the default) against a channel per command, on the same sshd.
  Phase shell, channels;
  double shell_connect = 0, channels_connect = 0;
  dr::HostTarget per_channel = sshd.target();
  per_channel.command_shell = false;
  if (!runSession(sshd.target(), n, shell, shell_connect) || !runSession(per_channel, n, channels, channels_connect)) {
    return 1;
  }

  const std::string ssh = "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
                          " -o UserKnownHostsFile=" + dr::shellQuote(sshd.knownHosts().string()) +
                          " -i " + dr::shellQuote(sshd.identityFile().string()) +
                          " -p " + std::to_string(sshd.port()) + " root@127.0.0.1 true";
  const double cpu0 = machineCpuSeconds();
  const auto theirs_start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (std::system(ssh.c_str()) != 0) {
      std::fprintf(stderr, "ssh process %d failed: %s\n", i, ssh.c_str());
      return 1;
    }
  }
  const Phase theirs{seconds(Clock::now() - theirs_start), machineCpuSeconds() - cpu0};

  dr::LocalTransport local_transport;
  dr::HostTarget controller;
  controller.name = "controller";
  auto local = local_transport.connect(controller);
  if (!local) return 1;
  dr::CommandRequest trivial;
  trivial.command = "true";
  const double local_cpu0 = machineCpuSeconds();
  const auto local_start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto result = (*local)->run(trivial);
    if (!result || result->exit_code != 0) {
      std::fprintf(stderr, "local command %d failed\n", i);
      return 1;
    }
  }
  const Phase locally{seconds(Clock::now() - local_start), machineCpuSeconds() - local_cpu0};

  auto per = [n](double total) { return 1000 * total / n; };
  std::printf("ssh_steps: %d x `true` against sshd on 127.0.0.1:%d (CPU: the whole machine's, sshd included)\n", n,
              sshd.port());
  std::printf("  SshTransport, command shell:  %.3f s (connect %.3f s + %.2f ms per command), CPU %.2f ms each\n",
              shell.seconds, shell_connect, per(shell.seconds - shell_connect), per(shell.cpu));
  std::printf("  SshTransport, a channel each: %.3f s (connect %.3f s + %.2f ms per command), CPU %.2f ms each\n",
              channels.seconds, channels_connect, per(channels.seconds - channels_connect), per(channels.cpu));
  std::printf("  separate `ssh host true`:     %.3f s (%.2f ms per process), CPU %.2f ms per process\n",
              theirs.seconds, per(theirs.seconds), per(theirs.cpu));
  std::printf("  LocalTransport (controller):  %.3f s (%.2f ms per command), CPU %.2f ms each; %.2fx the command "
              "shell's time per command\n",
              locally.seconds, per(locally.seconds), per(locally.cpu),
              locally.seconds / (shell.seconds - shell_connect));
  std::printf("  command shell vs a channel each: %.2fx the time, %.2fx the CPU\n", shell.seconds / channels.seconds,
              shell.cpu / channels.cpu);
  std::printf("  ratio (ssh processes / one session, connect included): %.1fx  (target >= 5x) %s\n",
              theirs.seconds / shell.seconds, theirs.seconds / shell.seconds >= 5 ? "OK" : "BELOW TARGET");
  return 0;
}
