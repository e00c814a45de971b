#include "core/civil_time.h"
#include "core/entry.h"
#include "core/money.h"
#include "core/reconcile.h"
#include "core/stripe_objects.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace sc {

// Readable failure messages (found by argument-dependent lookup; internal to this file).
[[maybe_unused]] static void PrintTo(const StoredEntry& entry, std::ostream* out) {
    *out << to_json(entry).dump();
    if (!entry.problem.empty()) {
        *out << " (problem: " << entry.problem << ")";
    }
}

[[maybe_unused]] static void PrintTo(const Entry& entry, std::ostream* out) {
    *out << to_json(entry).dump();
}

[[maybe_unused]] static void PrintTo(const Difference& difference, std::ostream* out) {
    *out << to_string(difference.kind) << " " << difference.charge << " " << difference.date << " ["
         << difference.found.size() << " found] " << difference.detail;
}

namespace {

using nlohmann::json;

// 2026-10-28T10:00:00Z: before the period.
constexpr std::int64_t k_oct_28 = 1793181600;
// 2026-11-12T10:00:00Z
constexpr std::int64_t k_nov_12 = 1794477600;
// 2026-11-30T14:05:00Z
constexpr std::int64_t k_nov_30 = 1796047500;
// 2026-11-30T23:30:00Z: still 2026-11-30 in UTC, already 2026-12-01 in Paris.
constexpr std::int64_t k_nov_30_late = 1796081400;

constexpr CivilDate k_first{2026, 11, 1};
constexpr CivilDate k_last{2026, 11, 30};

const LedgerSettings& default_ledger() {
    static const LedgerSettings ledger;
    return ledger;
}

// A charge as Stripe lists it: captured, succeeded, in euros, unless changed.
json a_charge(const std::string& id, std::int64_t created, std::int64_t amount = 1000) {
    return json{{"id", id},
                {"object", "charge"},
                {"amount", amount},
                {"amount_captured", amount},
                {"currency", "eur"},
                {"created", created},
                {"status", "succeeded"},
                {"captured", true},
                {"livemode", false},
                {"receipt_email", "client@example.fr"},
                {"billing_details", {{"email", nullptr}}},
                {"metadata", json::object()},
                {"balance_transaction", "txn_" + id}};
}

json a_failed_charge(const std::string& id, std::int64_t created) {
    json charge = a_charge(id, created);
    charge["status"] = "failed";
    charge["captured"] = false;
    charge["amount_captured"] = 0;
    return charge;
}

json an_uncaptured_charge(const std::string& id, std::int64_t created) {
    json charge = a_charge(id, created);
    charge["captured"] = false;
    charge["amount_captured"] = 0;
    return charge;
}

// A USD charge whose balance transaction is only an id: its entry cannot be computed.
json an_unbookable_charge(const std::string& id, std::int64_t created) {
    json charge = a_charge(id, created);
    charge["currency"] = "usd";
    return charge;
}

// The charge as the reconcile command lists it: its Paris day and its entry decision.
ListedObject listed(const json& document) {
    const StripeObject object = parse_stripe_object(document, "test.json");
    const std::int64_t created = std::get<Charge>(object).created;
    return ListedObject{default_ledger().time_zone.day_of(created),
                        decide_entry(object, default_ledger()), created};
}

// The entry computed for a bookable charge.
Entry expected_entry(const json& document) {
    const ListedObject charge = listed(document);
    EXPECT_EQ(charge.decision.disposition, Disposition::book) << charge.decision.reason;
    return charge.decision.entry.value_or(Entry{});
}

// An entry as Comptentra lists it, with its id.
json stored_json(const Entry& entry, const std::string& id) {
    json body = json::parse(to_json(entry).dump());
    body["id"] = id;
    return body;
}

StoredEntry stored(const Entry& entry, const std::string& id) {
    return parse_stored_entry(stored_json(entry, id));
}

// The entry the books hold for a charge, as computed, but with its own id and date.
StoredEntry stored_for(const json& charge, const std::string& id, const std::string& date) {
    StoredEntry entry = stored(expected_entry(charge), id);
    entry.date = date;
    return entry;
}

// Any sale entry of a charge, whatever its lines.
StoredEntry sale_entry(const std::string& charge, const std::string& id, const std::string& date) {
    return StoredEntry{id,
                       date,
                       "VTE",
                       sale_libelle(charge),
                       {{"411000", std::nullopt, 1000, 0}, {"707000", std::nullopt, 0, 1000}},
                       {}};
}

std::vector<std::string> ids_of(const std::vector<StoredEntry>& entries) {
    std::vector<std::string> ids;
    for (const StoredEntry& entry : entries) {
        ids.push_back(entry.id);
    }
    return ids;
}

// 10.00 EUR at 20 %: 1.67 of VAT.
const std::vector<EntryLine>& sale_lines() {
    static const std::vector<EntryLine> lines = {{"411000", "client@example.fr", 1000, 0},
                                                 {"707000", std::nullopt, 0, 833},
                                                 {"445712", std::nullopt, 0, 167}};
    return lines;
}

Entry a_sale() {
    return Entry{CivilDate{2026, 11, 30}, "VTE", "Paiement Stripe ch_1", sale_lines()};
}

StoredEntry stored_sale() {
    return StoredEntry{"ECR-000007", "2026-11-30", "VTE", "Paiement Stripe ch_1", sale_lines(), {}};
}

// A stored entry as the client reads it: JSON text parsed (non-negative integers come out
// unsigned, as from Comptentra's answers).
StoredEntry read(const json& document) {
    return parse_stored_entry(json::parse(document.dump()));
}

json stored_sale_json() {
    return json{{"id", "ECR-000007"},
                {"date", "2026-11-30"},
                {"journal", "VTE"},
                {"libelle", "Paiement Stripe ch_1"},
                {"lignes",
                 {{{"compte", "411000"},
                   {"tiers_email", "client@example.fr"},
                   {"debit_cents", 1000},
                   {"credit_cents", 0}},
                  {{"compte", "707000"}, {"debit_cents", 0}, {"credit_cents", 833}},
                  {{"compte", "445712"}, {"credit_cents", 167}}}}};
}

// --- parse_stored_entry
// ----------------------------------------------------------------------------

TEST(ReconcileParseStoredEntry, ReadsAWellFormedEntry) {
    const StoredEntry entry = read(stored_sale_json());
    EXPECT_EQ(entry, stored_sale());
    EXPECT_TRUE(entry.problem.empty()) << entry.problem;
}

TEST(ReconcileParseStoredEntry, ReadsPositiveAmountsHeldAsSignedIntegers) {
    EXPECT_EQ(parse_stored_entry(stored_sale_json()), stored_sale());
    EXPECT_EQ(parse_stored_entry(json(to_json(stored_sale()))), stored_sale());
}

TEST(ReconcileParseStoredEntry, ReadsANumericIdAndAccountAsText) {
    json document = stored_sale_json();
    document["id"] = 42;
    document["lignes"][1]["compte"] = 707000;
    const StoredEntry entry = read(document);
    EXPECT_EQ(entry.id, "42");
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[1].account, "707000");
    EXPECT_TRUE(entry.problem.empty()) << entry.problem;
}

TEST(ReconcileParseStoredEntry, ReadsTheLargestAmountOfTheLedger) {
    json document = stored_sale_json();
    document["lignes"][0]["debit_cents"] = k_max_cents;
    const StoredEntry entry = read(document);
    EXPECT_TRUE(entry.problem.empty()) << entry.problem;
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[0].debit, k_max_cents);
}

TEST(ReconcileParseStoredEntry, IgnoresATiersEmailThatIsNotText) {
    json document = stored_sale_json();
    document["lignes"][0]["tiers_email"] = 5;
    const StoredEntry entry = read(document);
    EXPECT_TRUE(entry.problem.empty()) << entry.problem;
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[0].tiers_email, std::nullopt);
}

TEST(ReconcileParseStoredEntry, NamesAMissingLignesArrayButKeepsTheLibelle) {
    for (const json& lines : {json(nullptr), json::object(), json("none")}) {
        json document = stored_sale_json();
        document["lignes"] = lines;
        const StoredEntry entry = read(document);
        EXPECT_EQ(entry.problem, "the entry has no lignes array") << lines.dump();
        EXPECT_EQ(entry.id, "ECR-000007");
        EXPECT_EQ(entry.date, "2026-11-30");
        EXPECT_EQ(entry.libelle, "Paiement Stripe ch_1");
    }
    json document = stored_sale_json();
    document.erase("lignes");
    EXPECT_EQ(read(document).problem, "the entry has no lignes array");
}

TEST(ReconcileParseStoredEntry, NamesTheLineOfAnAmountThatIsNotANonNegativeInteger) {
    const std::vector<json> amounts = {
        json(8.33),           json(833.0), json(-833), json("833"),
        json(nullptr),        json(true),  json(1e20), json(std::uint64_t{18446744073709551615U}),
        json(k_max_cents + 1)};
    for (const json& amount : amounts) {
        for (const char* key : {"credit_cents", "debit_cents"}) {
            json document = stored_sale_json();
            document["lignes"][1][key] = amount;
            StoredEntry entry;
            EXPECT_NO_THROW(entry = read(document)) << amount.dump();
            EXPECT_EQ(entry.problem, "lignes[1] has no readable amounts")
                << key << " = " << amount.dump();
            EXPECT_EQ(entry.libelle, "Paiement Stripe ch_1");
        }
    }
}

TEST(ReconcileParseStoredEntry, NamesALineThatIsNotAnObject) {
    json document = stored_sale_json();
    document["lignes"][0] = "411000 10.00";
    EXPECT_EQ(read(document).problem, "lignes[0] has no readable amounts");
}

TEST(ReconcileParseStoredEntry, NeverThrowsOnSomethingThatIsNotAnObject) {
    for (const json& document :
         {json(nullptr), json::array({stored_sale_json()}), json("ECR-7"), json(42), json(true)}) {
        StoredEntry entry;
        EXPECT_NO_THROW(entry = read(document)) << document.dump();
        EXPECT_EQ(entry.problem, "the entry is not a JSON object") << document.dump();
        EXPECT_TRUE(entry.id.empty());
        EXPECT_TRUE(entry.libelle.empty());
        EXPECT_TRUE(entry.lines.empty());
    }
}

// --- to_json(StoredEntry)
// --------------------------------------------------------------------------

TEST(ReconcileStoredEntryJson, WritesComptentrasShapeWithTheId) {
    EXPECT_EQ(to_json(stored_sale()).dump(),
              R"({"id":"ECR-000007","date":"2026-11-30","journal":"VTE",)"
              R"("libelle":"Paiement Stripe ch_1","lignes":[)"
              R"({"compte":"411000","tiers_email":"client@example.fr",)"
              R"("debit_cents":1000,"credit_cents":0},)"
              R"({"compte":"707000","debit_cents":0,"credit_cents":833},)"
              R"({"compte":"445712","debit_cents":0,"credit_cents":167}]})");
}

TEST(ReconcileStoredEntryJson, ReadsBackWhatItWrote) {
    const StoredEntry original = stored_sale();
    EXPECT_EQ(parse_stored_entry(json::parse(to_json(original).dump())), original);

    const StoredEntry no_lines{"ECR-1", "2026-01-01", "BQ", "Virement", {}, {}};
    EXPECT_EQ(parse_stored_entry(json::parse(to_json(no_lines).dump())), no_lines);
}

// --- charge_of_libelle
// -----------------------------------------------------------------------------

TEST(ReconcileChargeOfLibelle, ReadsTheChargeOfASaleLibelle) {
    EXPECT_EQ(charge_of_libelle("Paiement Stripe ch_3QxY"), "ch_3QxY");
    EXPECT_EQ(charge_of_libelle("Paiement Stripe py_1AbC_09"), "py_1AbC_09");
    EXPECT_EQ(charge_of_libelle(sale_libelle("ch_1")), "ch_1");
}

TEST(ReconcileChargeOfLibelle, GivesNothingForOtherLibelles) {
    for (const char* libelle :
         {"", "Paiement Stripe", "Remboursement Stripe ch_1", "paiement stripe ch_1",
          "Paiement  Stripe ch_1", " Paiement Stripe ch_1", "Virement Paiement Stripe ch_1",
          "Frais Stripe ch_1"}) {
        EXPECT_EQ(charge_of_libelle(libelle), std::nullopt) << "'" << libelle << "'";
    }
}

TEST(ReconcileChargeOfLibelle, GivesNothingForAnEmptyOrUnusualId) {
    for (const char* libelle :
         {"Paiement Stripe ", "Paiement Stripe  ch_1", "Paiement Stripe ch_1 ",
          "Paiement Stripe ch 1", "Paiement Stripe ch_1 (annulation)", "Paiement Stripe ch_1/2",
          "Paiement Stripe ../ch_1", "Paiement Stripe ch_1\\x", "Paiement Stripe ch-1",
          "Paiement Stripe ch_\xC3\xA9t\xC3\xA9", "Paiement Stripe ch_1\n",
          "Paiement Stripe ch_1\t"}) {
        EXPECT_EQ(charge_of_libelle(libelle), std::nullopt) << "'" << libelle << "'";
    }
    EXPECT_EQ(charge_of_libelle(std::string_view("Paiement Stripe ch_1\0x", 22)), std::nullopt);
}

// --- entry_differences
// -----------------------------------------------------------------------------

TEST(ReconcileEntryDifferences, FindsNothingBetweenEqualEntries) {
    EXPECT_EQ(entry_differences(a_sale(), stored_sale()), std::vector<std::string>{});
}

TEST(ReconcileEntryDifferences, ComparesLinesInAnyOrder) {
    StoredEntry found = stored_sale();
    std::swap(found.lines[0], found.lines[2]);
    EXPECT_EQ(entry_differences(a_sale(), found), std::vector<std::string>{});
}

TEST(ReconcileEntryDifferences, NamesADifferentDate) {
    StoredEntry found = stored_sale();
    found.date = "2026-12-01";
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"date 2026-11-30 expected, 2026-12-01 found"});
    found.date = "30/11/2026";
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"date 2026-11-30 expected, 30/11/2026 found"});
}

TEST(ReconcileEntryDifferences, NamesADifferentJournal) {
    StoredEntry found = stored_sale();
    found.journal = "BQ";
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"journal VTE expected, BQ found"});
}

TEST(ReconcileEntryDifferences, NamesADifferentLibelle) {
    StoredEntry found = stored_sale();
    found.libelle = "Paiement Stripe ch_2";
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{
                  "libellé 'Paiement Stripe ch_1' expected, 'Paiement Stripe ch_2' found"});
}

TEST(ReconcileEntryDifferences, NamesADifferentAmount) {
    StoredEntry found = stored_sale();
    found.lines[1].credit = 834;
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{"line 707000 credit 8.33 expected",
                                        "line 707000 credit 8.34 found"}));
}

TEST(ReconcileEntryDifferences, NamesADebitFoundWhereACreditIsExpected) {
    StoredEntry found = stored_sale();
    found.lines[2] = EntryLine{"445712", std::nullopt, 167, 0};
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{"line 445712 credit 1.67 expected",
                                        "line 445712 debit 1.67 found"}));
}

TEST(ReconcileEntryDifferences, NamesADifferentAccount) {
    StoredEntry found = stored_sale();
    found.lines[1].account = "706000";
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{"line 707000 credit 8.33 expected",
                                        "line 706000 credit 8.33 found"}));
}

TEST(ReconcileEntryDifferences, NamesAnAbsentTiersEmail) {
    StoredEntry found = stored_sale();
    found.lines[0].tiers_email.reset();
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{"line 411000 debit 10.00 (client@example.fr) expected",
                                        "line 411000 debit 10.00 found"}));
}

TEST(ReconcileEntryDifferences, NamesAnUnexpectedOrDifferentTiersEmail) {
    Entry expected = a_sale();
    expected.lines[0].tiers_email.reset();
    EXPECT_EQ(entry_differences(expected, stored_sale()),
              (std::vector<std::string>{"line 411000 debit 10.00 expected",
                                        "line 411000 debit 10.00 (client@example.fr) found"}));

    StoredEntry found = stored_sale();
    found.lines[0].tiers_email = "autre@example.fr";
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{"line 411000 debit 10.00 (client@example.fr) expected",
                                        "line 411000 debit 10.00 (autre@example.fr) found"}));
}

TEST(ReconcileEntryDifferences, NamesAMissingAndAnExtraLine) {
    StoredEntry found = stored_sale();
    found.lines.pop_back();
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"line 445712 credit 1.67 expected"});
    found = stored_sale();
    found.lines.push_back(EntryLine{"658000", std::nullopt, 1, 0});
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"line 658000 debit 0.01 found"});
}

TEST(ReconcileEntryDifferences, TellsALineFoundTwiceFromALineFoundOnce) {
    StoredEntry found = stored_sale();
    found.lines.push_back(found.lines[1]);
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"line 707000 credit 8.33 found"});
}

TEST(ReconcileEntryDifferences, ListsDateJournalLibelleThenLines) {
    StoredEntry found = stored_sale();
    found.date = "2026-12-01";
    found.journal = "OD";
    found.libelle = "Paiement Stripe ch_9";
    found.lines[1].credit = 834;
    EXPECT_EQ(entry_differences(a_sale(), found),
              (std::vector<std::string>{
                  "date 2026-11-30 expected, 2026-12-01 found", "journal VTE expected, OD found",
                  "libellé 'Paiement Stripe ch_1' expected, 'Paiement Stripe ch_9' found",
                  "line 707000 credit 8.33 expected", "line 707000 credit 8.34 found"}));
}

TEST(ReconcileEntryDifferences, GivesOnlyTheProblemOfAnUnreadableEntry) {
    json document = stored_sale_json();
    document["date"] = "2026-12-01";
    document["lignes"][1]["credit_cents"] = 8.33;
    const StoredEntry found = read(document);
    EXPECT_EQ(entry_differences(a_sale(), found),
              std::vector<std::string>{"lignes[1] has no readable amounts"});
    EXPECT_EQ(entry_differences(a_sale(), parse_stored_entry(json("text"))),
              std::vector<std::string>{"the entry is not a JSON object"});
}

// --- the charges of the tests
// --------------------------------------------------------------------------

TEST(ReconcileCharges, AreBookedAsTheEntryRulesSay) {
    const ListedObject charge = listed(a_charge("ch_1", k_nov_30, 1000));
    EXPECT_EQ(charge.day, (CivilDate{2026, 11, 30}));
    EXPECT_EQ(charge.created, k_nov_30);
    EXPECT_EQ(charge.decision.object_id, "ch_1");
    ASSERT_TRUE(charge.decision.entry.has_value());
    EXPECT_EQ(*charge.decision.entry, a_sale());
    EXPECT_EQ(listed(a_failed_charge("ch_2", k_nov_12)).decision.disposition, Disposition::skip);
    EXPECT_EQ(listed(an_uncaptured_charge("ch_3", k_nov_12)).decision.disposition,
              Disposition::skip);
    EXPECT_EQ(listed(an_unbookable_charge("ch_4", k_nov_12)).decision.disposition,
              Disposition::invalid);
    EXPECT_EQ(listed(a_charge("ch_5", k_nov_30_late)).day, (CivilDate{2026, 12, 1}));
}

// --- Reconciliation: charges of the period
// -------------------------------------------------------------

TEST(Reconciliation, FindsNothingForAChargeAndItsEntry) {
    const json charge = a_charge("ch_1", k_nov_12);
    Reconciliation reconciliation(k_first, k_last);
    EXPECT_TRUE(reconciliation.add_entry(stored(expected_entry(charge), "ECR-1")));
    EXPECT_EQ(reconciliation.check_charge(listed(charge)), std::nullopt);
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    EXPECT_EQ(reconciliation.entries(), 1U);
    EXPECT_EQ(reconciliation.charges(), 1U);
}

TEST(Reconciliation, FindsNothingWhenTheStoredLinesAreInAnotherOrder) {
    const json charge = a_charge("ch_1", k_nov_12);
    StoredEntry entry = stored(expected_entry(charge), "ECR-1");
    std::reverse(entry.lines.begin(), entry.lines.end());
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(entry);
    EXPECT_EQ(reconciliation.check_charge(listed(charge)), std::nullopt);
}

TEST(Reconciliation, ReportsABookableChargeWithoutEntryAsMissing) {
    const json charge = a_charge("ch_1", k_nov_12, 5990);
    Reconciliation reconciliation(k_first, k_last);
    const auto difference = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::missing);
    EXPECT_EQ(difference->charge, "ch_1");
    EXPECT_EQ(difference->date, "2026-11-12");
    EXPECT_EQ(difference->expected, expected_entry(charge));
    EXPECT_TRUE(difference->found.empty());
    EXPECT_EQ(difference->detail, "no entry for 59.90 EUR");
    EXPECT_EQ(difference->created, k_nov_12);
}

TEST(Reconciliation, DatesAChargeByItsDayInTheBooksZone) {
    // 23:30 UTC on 30 November is 00:30 on 1 December in Paris.
    const json charge = a_charge("ch_late", k_nov_30_late);
    Reconciliation reconciliation(k_first, CivilDate{2026, 12, 1});
    const auto missing = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(missing->kind, DifferenceKind::missing);
    EXPECT_EQ(missing->date, "2026-12-01");
    EXPECT_EQ(missing->created, k_nov_30_late);

    reconciliation.add_entry(stored_for(charge, "ECR-1", "2026-11-30"));
    const auto mismatch = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(mismatch.has_value());
    EXPECT_EQ(mismatch->kind, DifferenceKind::mismatch);
    EXPECT_EQ(mismatch->date, "2026-12-01");
    EXPECT_EQ(mismatch->detail, "date 2026-12-01 expected, 2026-11-30 found");
}

TEST(Reconciliation, TakesTheDateOfADifferenceFromTheListedDay) {
    ListedObject charge = listed(a_charge("ch_late", k_nov_30_late));
    charge.day = CivilDate{2026, 11, 29};
    Reconciliation reconciliation(k_first, k_last);
    const auto difference = reconciliation.check_charge(charge);
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->date, "2026-11-29");
}

TEST(Reconciliation, ReportsSeveralEntriesOfOneChargeAsADuplicateSortedByDateThenId) {
    const json charge = a_charge("ch_1", k_nov_12);
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(stored_for(charge, "ECR-000005", "2026-11-13"));
    reconciliation.add_entry(stored_for(charge, "ECR-000012", "2026-11-12"));
    reconciliation.add_entry(stored_for(charge, "ECR-000009", "2026-11-12"));
    const auto difference = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::duplicate);
    EXPECT_EQ(difference->charge, "ch_1");
    EXPECT_EQ(difference->date, "2026-11-12");
    EXPECT_EQ(difference->detail, "3 entries for one charge");
    EXPECT_EQ(ids_of(difference->found),
              (std::vector<std::string>{"ECR-000009", "ECR-000012", "ECR-000005"}));
    EXPECT_EQ(difference->expected, expected_entry(charge));
    EXPECT_EQ(reconciliation.entries(), 3U);
}

TEST(Reconciliation, ReportsTheOneEntryThatDiffersAsAMismatch) {
    const json charge = a_charge("ch_1", k_nov_12);
    StoredEntry entry = stored_for(charge, "ECR-1", "2026-11-13");
    ASSERT_EQ(entry.lines.size(), 3U);
    ASSERT_EQ(entry.lines[1].account, "707000");
    entry.lines[1].credit = 834;
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(entry);
    const auto difference = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::mismatch);
    EXPECT_EQ(difference->charge, "ch_1");
    EXPECT_EQ(difference->date, "2026-11-12");
    EXPECT_EQ(difference->detail, "date 2026-11-12 expected, 2026-11-13 found; "
                                  "line 707000 credit 8.33 expected; "
                                  "line 707000 credit 8.34 found");
    EXPECT_EQ(ids_of(difference->found), std::vector<std::string>{"ECR-1"});
    EXPECT_EQ(difference->expected, expected_entry(charge));
}

TEST(Reconciliation, ReportsAnUnreadableEntryAsAMismatchNamingItsProblem) {
    const json charge = a_charge("ch_1", k_nov_12);
    json document = stored_json(expected_entry(charge), "ECR-1");
    document["lignes"][0]["debit_cents"] = -1000;
    Reconciliation reconciliation(k_first, k_last);
    EXPECT_TRUE(reconciliation.add_entry(read(document)));
    const auto difference = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::mismatch);
    EXPECT_EQ(difference->detail, "lignes[0] has no readable amounts");
}

TEST(Reconciliation, ReportsTheEntriesOfASkippedChargeAsOrphansWithTheSkipReason) {
    struct Case {
        json charge;
        const char* reason;
    };
    const std::vector<Case> cases = {
        {a_failed_charge("ch_f", k_nov_12), "the charge failed"},
        {an_uncaptured_charge("ch_u", k_nov_12), "the charge is an uncaptured authorisation"},
        {[] {
             json pending = a_charge("ch_p", k_nov_12);
             pending["status"] = "pending";
             return pending;
         }(),
         "the charge is pending"}};
    for (const Case& item : cases) {
        const std::string id = item.charge["id"].get<std::string>();
        Reconciliation reconciliation(k_first, k_last);
        reconciliation.add_entry(sale_entry(id, "ECR-000019", "2026-11-16"));
        reconciliation.add_entry(sale_entry(id, "ECR-000020", "2026-11-14"));
        const auto difference = reconciliation.check_charge(listed(item.charge));
        ASSERT_TRUE(difference.has_value()) << id;
        EXPECT_EQ(difference->kind, DifferenceKind::orphan) << id;
        EXPECT_EQ(difference->charge, id);
        EXPECT_EQ(difference->detail, item.reason);
        EXPECT_EQ(difference->date, "2026-11-14") << "the date of its first entry";
        EXPECT_EQ(ids_of(difference->found),
                  (std::vector<std::string>{"ECR-000020", "ECR-000019"}));
        EXPECT_FALSE(difference->expected.has_value());
        EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    }
}

TEST(Reconciliation, FindsNothingForASkippedChargeWithoutEntry) {
    Reconciliation reconciliation(k_first, k_last);
    EXPECT_EQ(reconciliation.check_charge(listed(a_failed_charge("ch_f", k_nov_12))), std::nullopt);
    EXPECT_EQ(reconciliation.check_charge(listed(an_uncaptured_charge("ch_u", k_nov_12))),
              std::nullopt);
    EXPECT_EQ(reconciliation.charges(), 2U);
}

TEST(Reconciliation, ReportsAChargeWhoseEntryCannotBeComputedAsInvalid) {
    const json charge = an_unbookable_charge("ch_usd", k_nov_12);
    const ListedObject usd = listed(charge);
    for (const bool with_entry : {false, true}) {
        Reconciliation reconciliation(k_first, k_last);
        if (with_entry) {
            reconciliation.add_entry(sale_entry("ch_usd", "ECR-3", "2026-11-12"));
        }
        const auto difference = reconciliation.check_charge(usd);
        ASSERT_TRUE(difference.has_value());
        EXPECT_EQ(difference->kind, DifferenceKind::invalid);
        EXPECT_EQ(difference->charge, "ch_usd");
        EXPECT_EQ(difference->date, "2026-11-12");
        EXPECT_EQ(difference->detail, usd.decision.reason);
        EXPECT_NE(difference->detail.find("usd"), std::string::npos) << difference->detail;
        EXPECT_FALSE(difference->expected.has_value());
        EXPECT_EQ(difference->found.size(), with_entry ? 1U : 0U);
        EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    }
}

TEST(Reconciliation, ReportsEachKindOnceForAMixedPeriod) {
    const json ok = a_charge("ch_ok", k_nov_12);
    const json missing = a_charge("ch_missing", k_nov_12);
    const json duplicate = a_charge("ch_dup", k_nov_12);
    const json mismatch = a_charge("ch_mis", k_nov_12);
    const json orphan = a_failed_charge("ch_fail", k_nov_12);
    const json invalid = an_unbookable_charge("ch_usd", k_nov_12);

    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(stored(expected_entry(ok), "ECR-1"));
    reconciliation.add_entry(stored(expected_entry(duplicate), "ECR-2"));
    reconciliation.add_entry(stored(expected_entry(duplicate), "ECR-3"));
    reconciliation.add_entry(stored_for(mismatch, "ECR-4", "2026-11-13"));
    reconciliation.add_entry(sale_entry("ch_fail", "ECR-5", "2026-11-12"));
    EXPECT_FALSE(reconciliation.add_entry(
        StoredEntry{"ECR-6", "2026-11-12", "VTE", "Remboursement ch_ok", sale_lines(), {}}));

    std::vector<DifferenceKind> kinds;
    std::vector<std::string> charges;
    for (const json* charge : {&ok, &missing, &duplicate, &mismatch, &orphan, &invalid}) {
        if (const auto difference = reconciliation.check_charge(listed(*charge))) {
            kinds.push_back(difference->kind);
            charges.push_back(difference->charge);
        }
    }
    EXPECT_EQ(kinds,
              (std::vector<DifferenceKind>{DifferenceKind::missing, DifferenceKind::duplicate,
                                           DifferenceKind::mismatch, DifferenceKind::orphan,
                                           DifferenceKind::invalid}));
    EXPECT_EQ(charges,
              (std::vector<std::string>{"ch_missing", "ch_dup", "ch_mis", "ch_fail", "ch_usd"}));
    EXPECT_EQ(reconciliation.entries(), 5U);
    EXPECT_EQ(reconciliation.charges(), 6U);
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    for (const char* id : {"ch_ok", "ch_missing", "ch_dup", "ch_mis", "ch_fail", "ch_usd"}) {
        EXPECT_EQ(reconciliation.check_unclaimed(id, std::nullopt), std::nullopt) << id;
    }
}

TEST(Reconciliation, IgnoresEntriesThatAreNotSales) {
    Reconciliation reconciliation(k_first, k_last);
    for (const char* libelle : {"Remboursement client", "Paiement Stripe ",
                                "Paiement Stripe ch_1 (annulation)", "Frais Stripe novembre", ""}) {
        EXPECT_FALSE(reconciliation.add_entry(
            StoredEntry{"ECR-9", "2026-11-12", "VTE", libelle, sale_lines(), {}}))
            << libelle;
    }
    EXPECT_EQ(reconciliation.entries(), 0U);
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());

    const auto difference = reconciliation.check_charge(listed(a_charge("ch_1", k_nov_12)));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::missing) << "the annulation is not its entry";
}

TEST(Reconciliation, CountsSaleEntriesAndCheckedCharges) {
    Reconciliation reconciliation(k_first, k_last);
    EXPECT_EQ(reconciliation.entries(), 0U);
    EXPECT_EQ(reconciliation.charges(), 0U);
    EXPECT_TRUE(reconciliation.add_entry(sale_entry("ch_1", "ECR-1", "2026-11-12")));
    EXPECT_TRUE(reconciliation.add_entry(sale_entry("ch_1", "ECR-2", "2026-11-12")));
    EXPECT_TRUE(reconciliation.add_entry(sale_entry("ch_2", "ECR-3", "2026-10-30")));
    EXPECT_FALSE(reconciliation.add_entry(
        StoredEntry{"ECR-4", "2026-11-12", "VTE", "Remboursement", sale_lines(), {}}));
    EXPECT_EQ(reconciliation.entries(), 3U);
    reconciliation.check_charge(listed(a_charge("ch_1", k_nov_12)));
    reconciliation.check_charge(listed(a_failed_charge("ch_3", k_nov_12)));
    reconciliation.check_charge(listed(a_charge("ch_4", k_nov_30)));
    EXPECT_EQ(reconciliation.charges(), 3U);
    EXPECT_EQ(reconciliation.entries(), 3U);
}

// --- Reconciliation: entries no listed charge claimed
// --------------------------------------------------

TEST(Reconciliation, LooksUpOnlyUnclaimedChargesWithAnEntryDatedInThePeriod) {
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(sale_entry("ch_in", "ECR-1", "2026-11-15"));
    reconciliation.add_entry(sale_entry("ch_first", "ECR-2", "2026-11-01"));
    reconciliation.add_entry(sale_entry("ch_last", "ECR-3", "2026-11-30"));
    reconciliation.add_entry(sale_entry("ch_before", "ECR-4", "2026-10-29"));
    reconciliation.add_entry(sale_entry("ch_after", "ECR-5", "2026-12-01"));
    reconciliation.add_entry(sale_entry("ch_after", "ECR-6", "2026-12-03"));
    reconciliation.add_entry(sale_entry("ch_mixed", "ECR-7", "2026-10-31"));
    reconciliation.add_entry(sale_entry("ch_mixed", "ECR-8", "2026-11-02"));
    reconciliation.add_entry(sale_entry("ch_claimed", "ECR-9", "2026-11-15"));
    reconciliation.check_charge(listed(a_charge("ch_claimed", k_nov_12)));
    EXPECT_EQ(reconciliation.unclaimed_charges(),
              (std::vector<std::string>{"ch_first", "ch_in", "ch_last", "ch_mixed"}));
    EXPECT_EQ(reconciliation.unclaimed_charges(), reconciliation.unclaimed_charges())
        << "listing them claims nothing";
}

TEST(Reconciliation, ReportsTheEntriesOfAChargeStripeDoesNotKnowAsOrphans) {
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(sale_entry("ch_gone", "ECR-000003", "2026-11-20"));
    reconciliation.add_entry(sale_entry("ch_gone", "ECR-000008", "2026-11-18"));
    ASSERT_EQ(reconciliation.unclaimed_charges(), std::vector<std::string>{"ch_gone"});
    const auto difference = reconciliation.check_unclaimed("ch_gone", std::nullopt);
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::orphan);
    EXPECT_EQ(difference->charge, "ch_gone");
    EXPECT_EQ(difference->detail, "Stripe has no such charge");
    EXPECT_EQ(difference->date, "2026-11-18");
    EXPECT_EQ(ids_of(difference->found), (std::vector<std::string>{"ECR-000008", "ECR-000003"}));
    EXPECT_FALSE(difference->expected.has_value());
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    EXPECT_EQ(reconciliation.check_unclaimed("ch_gone", std::nullopt), std::nullopt)
        << "reported once";
}

TEST(Reconciliation, ReportsAChargeOfAnotherPeriodWithAnEntryDatedInsideAsAMismatch) {
    const json charge = a_charge("ch_old", k_oct_28);
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(stored_for(charge, "ECR-1", "2026-11-03"));
    ASSERT_EQ(reconciliation.unclaimed_charges(), std::vector<std::string>{"ch_old"});
    const auto difference = reconciliation.check_unclaimed("ch_old", listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::mismatch);
    EXPECT_EQ(difference->charge, "ch_old");
    EXPECT_EQ(difference->date, "2026-10-28");
    EXPECT_EQ(difference->detail, "date 2026-10-28 expected, 2026-11-03 found");
    EXPECT_EQ(difference->created, k_oct_28);
    EXPECT_EQ(reconciliation.charges(), 0U) << "only charges of the period are counted";
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
}

TEST(Reconciliation, ReportsTheEntryOfAFailedChargeLookedUpAsAnOrphan) {
    const json charge = a_failed_charge("ch_f", k_oct_28);
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(sale_entry("ch_f", "ECR-1", "2026-11-02"));
    const auto difference = reconciliation.check_unclaimed("ch_f", listed(charge));
    ASSERT_TRUE(difference.has_value());
    EXPECT_EQ(difference->kind, DifferenceKind::orphan);
    EXPECT_EQ(difference->detail, "the charge failed");
    EXPECT_EQ(difference->date, "2026-11-02");
}

TEST(Reconciliation, NeverReportsTheEntriesOfAClaimedChargeAgain) {
    const json charge = a_charge("ch_1", k_nov_12);
    Reconciliation reconciliation(k_first, k_last);
    reconciliation.add_entry(stored_for(charge, "ECR-1", "2026-11-12"));
    reconciliation.add_entry(stored_for(charge, "ECR-2", "2026-11-12"));
    const auto first = reconciliation.check_charge(listed(charge));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->kind, DifferenceKind::duplicate);
    EXPECT_TRUE(reconciliation.unclaimed_charges().empty());
    EXPECT_EQ(reconciliation.check_unclaimed("ch_1", std::nullopt), std::nullopt);
    EXPECT_EQ(reconciliation.check_unclaimed("ch_1", listed(charge)), std::nullopt);
}

TEST(Reconciliation, FindsNothingForAChargeThatHasNoEntry) {
    Reconciliation reconciliation(k_first, k_last);
    EXPECT_EQ(reconciliation.check_unclaimed("ch_never", std::nullopt), std::nullopt);
    EXPECT_EQ(reconciliation.check_unclaimed("ch_never", listed(a_charge("ch_never", k_nov_12))),
              std::nullopt);
}

TEST(ReconcileDifferenceKind, HasTheNamesReportsPrint) {
    EXPECT_EQ(to_string(DifferenceKind::missing), "missing");
    EXPECT_EQ(to_string(DifferenceKind::duplicate), "duplicate");
    EXPECT_EQ(to_string(DifferenceKind::mismatch), "mismatch");
    EXPECT_EQ(to_string(DifferenceKind::orphan), "orphan");
    EXPECT_EQ(to_string(DifferenceKind::invalid), "invalid");
}

// --- to_iso_utc
// ------------------------------------------------------------------------------------

TEST(ToIsoUtc, WritesTheEpoch) {
    EXPECT_EQ(to_iso_utc(0), "1970-01-01T00:00:00Z");
}

TEST(ToIsoUtc, WritesA2026TimeInUtc) {
    EXPECT_EQ(to_iso_utc(k_nov_30), "2026-11-30T14:05:00Z");
    EXPECT_EQ(to_iso_utc(k_nov_30_late), "2026-11-30T23:30:00Z");
    EXPECT_EQ(to_iso_utc(1767225599), "2025-12-31T23:59:59Z");
}

} // namespace
} // namespace sc
