#include "core/error.h"
#include "core/fec.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sc {
namespace {

constexpr std::size_t k_column_count = 18;

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto end = text.find(separator, start);
        if (end == std::string_view::npos) {
            parts.emplace_back(text.substr(start));
            return parts;
        }
        parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
}

// The lines of a FEC text, each without its "\n"; the text must end with one.
std::vector<std::string> lines_of(std::string_view text) {
    EXPECT_TRUE(text.ends_with('\n')) << text;
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    return split(text, '\n');
}

std::vector<std::vector<std::string>> rows_of(std::string_view text) {
    std::vector<std::vector<std::string>> rows;
    for (const std::string& line : lines_of(text)) {
        rows.push_back(split(line, '\t'));
    }
    return rows;
}

// "1234,50" as 123450 cents.
Cents cents_of(std::string_view amount) {
    const auto comma = amount.find(',');
    EXPECT_NE(comma, std::string_view::npos) << amount;
    EXPECT_EQ(amount.size() - comma, 3u) << amount;
    return std::stoll(std::string(amount.substr(0, comma))) * 100 +
           std::stoll(std::string(amount.substr(comma + 1)));
}

Entry a_sale(std::string journal = "VTE", std::string libelle = "Paiement Stripe ch_3QxY") {
    return Entry{CivilDate{2026, 11, 30},
                 std::move(journal),
                 std::move(libelle),
                 {{"411000", "client@example.fr", 12000, 0},
                  {"707000", {}, 0, 10000},
                  {"445712", {}, 0, 2000}}};
}

Entry a_payout(Cents amount = 11800) {
    return Entry{CivilDate{2026, 12, 2},
                 "BQ",
                 "Virement Stripe po_1",
                 {{"512000", {}, amount, 0},
                  {"627000", {}, 200, 0},
                  {"411000", "client@example.fr", 0, amount + 200}}};
}

Entry a_foreign_sale(std::string currency, Cents foreign_amount) {
    Entry entry{CivilDate{2026, 11, 30},
                "VTE",
                "Paiement Stripe ch_usd",
                {{"411000", {}, 1000, 0, foreign_amount}, {"706000", {}, 0, 1000, foreign_amount}}};
    entry.foreign_currency = std::move(currency);
    return entry;
}

// The fields of the first line the writer produces for an entry.
std::vector<std::string> first_row(const Entry& entry, std::string_view piece_ref = "ch_1") {
    FecWriter writer;
    const auto rows = rows_of(writer.lines(entry, piece_ref));
    EXPECT_FALSE(rows.empty());
    return rows.empty() ? std::vector<std::string>{} : rows.front();
}

// --- the header ----------------------------------------------------------------------------------

TEST(FecHeader, NamesTheEighteenColumnsInTheirLegalOrder) {
    EXPECT_EQ(fec_header(), "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\t"
                            "CompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\t"
                            "Debit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\t"
                            "Idevise\n");
}

// --- the lines of an entry -----------------------------------------------------------------------

TEST(FecWriter, WritesEveryColumnOfASaleAtTwentyPercent) {
    FecWriter writer;
    const std::string text = writer.lines(a_sale(), "ch_3QxY");
    const std::vector<std::string> expected = {
        "VTE\tVentes\tVTE000001\t20261130\t411000\tClients\tclient@example.fr\t"
        "client@example.fr\tch_3QxY\t20261130\tPaiement Stripe ch_3QxY\t120,00\t0,00\t\t\t"
        "20261130\t\t",
        "VTE\tVentes\tVTE000001\t20261130\t707000\tVentes de marchandises\t\t\tch_3QxY\t"
        "20261130\tPaiement Stripe ch_3QxY\t0,00\t100,00\t\t\t20261130\t\t",
        "VTE\tVentes\tVTE000001\t20261130\t445712\tTVA collectee\t\t\tch_3QxY\t20261130\t"
        "Paiement Stripe ch_3QxY\t0,00\t20,00\t\t\t20261130\t\t",
    };
    EXPECT_EQ(lines_of(text), expected);
}

TEST(FecWriter, LabelsTheKnownJournalsAndAccounts) {
    FecWriter writer;
    const auto rows = rows_of(writer.lines(a_payout(), "po_1"));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0][1], "Banque");
    EXPECT_EQ(rows[0][5], "Banques");
    EXPECT_EQ(rows[1][5], "Services bancaires et assimiles");
    EXPECT_EQ(rows[2][5], "Clients");
    EXPECT_EQ(first_row(a_sale("OD"))[1], "Operations diverses");
    EXPECT_EQ(first_row(a_sale("ACH"))[1], "Achats");

    Entry refund = a_sale();
    refund.lines = {{"709000", {}, 500, 0}, {"706100", {}, 0, 500}};
    const auto refund_rows = rows_of(writer.lines(refund, "re_1"));
    ASSERT_EQ(refund_rows.size(), 2u);
    EXPECT_EQ(refund_rows[0][5], "Rabais remises et ristournes accordes");
    EXPECT_EQ(refund_rows[1][5], "Prestations de services");
}

TEST(FecWriter, LabelsAnUnknownJournalOrAccountWithItsCode) {
    Entry entry = a_sale("CAISSE");
    entry.lines = {{"530000", {}, 100, 0}, {"758000", {}, 0, 100}};
    FecWriter writer;
    const auto rows = rows_of(writer.lines(entry, "ch_1"));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][0], "CAISSE");
    EXPECT_EQ(rows[0][1], "CAISSE");
    EXPECT_EQ(rows[0][2], "CAISSE000001");
    EXPECT_EQ(rows[0][5], "530000");
    EXPECT_EQ(rows[1][5], "758000");
}

TEST(FecWriter, NumbersEntriesContinuouslyPerJournal) {
    FecWriter writer;
    const std::vector<std::pair<Entry, std::string>> entries = {{a_sale(), "VTE000001"},
                                                                {a_payout(), "BQ000001"},
                                                                {a_sale(), "VTE000002"},
                                                                {a_sale(), "VTE000003"},
                                                                {a_payout(), "BQ000002"}};
    for (const auto& [entry, number] : entries) {
        const auto rows = rows_of(writer.lines(entry, "ch_1"));
        ASSERT_EQ(rows.size(), entry.lines.size());
        for (const auto& row : rows) {
            EXPECT_EQ(row[2], number);
        }
    }
}

TEST(FecWriter, WritesTheDateAsYearMonthDayInEveryDateColumn) {
    Entry entry = a_sale();
    entry.date = CivilDate{2027, 1, 5};
    const auto row = first_row(entry);
    EXPECT_EQ(row[3], "20270105");
    EXPECT_EQ(row[9], "20270105");
    EXPECT_EQ(row[15], "20270105");
}

TEST(FecWriter, WritesAmountsWithADecimalCommaAndTwoDecimals) {
    Entry entry = a_sale();
    entry.lines = {{"411000", {}, 5, 0},
                   {"411000", {}, 123456789, 0},
                   {"707000", {}, 0, 123456794},
                   {"707000", {}, 0, 0}};
    FecWriter writer;
    const auto rows = rows_of(writer.lines(entry, "ch_1"));
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0][11], "0,05");
    EXPECT_EQ(rows[0][12], "0,00");
    EXPECT_EQ(rows[1][11], "1234567,89");
    EXPECT_EQ(rows[2][11], "0,00");
    EXPECT_EQ(rows[2][12], "1234567,94");
    EXPECT_EQ(rows[3][11], "0,00");
    EXPECT_EQ(rows[3][12], "0,00");
}

TEST(FecWriter, WritesTheForeignAmountInItsCurrencyDecimals) {
    const auto usd = first_row(a_foreign_sale("usd", 1234));
    EXPECT_EQ(usd[16], "12,34");
    EXPECT_EQ(usd[17], "USD");
    const auto jpy = first_row(a_foreign_sale("jpy", 1500));
    EXPECT_EQ(jpy[16], "1500");
    EXPECT_EQ(jpy[17], "JPY");
    const auto kwd = first_row(a_foreign_sale("kwd", 5120));
    EXPECT_EQ(kwd[16], "5,120");
    EXPECT_EQ(kwd[17], "KWD");
    const auto small = first_row(a_foreign_sale("usd", 7));
    EXPECT_EQ(small[16], "0,07");
}

TEST(FecWriter, WritesTheForeignAmountUnsigned) {
    EXPECT_EQ(first_row(a_foreign_sale("usd", -1234))[16], "12,34");
}

TEST(FecWriter, LeavesTheForeignColumnsEmptyWithoutAForeignAmount) {
    Entry no_currency = a_foreign_sale("usd", 1234);
    no_currency.foreign_currency.reset();
    const auto euro_row = first_row(no_currency);
    EXPECT_EQ(euro_row[16], "");
    EXPECT_EQ(euro_row[17], "");

    Entry no_line_amount = a_foreign_sale("usd", 1234);
    no_line_amount.lines[0].foreign.reset();
    FecWriter writer;
    const auto rows = rows_of(writer.lines(no_line_amount, "ch_1"));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][16], "");
    EXPECT_EQ(rows[0][17], "");
    EXPECT_EQ(rows[1][16], "12,34");
    EXPECT_EQ(rows[1][17], "USD");
}

TEST(FecWriter, ReplacesTabsAndLineBreaksInTextFields) {
    Entry entry = a_sale("VTE", "Paiement\tStripe\r\nch_1\n");
    entry.lines[0].tiers_email = "a\tb@example.fr";
    const auto row = first_row(entry, "ch\n1");
    ASSERT_EQ(row.size(), k_column_count);
    EXPECT_EQ(row[10], "Paiement Stripe  ch_1 ");
    EXPECT_EQ(row[6], "a b@example.fr");
    EXPECT_EQ(row[8], "ch 1");
}

TEST(FecWriter, WritesPlaceholdersForAnEmptyLibelleOrPieceRef) {
    const auto row = first_row(a_sale("VTE", ""), "");
    EXPECT_EQ(row[8], "-");
    EXPECT_EQ(row[10], "/");
}

TEST(FecWriter, WritesTextInLatin9) {
    Entry entry = a_sale("VTE", "Café à 12 € 😀");
    entry.lines[0].tiers_email = "zoé@example.fr";
    const auto row = first_row(entry, "ch_é");
    EXPECT_EQ(row[10], "Caf\xE9 \xE0 12 \xA4 ?");
    EXPECT_EQ(row[6], "zo\xE9@example.fr");
    EXPECT_EQ(row[7], "zo\xE9@example.fr");
    EXPECT_EQ(row[8], "ch_\xE9");
}

TEST(FecWriter, RefusesAnUnbalancedEntryNamingItsLibelle) {
    Entry entry = a_sale("VTE", "Paiement Stripe ch_bad");
    entry.lines[2].credit = 1999;
    FecWriter writer;
    try {
        (void)writer.lines(entry, "ch_bad");
        FAIL() << "an unbalanced entry was written";
    } catch (const Error& error) {
        EXPECT_EQ(to_int(error.status()), 65);
        EXPECT_NE(std::string(error.what()).find("Paiement Stripe ch_bad"), std::string::npos)
            << error.what();
    }
}

TEST(FecWriter, RefusesAnEntryWithoutLines) {
    Entry entry = a_sale("VTE", "Paiement Stripe ch_empty");
    entry.lines.clear();
    FecWriter writer;
    try {
        (void)writer.lines(entry, "ch_empty");
        FAIL() << "an entry without lines was written";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::data_error);
        EXPECT_NE(std::string(error.what()).find("Paiement Stripe ch_empty"), std::string::npos)
            << error.what();
    }
}

TEST(FecWriter, DoesNotNumberARefusedEntry) {
    Entry unbalanced = a_sale();
    unbalanced.lines[0].debit = 1;
    FecWriter writer;
    EXPECT_THROW((void)writer.lines(unbalanced, "ch_1"), Error);
    EXPECT_EQ(rows_of(writer.lines(a_sale(), "ch_2"))[0][2], "VTE000001");
}

TEST(FecWriter, ProducesLinesThatParseBackBalancedPerEntry) {
    FecWriter writer;
    Entry odd_sale = a_sale("VTE", "Paiement Stripe ch_odd");
    odd_sale.lines = {
        {"411000", "x@example.fr", 999, 0}, {"707000", {}, 0, 832}, {"445712", {}, 0, 167}};
    std::string text = fec_header();
    text += writer.lines(a_sale(), "ch_1");
    text += writer.lines(a_payout(), "po_1");
    text += writer.lines(odd_sale, "ch_2");
    text += writer.lines(a_foreign_sale("jpy", 1500), "ch_3");
    text += writer.lines(a_payout(123456789), "po_2");

    const auto rows = rows_of(text);
    ASSERT_EQ(rows.size(), 1u + 3 + 3 + 3 + 2 + 3);
    std::map<std::string, std::pair<Cents, Cents>> totals; // EcritureNum → debit, credit
    for (std::size_t index = 1; index < rows.size(); ++index) {
        const auto& row = rows[index];
        ASSERT_EQ(row.size(), k_column_count) << index;
        auto& [debit, credit] = totals[row[2]];
        debit += cents_of(row[11]);
        credit += cents_of(row[12]);
    }
    EXPECT_EQ(totals.size(), 5u);
    for (const auto& [number, sums] : totals) {
        EXPECT_EQ(sums.first, sums.second) << number;
        EXPECT_GT(sums.first, 0) << number;
    }
}

// --- balance -------------------------------------------------------------------------------------

TEST(FecEntryBalanced, ComparesDebitsWithCredits) {
    EXPECT_TRUE(fec_entry_balanced(a_sale()));
    EXPECT_TRUE(fec_entry_balanced(a_payout()));
    Entry entry = a_sale();
    entry.lines[1].credit += 1;
    EXPECT_FALSE(fec_entry_balanced(entry));
}

// --- ISO-8859-15 ---------------------------------------------------------------------------------

TEST(ToLatin9, KeepsAscii) {
    EXPECT_EQ(to_latin9("Paiement Stripe ch_3QxY\t1,00"), "Paiement Stripe ch_3QxY\t1,00");
    EXPECT_EQ(to_latin9(""), "");
}

TEST(ToLatin9, KeepsTheLatin1CharactersLatin9Has) {
    EXPECT_EQ(to_latin9("é"), "\xE9");
    EXPECT_EQ(to_latin9("àçèêîôùÿ"), "\xE0\xE7\xE8\xEA\xEE\xF4\xF9\xFF");
    EXPECT_EQ(to_latin9("ÉÀ«»°£§ß"), "\xC9\xC0\xAB\xBB\xB0\xA3\xA7\xDF");
    EXPECT_EQ(to_latin9("\u00A0"), "\xA0");
}

TEST(ToLatin9, WritesTheCharactersLatin9Added) {
    EXPECT_EQ(to_latin9("€"), "\xA4");
    EXPECT_EQ(to_latin9("Š"), "\xA6");
    EXPECT_EQ(to_latin9("š"), "\xA8");
    EXPECT_EQ(to_latin9("Ž"), "\xB4");
    EXPECT_EQ(to_latin9("ž"), "\xB8");
    EXPECT_EQ(to_latin9("Œ"), "\xBC");
    EXPECT_EQ(to_latin9("œ"), "\xBD");
    EXPECT_EQ(to_latin9("Ÿ"), "\xBE");
    EXPECT_EQ(to_latin9("cœur"), "c\xBDur");
}

TEST(ToLatin9, ReplacesTheLatin1CharactersLatin9Dropped) {
    EXPECT_EQ(to_latin9("¤"), "?");
    EXPECT_EQ(to_latin9("¦¨´¸¼½¾"), "???????");
}

TEST(ToLatin9, ReplacesUnrepresentableCharacters) {
    EXPECT_EQ(to_latin9("a😀b"), "a?b");
    EXPECT_EQ(to_latin9("Ł"), "?");
    EXPECT_EQ(to_latin9("日本"), "??");
    EXPECT_EQ(to_latin9("\u0085"), "?"); // a C1 control
}

TEST(ToLatin9, ReplacesInvalidUtf8) {
    EXPECT_EQ(to_latin9("caf\xE9"), "caf?");          // Latin-1, not UTF-8
    EXPECT_EQ(to_latin9("a\xFF-b"), "a?-b");          // a byte UTF-8 never uses
    EXPECT_EQ(to_latin9("\x80"), "?");                // a lone continuation byte
    EXPECT_EQ(to_latin9("\xC3"), "?");                // truncated at the end
    EXPECT_EQ(to_latin9("\xE2\x82-"), "?-");          // truncated before another character
    EXPECT_EQ(to_latin9("\xC0\xAF"), "??");           // overlong '/'
    EXPECT_EQ(to_latin9("\xE0\x80\xAF"), "???");      // overlong, three bytes
    EXPECT_EQ(to_latin9("\xED\xA0\x80"), "???");      // a surrogate
    EXPECT_EQ(to_latin9("\xF4\x90\x80\x80"), "????"); // beyond U+10FFFF
    EXPECT_EQ(to_latin9("\xC3\xA9\xC3"), "\xE9?");    // valid, then truncated
}

} // namespace
} // namespace sc
