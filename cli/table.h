// Aligned text for people: column tables (numbers right-aligned, "-" for an
// empty cell) and "key: value" blocks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmq::cli {

enum class Align { left, right };

struct Column {
  std::string header;
  Align align = Align::left;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns, std::size_t indent = 0);

  // Missing or empty cells print as "-"; cells beyond the columns are ignored.
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  // The header and the rows, two spaces between columns, no trailing blanks.
  std::string render() const;

 private:
  std::string render_line(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) const;

  std::vector<Column> columns_;
  std::size_t indent_;
  std::vector<std::vector<std::string>> rows_;
};

using Fields = std::vector<std::pair<std::string, std::string>>;

// "key:  value" lines, values aligned after the longest key.
std::string render_fields(const Fields& fields, std::size_t indent = 0);

// Columns a string takes on a terminal: UTF-8 code points, not bytes.
std::size_t display_width(std::string_view text);

}  // namespace vmq::cli
