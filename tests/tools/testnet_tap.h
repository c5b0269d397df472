// A tap device held open by this process, as QEMU holds a VM's tap: it exists
// while the descriptor is open.
#pragma once

#include <optional>
#include <string>

namespace vmq::testnet {

class Tap {
 public:
  // Creates (or attaches to) tap `name`, without packet information headers,
  // non-blocking.
  static std::optional<Tap> open(const std::string& name, std::string& error);
  Tap(Tap&& o) noexcept;
  Tap(const Tap&) = delete;
  ~Tap();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  Tap(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_ = -1;
  std::string name_;
};

}  // namespace vmq::testnet
