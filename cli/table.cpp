#include "table.h"

#include <algorithm>

namespace vmq::cli {
namespace {

constexpr std::string_view kGap = "  ";

void pad(std::string& line, std::size_t spaces) { line.append(spaces, ' '); }

}  // namespace

std::size_t display_width(std::string_view text) {
  // Count every byte except UTF-8 continuation bytes (10xxxxxx).
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Table::Table(std::vector<Column> columns, std::size_t indent) : columns_(std::move(columns)), indent_(indent) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (auto& cell : cells)
    if (cell.empty()) cell.push_back('-');
  rows_.push_back(std::move(cells));
}

std::string Table::render_line(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) const {
  std::string line(indent_, ' ');
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const std::size_t fill = widths[i] - display_width(cells[i]);
    const bool last = i + 1 == columns_.size();
    if (i > 0) line += kGap;
    if (columns_[i].align == Align::right) pad(line, fill);
    line += cells[i];
    if (columns_[i].align == Align::left && !last) pad(line, fill);
  }
  return line + "\n";
}

std::string Table::render() const {
  std::vector<std::string> header;
  std::vector<std::size_t> widths;
  for (const auto& column : columns_) {
    header.push_back(column.header);
    widths.push_back(display_width(column.header));
  }
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  std::string out = render_line(header, widths);
  for (const auto& row : rows_) out += render_line(row, widths);
  return out;
}

std::string render_fields(const Fields& fields, std::size_t indent) {
  std::size_t key_width = 0;
  for (const auto& [key, value] : fields) key_width = std::max(key_width, display_width(key) + 1);
  std::string out;
  for (const auto& [key, value] : fields) {
    std::string line(indent, ' ');
    line += key + ":";
    pad(line, key_width - display_width(key) - 1 + kGap.size());
    line += value.empty() ? "-" : value;
    out += line + "\n";
  }
  return out;
}

}  // namespace vmq::cli
