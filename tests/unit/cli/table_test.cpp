#include <gtest/gtest.h>

#include "table.h"

namespace vmq::cli {
namespace {

TEST(Table, AlignsColumnsAndRightAlignsNumbers) {
  Table table({{"ID", Align::right}, {"NAME"}, {"RX", Align::right}});
  table.add_row({"1", "web1", "12345"});
  table.add_row({"12", "db", "7"});
  EXPECT_EQ(table.render(),
            "ID  NAME     RX\n"
            " 1  web1  12345\n"
            "12  db        7\n");
}

TEST(Table, EmptyAndMissingCellsShowAsDash) {
  Table table({{"NAME"}, {"VM"}, {"CPU", Align::right}});
  table.add_row({"web1", ""});
  EXPECT_EQ(table.render(),
            "NAME  VM  CPU\n"
            "web1  -     -\n");
}

TEST(Table, LeavesNoTrailingBlanksAfterALeftAlignedLastColumn) {
  Table table({{"A"}, {"B"}});
  table.add_row({"long value", "x"});
  table.add_row({"y", "short"});
  for (const auto& line : {"A           B\n", "long value  x\n", "y           short\n"})
    EXPECT_NE(table.render().find(line), std::string::npos) << line;
}

TEST(Table, IndentsEveryLine) {
  Table table({{"ID", Align::right}}, 2);
  table.add_row({"1"});
  EXPECT_EQ(table.render(), "  ID\n   1\n");
  EXPECT_FALSE(table.empty());
}

TEST(Table, WithoutRowsPrintsTheHeader) {
  Table table({{"ID", Align::right}, {"NAME"}});
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.render(), "ID  NAME\n");
}

TEST(Table, MeasuresUtf8ByCharacters) {
  EXPECT_EQ(display_width("café"), 4u);
  Table table({{"VM"}, {"X"}});
  table.add_row({"café", "1"});
  table.add_row({"web1", "2"});
  EXPECT_EQ(table.render(), "VM    X\ncafé  1\nweb1  2\n");
}

TEST(RenderFields, AlignsValuesAfterTheLongestKey) {
  EXPECT_EQ(render_fields({{"queue", "web1 (id 1)"}, {"last error", ""}}, 2),
            "  queue:       web1 (id 1)\n"
            "  last error:  -\n");
}

}  // namespace
}  // namespace vmq::cli
