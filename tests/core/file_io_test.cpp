// core/file_io: what every reader and writer of the project goes through. Readers refuse what is not a regular file
// (a FIFO, a device, a directory) at once and cap what they read; atomic writes never write through a name someone
// else prepared (an OUT.part symlink or hard link planted beforehand), and create owner-only files.
#include "core/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "fixtures/temp_dir.h"

namespace fs = std::filesystem;
using namespace dr;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("readers refuse a FIFO, a device and a directory at once, and cap what they read", "[core][file_io]") {
  test::TempDir tmp;
  const fs::path fifo = tmp.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto started = std::chrono::steady_clock::now();
  for (const auto& [path, kind] : {std::pair{fifo, std::string("a FIFO")}, {fs::path("/dev/zero"), "a character device"},
                                   {tmp.path, "a directory"}}) {
    auto read = readRegularFile(path, 1024, "inventory");
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().message == path.string() + ": the inventory must be a regular file; this is " + kind);
  }
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));  // nothing blocked
  std::ofstream(tmp.path / "big") << std::string(2048, 'x');
  auto big = readRegularFile(tmp.path / "big", 1024, "inventory");
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(big.error().message, Catch::Contains("larger than 1024 bytes"));
  auto fits = readRegularFile(tmp.path / "big", 4096, "inventory");
  REQUIRE(fits.ok());
  CHECK(fits->size() == 2048);
}

TEST_CASE("an atomic write never follows a planted OUT.part link and writes owner-only files", "[core][file_io]") {
  test::TempDir tmp;
  const fs::path out = tmp.path / "out.db";
  const fs::path victim = tmp.path / "victim";
  std::ofstream(victim) << "keep me";
  // What an attacker would plant at the names a writer used to reuse: a symlink and a hard link to their file.
  fs::create_symlink(victim, tmp.path / "out.db.part");
  fs::create_hard_link(victim, tmp.path / "out.db.tmp");
  ::umask(022);
  REQUIRE(writeFileAtomically(out, "secret", 0600).ok());
  CHECK(slurp(out) == "secret");
  CHECK(slurp(victim) == "keep me");  // neither link was written through
  struct stat st {};
  REQUIRE(::lstat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(S_ISREG(st.st_mode));

  // The temp file is fresh each time, made with O_EXCL: an uncommitted write leaves nothing behind.
  {
    auto file = AtomicFile::create(out, 0600);
    REQUIRE(file.ok());
    CHECK(file->partPath() != tmp.path / "out.db.part");
    REQUIRE(file->write("half").ok());
  }
  CHECK(slurp(out) == "secret");
  int parts = 0;
  for (const auto& entry : fs::directory_iterator(tmp.path)) parts += entry.path().extension() == ".part" ? 1 : 0;
  CHECK(parts == 1);  // only the planted link
}
