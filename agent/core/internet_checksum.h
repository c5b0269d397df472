// The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit words.
// The sum is taken in the machine's byte order, which RFC 1071 shows gives
// the same bytes as a big-endian sum once stored back the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace vmq {

class InternetChecksum {
 public:
  // Adds bytes as they lie in memory; an odd last byte counts as if followed by a zero.
  InternetChecksum& add(std::span<const std::uint8_t> bytes) {
    const std::uint8_t* p = bytes.data();
    std::size_t n = bytes.size();
    // Four independent sums of 32-bit words cannot overflow 64 bits for any
    // frame (2^32 words each) and keep the CPU's adders busy in parallel.
    if (n >= 16) {
      std::uint64_t a = 0, b = 0, c = 0, d = 0;
      for (; n >= 16; p += 16, n -= 16) {
        a += load<std::uint32_t>(p);
        b += load<std::uint32_t>(p + 4);
        c += load<std::uint32_t>(p + 8);
        d += load<std::uint32_t>(p + 12);
      }
      add64(a);
      add64(b);
      add64(c);
      add64(d);
    }
    for (; n >= 8; p += 8, n -= 8) add64(load<std::uint64_t>(p));
    if (n >= 4) {
      add64(load<std::uint32_t>(p));
      p += 4;
      n -= 4;
    }
    if (n >= 2) {
      add64(load<std::uint16_t>(p));
      p += 2;
      n -= 2;
    }
    if (n == 1) {
      const std::uint8_t last[2] = {*p, 0};
      add64(load<std::uint16_t>(last));
    }
    return *this;
  }

  // The folded sum, as it would be stored in memory (not complemented).
  std::uint16_t folded() const {
    std::uint64_t s = sum_;
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
  }

 private:
  template <typename T>
  static std::uint64_t load(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  void add64(std::uint64_t v) {
    sum_ += v;
    sum_ += sum_ < v;  // end-around carry
  }

  std::uint64_t sum_ = 0;
};

}  // namespace vmq
