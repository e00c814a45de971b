#include "core/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sc {
namespace {

TEST(Redact, KeepsAKnownPrefixAndTheLastFourCharacters) {
    EXPECT_EQ(redact("sk_test_51HabcdefghijklmnopABCD"), "sk_test_…ABCD");
    EXPECT_EQ(redact("sk_live_51HabcdefghijklmnopWXYZ"), "sk_live_…WXYZ");
    EXPECT_EQ(redact("whsec_abcdefghijklmnop1234"), "whsec_…1234");
    EXPECT_EQ(redact("rk_test_abcdefghijkl9876"), "rk_test_…9876");
}

TEST(Redact, ShowsOnlyThePrefixOfAShortSecret) {
    EXPECT_EQ(redact("whsec_short"), "whsec_…");
    EXPECT_EQ(redact("sk_test_abc"), "sk_test_…");
    // Exactly eleven characters after the prefix: still too few to show four of them.
    EXPECT_EQ(redact("whsec_abcdefghijk"), "whsec_…");
    // Twelve: eight stay hidden.
    EXPECT_EQ(redact("whsec_abcdefghijkl"), "whsec_…ijkl");
}

TEST(Redact, ShowsNoPrefixForAnUnknownSecret) {
    EXPECT_EQ(redact("mysecretvalue1234"), "…1234");
    EXPECT_EQ(redact("tiny"), "…");
    EXPECT_EQ(redact(""), "…");
}

TEST(Redact, IgnoresSurroundingWhitespace) {
    EXPECT_EQ(redact("  whsec_abcdefghijklmnop1234\r\n"), "whsec_…1234");
}

TEST(Redact, NeverShowsTheWholeSecret) {
    for (const std::string_view secret :
         {"whsec_a", "whsec_abcdefghijkl", "sk_test_x", "sk_live_0123456789abcdefghij", "ab",
          "abcdefghijkl", "abcdefghijklmnopqrstuvwxyz", "pk_test_12345678901234567890"}) {
        const std::string shown = redact(secret);
        EXPECT_EQ(shown.find(secret), std::string::npos) << shown;
        EXPECT_LT(shown.size(), secret.size() + 4) << shown;
    }
}

TEST(TrimWhitespace, RemovesSpacesTabsAndLineEndsAroundText) {
    EXPECT_EQ(trim_whitespace(" \t\r\nwhsec_x \n"), "whsec_x");
    EXPECT_EQ(trim_whitespace("a b"), "a b");
    EXPECT_EQ(trim_whitespace(""), "");
    EXPECT_EQ(trim_whitespace(" \r\n\t"), "");
}

} // namespace
} // namespace sc

namespace sc {
namespace {

TEST(Printable, KeepsPrintableTextAndUtf8) {
    EXPECT_EQ(printable("la période est clôturée"), "la période est clôturée");
    EXPECT_EQ(printable("plain ASCII 123"), "plain ASCII 123");
}

TEST(Printable, EscapesControlsAndInvalidUtf8) {
    EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(printable("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
    EXPECT_EQ(printable("bad \xff\xfe end"), "bad \\xff\\xfe end");
    EXPECT_EQ(printable("cut \xc3"), "cut \\xc3");
    EXPECT_EQ(printable("c1 \xc2\x9b"), "c1 \\xc2\\x9b"); // a C1 control (CSI) is escaped
    EXPECT_EQ(printable("overlong \xe0\x80\xaf"), "overlong \\xe0\\x80\\xaf");
}

} // namespace
} // namespace sc
