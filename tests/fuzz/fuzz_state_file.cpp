// vmqd's saved state against any file found in its state directory. A file
// that loads must save and load again to the same queues.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "service/state_store.h"

namespace {

// Removed when the fuzzer exits.
struct ScratchDirectory {
  std::string path;
  ScratchDirectory() {
    char name[] = "/tmp/vmq-fuzz-state.XXXXXX";
    if (::mkdtemp(name) == nullptr) __builtin_trap();
    path = name;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

bool same(const vmq::service::SavedQueue& a, const vmq::service::SavedQueue& b) {
  if (a.queue.id != b.queue.id || a.queue.name != b.queue.name || a.queue.vm != b.queue.vm ||
      a.queue.port != b.queue.port || a.queue.frames != b.queue.frames || a.filters.size() != b.filters.size())
    return false;
  for (std::size_t i = 0; i < a.filters.size(); ++i)
    if (a.filters[i].id != b.filters[i].id || !(a.filters[i].match == b.filters[i].match)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ScratchDirectory input_directory, resaved_directory;
  static const vmq::service::StateStore input(input_directory.path);
  static const vmq::service::StateStore resaved(resaved_directory.path);
  {
    std::ofstream out(input.path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) __builtin_trap();
  }
  auto queues = input.load();
  if (!queues) return 0;
  if (!resaved.save(*queues)) __builtin_trap();
  auto again = resaved.load();
  if (!again || again->size() != queues->size()) __builtin_trap();
  for (std::size_t i = 0; i < queues->size(); ++i)
    if (!same((*queues)[i], (*again)[i])) __builtin_trap();
  return 0;
}
