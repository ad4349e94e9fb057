#include "regauth/util/safe_file.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using regauth::ErrorKind;
using regauth::open_regular_file;
using regauth::read_regular_file;
using regauth::testing::TempDir;
using regauth::testing::write_file;

TEST_CASE("safe file: a regular file opens and reads whole", "[safe_file]") {
  TempDir temp;
  write_file(temp / "f", "hello");
  auto file = open_regular_file(temp / "f", ErrorKind::config, 5);
  REQUIRE(file);
  CHECK(file->size() == 5);
  CHECK((::fcntl(file->fd(), F_GETFL) & O_NONBLOCK) == 0);
  auto bytes = read_regular_file(temp / "f", ErrorKind::config, 5);
  REQUIRE(bytes);
  CHECK(*bytes == "hello");
}

TEST_CASE("safe file: a FIFO is refused without blocking", "[safe_file]") {
  TempDir temp;
  REQUIRE(::mkfifo((temp / "fifo").c_str(), 0600) == 0);
  auto file = open_regular_file(temp / "fifo", ErrorKind::config);
  REQUIRE_FALSE(file);
  CHECK(file.error().kind == ErrorKind::config);
  CHECK(file.error().message ==
        "opening " + (temp / "fifo").string() + ": a FIFO, not a regular file");
  auto locked = open_regular_file(temp / "fifo", ErrorKind::io, regauth::k_no_size_limit,
                                  O_RDWR | O_CREAT | O_NOFOLLOW);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().kind == ErrorKind::io);
}

TEST_CASE("safe file: folders, devices and symlinks with O_NOFOLLOW are refused", "[safe_file]") {
  TempDir temp;
  auto folder = open_regular_file(temp.path(), ErrorKind::io);
  REQUIRE_FALSE(folder);
  CHECK_THAT(folder.error().message, Catch::Contains("a directory, not a regular file"));
  auto device = open_regular_file("/dev/null", ErrorKind::io);
  REQUIRE_FALSE(device);
  CHECK_THAT(device.error().message, Catch::Contains("a character device"));
  write_file(temp / "real", "x");
  REQUIRE(::symlink((temp / "real").c_str(), (temp / "link").c_str()) == 0);
  CHECK(open_regular_file(temp / "link", ErrorKind::io)); // followed by default
  auto nofollow =
      open_regular_file(temp / "link", ErrorKind::config, regauth::k_no_size_limit, O_NOFOLLOW);
  REQUIRE_FALSE(nofollow);
  CHECK(nofollow.error().kind == ErrorKind::config);
}

TEST_CASE("safe file: missing is not_found, too large fails with the caller's kind",
          "[safe_file]") {
  TempDir temp;
  auto missing = open_regular_file(temp / "nope", ErrorKind::config);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);
  write_file(temp / "big", std::string(2048, 'a'));
  auto big = read_regular_file(temp / "big", ErrorKind::config, 1024);
  REQUIRE_FALSE(big);
  CHECK(big.error().kind == ErrorKind::config);
  CHECK_THAT(big.error().message, Catch::Contains("larger than 1 KiB"));
}

TEST_CASE("safe file: the real path resolves symlinks", "[safe_file]") {
  TempDir temp;
  write_file(temp / "real", "x");
  REQUIRE(::symlink("real", (temp / "link").c_str()) == 0);
  auto file = open_regular_file(temp / "link", ErrorKind::io);
  REQUIRE(file);
  auto real = file->real_path();
  REQUIRE(real);
  CHECK(*real == std::filesystem::canonical(temp / "real"));
}
