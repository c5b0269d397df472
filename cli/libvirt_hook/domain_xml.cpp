#include "libvirt_hook/domain_xml.h"

#include <charconv>
#include <climits>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

namespace vmq::libvirt_hook {
namespace {

struct DocumentDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Document = std::unique_ptr<xmlDoc, DocumentDeleter>;

// Far above any real domain document, and within the int libxml2 takes as a size.
constexpr std::size_t kMaxDocumentBytes = 16u << 20;

Error invalid(std::string message) { return Error{Errc::invalid_argument, std::move(message)}; }

std::string_view text_of(const xmlChar* s) { return s ? reinterpret_cast<const char*>(s) : ""; }

bool named(const xmlNode* node, std::string_view name) {
  return node->type == XML_ELEMENT_NODE && text_of(node->name) == name;
}

bool in_vmq_namespace(const xmlNode* node) {
  return node->ns != nullptr && text_of(node->ns->href) == kMetadataNamespace;
}

// Element children in libvirt's own (empty) namespace, by name.
template <typename Visit>
void for_each_child(const xmlNode* parent, std::string_view name, Visit visit) {
  for (const xmlNode* child = parent->children; child; child = child->next)
    if (named(child, name) && child->ns == nullptr) visit(child);
}

const xmlNode* first_child(const xmlNode* parent, std::string_view name) {
  const xmlNode* found = nullptr;
  for_each_child(parent, name, [&](const xmlNode* child) {
    if (!found) found = child;
  });
  return found;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!value) return std::nullopt;
  std::string copy(text_of(value));
  xmlFree(value);
  return copy;
}

std::string attribute_or_empty(const xmlNode* node, const char* name) {
  return node ? attribute(node, name).value_or("") : "";
}

std::string element_text(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  std::string copy(text_of(content));
  xmlFree(content);
  return copy;
}

Result<unsigned long> parse_number(std::string_view text, std::string_view what) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::unexpected(invalid(fmt::format("{} '{}' is not a number", what, text)));
  return value;
}

Result<std::optional<bool>> parse_yes_no(const xmlNode* node, const char* name, std::string_view where) {
  auto text = attribute(node, name);
  if (!text) return std::optional<bool>{};
  if (*text == "yes") return std::optional<bool>{true};
  if (*text == "no") return std::optional<bool>{false};
  return std::unexpected(invalid(fmt::format("{}: {}='{}' must be 'yes' or 'no'", where, name, *text)));
}

std::string line_of(const xmlNode* node) { return fmt::format("line {}", xmlGetLineNo(node)); }

Result<VlanSetting> parse_vlan(const xmlNode* vlan, std::string_view mac) {
  VlanSetting setting;
  setting.trunk = attribute(vlan, "trunk") == "yes";
  Result<void> status;
  for_each_child(vlan, "tag", [&](const xmlNode* tag) {
    if (!status) return;
    const std::string where = fmt::format("interface {}: vlan tag at {}", mac, line_of(tag));
    auto id = parse_number(attribute_or_empty(tag, "id"), where + ": id");
    if (!id) {
      status = std::unexpected(id.error());
      return;
    }
    setting.tags.push_back(static_cast<long>(std::min<unsigned long>(*id, LONG_MAX)));
    if (auto native = attribute(tag, "nativeMode")) setting.native_mode = *native;
  });
  if (!status) return std::unexpected(status.error());
  if (setting.tags.empty())
    return std::unexpected(invalid(fmt::format("interface {}: <vlan> at {} has no <tag id='...'/>", mac,
                                               line_of(vlan))));
  return setting;
}

DomainInterface parse_interface(const xmlNode* node) {
  DomainInterface iface;
  iface.type = attribute_or_empty(node, "type");
  iface.mac = attribute_or_empty(first_child(node, "mac"), "address");
  iface.port = attribute_or_empty(first_child(node, "target"), "dev");
  iface.bridge = attribute_or_empty(first_child(node, "source"), "bridge");
  return iface;
}

Result<InterfaceChoice> parse_interface_choice(const xmlNode* node) {
  InterfaceChoice choice;
  const std::string where = "vmq metadata: <interface> at " + line_of(node);
  auto mac = attribute(node, "mac");
  if (!mac || mac->empty()) return std::unexpected(invalid(where + ": mac='...' is required"));
  choice.mac = *mac;
  auto enabled = parse_yes_no(node, "enabled", where);
  if (!enabled) return std::unexpected(enabled.error());
  choice.enabled = *enabled;
  choice.uplink = attribute(node, "uplink");
  if (auto frames = attribute(node, "frames")) {
    auto value = parse_number(*frames, where + ": frames");
    if (!value) return std::unexpected(value.error());
    choice.frames = *value;
  }
  return choice;
}

Result<DomainChoice> parse_choice(const xmlNode* queues) {
  DomainChoice choice;
  choice.present = true;
  auto enabled = parse_yes_no(queues, "enabled", "vmq metadata: <queues> at " + line_of(queues));
  if (!enabled) return std::unexpected(enabled.error());
  choice.enabled = *enabled;
  for (const xmlNode* child = queues->children; child; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (!in_vmq_namespace(child) || !named(child, "interface"))
      return std::unexpected(invalid(fmt::format("vmq metadata: unknown element <{}> at {} (expected <interface>)",
                                                 text_of(child->name), line_of(child))));
    auto iface = parse_interface_choice(child);
    if (!iface) return std::unexpected(iface.error());
    choice.interfaces.push_back(*iface);
  }
  return choice;
}

Result<Document> read_document(std::string_view xml) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return std::unexpected(invalid("the domain XML on stdin is empty"));
  if (xml.size() > kMaxDocumentBytes)
    return std::unexpected(invalid(fmt::format("the domain XML on stdin is {} bytes, more than the {} accepted",
                                               xml.size(), kMaxDocumentBytes)));
  xmlResetLastError();
  // No network, no printing: libxml2 keeps the error for us to report.
  Document doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* error = xmlGetLastError();
    std::string why = error && error->message ? error->message : "not well-formed";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return std::unexpected(invalid(fmt::format("the domain XML on stdin is not valid XML: line {}: {}",
                                               error ? error->line : 0, why)));
  }
  return doc;
}

}  // namespace

Result<Domain> parse_domain_xml(std::string_view xml) {
  auto doc = read_document(xml);
  if (!doc) return std::unexpected(doc.error());
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!root || !named(root, "domain"))
    return std::unexpected(invalid(fmt::format("the XML on stdin is not a libvirt domain: its root element is <{}>",
                                               root ? text_of(root->name) : "")));
  Domain domain;
  if (const xmlNode* name = first_child(root, "name")) domain.name = element_text(name);
  if (domain.name.empty()) return std::unexpected(invalid("the domain XML on stdin has no <name>"));

  Result<void> status;
  if (const xmlNode* devices = first_child(root, "devices")) {
    for_each_child(devices, "interface", [&](const xmlNode* node) {
      if (!status) return;
      DomainInterface iface = parse_interface(node);
      if (const xmlNode* vlan = first_child(node, "vlan")) {
        auto setting = parse_vlan(vlan, iface.mac);
        if (!setting) {
          status = std::unexpected(setting.error());
          return;
        }
        iface.vlan = *setting;
      }
      domain.interfaces.push_back(std::move(iface));
    });
  }
  if (!status) return std::unexpected(status.error());

  if (const xmlNode* metadata = first_child(root, "metadata")) {
    for (const xmlNode* child = metadata->children; child; child = child->next) {
      if (child->type != XML_ELEMENT_NODE || !in_vmq_namespace(child)) continue;
      if (!named(child, "queues"))
        return std::unexpected(invalid(fmt::format("vmq metadata: unknown element <{}> at {} (expected <queues>)",
                                                   text_of(child->name), line_of(child))));
      auto choice = parse_choice(child);
      if (!choice) return std::unexpected(choice.error());
      domain.choice = *choice;
    }
  }
  return domain;
}

}  // namespace vmq::libvirt_hook
