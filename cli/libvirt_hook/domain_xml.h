// Reads a libvirt domain XML document (libxml2) into a Domain.
#pragma once

#include <string_view>

#include "core/error.h"
#include "libvirt_hook/domain.h"

namespace vmq::libvirt_hook {

// A document that is not well-formed XML, whose root is not <domain>, that has
// no <name>, or whose vmq metadata or VLAN tags are malformed is refused with
// a sentence naming the place (line numbers for XML syntax errors).
Result<Domain> parse_domain_xml(std::string_view xml);

}  // namespace vmq::libvirt_hook
