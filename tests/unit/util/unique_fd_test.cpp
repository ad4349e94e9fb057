#include "regauth/util/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

} // namespace

TEST_CASE("unique fd: the descriptor is closed when its owner goes", "[util]") {
  int fd = open_null();
  REQUIRE(fd >= 0);
  {
    regauth::UniqueFd owner(fd);
    CHECK(owner.valid());
    CHECK(owner.get() == fd);
    CHECK(is_open(fd));
  }
  CHECK_FALSE(is_open(fd));
}

TEST_CASE("unique fd: a move hands the descriptor over and closes the one replaced", "[util]") {
  int first = open_null();
  int second = open_null();
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  regauth::UniqueFd a(first);
  regauth::UniqueFd b(second);
  b = std::move(a);
  CHECK_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  CHECK(b.get() == first);
  CHECK_FALSE(is_open(second));
  regauth::UniqueFd c(std::move(b));
  CHECK(c.get() == first);
  CHECK(is_open(first));
  c.reset();
  CHECK_FALSE(is_open(first));
}

TEST_CASE("unique fd: release gives the descriptor away without closing it", "[util]") {
  int fd = open_null();
  REQUIRE(fd >= 0);
  int released = -1;
  {
    regauth::UniqueFd owner(fd);
    released = owner.release();
    CHECK_FALSE(owner.valid());
  }
  CHECK(released == fd);
  CHECK(is_open(fd));
  ::close(fd);
}
