// The recorded domain documents (tests/integration/libvirt/), read whole.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vmq::libvirt_hook::test {

inline std::string recorded_xml(const std::string& file) {
  std::ifstream in(std::string(VMQ_LIBVIRT_XML_DIR) + "/" + file);
  if (!in) throw std::runtime_error("cannot read recorded domain XML " + file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace vmq::libvirt_hook::test
