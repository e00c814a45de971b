#include "io/inputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using testing::TempDir;

struct Problem {
    std::string input;
    ExitStatus status;
    std::string message;
};

// Everything read_inputs reports, in order.
struct Collected {
    std::vector<InputItem> items;
    std::vector<Problem> problems;
};

Collected read_all(const std::vector<std::string>& paths, const std::string& stdin_bytes = {}) {
    Collected collected;
    std::istringstream in(stdin_bytes);
    read_inputs(
        paths, in, [&](InputItem& item) { collected.items.push_back(item); },
        [&](const std::string& input, const Error& error) {
            collected.problems.push_back({input, error.status(), error.what()});
        });
    return collected;
}

Collected read_one(const std::filesystem::path& path) {
    return read_all({path.string()});
}

std::vector<std::string> labels(const Collected& collected) {
    std::vector<std::string> result;
    for (const auto& item : collected.items) {
        result.push_back(item.label);
    }
    return result;
}

void expect_one_problem(const Collected& collected, const std::string& input, ExitStatus status) {
    EXPECT_TRUE(collected.items.empty());
    ASSERT_EQ(collected.problems.size(), 1U);
    EXPECT_EQ(collected.problems[0].input, input);
    EXPECT_EQ(collected.problems[0].status, status) << collected.problems[0].message;
    EXPECT_TRUE(collected.problems[0].message.starts_with(input)) << collected.problems[0].message;
}

constexpr std::string_view k_event = R"({"id":"evt_1","object":"event"})";

// --- one JSON document per file ---------------------------------------------------------------

TEST(ReadInputs, ReadsASingleJsonFileAsOneItemLabelledWithItsPath) {
    const TempDir dir;
    const std::string bytes = std::string(k_event) + "\n";
    const auto path = dir.write("event.json", bytes);
    const auto collected = read_one(path);
    EXPECT_TRUE(collected.problems.empty());
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, path.string());
    EXPECT_EQ(collected.items[0].body, bytes);
    EXPECT_FALSE(collected.items[0].signature.has_value());
    EXPECT_FALSE(collected.items[0].from_capture);
}

TEST(ReadInputs, KeepsTheExactBytesOfAOneLineFileWithoutNewline) {
    const TempDir dir;
    const auto path = dir.write("event.json", k_event);
    const auto collected = read_one(path);
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].body, k_event);
}

TEST(ReadInputs, ReadsAOneLineObjectFollowedByBlankLinesAsOneItem) {
    const TempDir dir;
    const std::string bytes = "\n" + std::string(k_event) + "\r\n\r\n  \n";
    const auto path = dir.write("event.json", bytes);
    const auto collected = read_one(path);
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, path.string());
    EXPECT_EQ(collected.items[0].body, bytes);
}

TEST(ReadInputs, ReadsPrettyPrintedJsonAsOneItemWithItsExactBytes) {
    const TempDir dir;
    const std::string bytes = "{\r\n  \"id\": \"evt_1\",\r\n  \"data\": {\"x\": [1, 2]}\r\n}\r\n";
    const auto path = dir.write("pretty.json", bytes);
    const auto collected = read_one(path);
    EXPECT_TRUE(collected.problems.empty());
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, path.string());
    EXPECT_EQ(collected.items[0].body, bytes);
}

TEST(ReadInputs, KeepsAByteOrderMarkAndInvalidUtf8) {
    const TempDir dir;
    const std::string bytes = "\xEF\xBB\xBF{\"id\":\"evt_1\",\"name\":\"\xE9\xFF\"}\n";
    const auto path = dir.write("bom.json", bytes);
    const auto collected = read_one(path);
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].body, bytes);
}

TEST(ReadInputs, ReadsAnythingElseAsOneItem) {
    const TempDir dir;
    const std::string bytes = "not json at all\nsecond line\n";
    const auto path = dir.write("junk.txt", bytes);
    const auto collected = read_one(path);
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].body, bytes);
}

// --- JSON Lines
// -------------------------------------------------------------------------------------

TEST(ReadInputs, ReadsJsonLinesAsOneItemPerLineLabelledWithThePhysicalLine) {
    const TempDir dir;
    const auto path = dir.write("events.jsonl", "\n"
                                                "{\"id\":\"evt_1\"}\n"
                                                "\n"
                                                "{\"id\":\"evt_2\"}\r\n"
                                                "   \n"
                                                "\t\r\n"
                                                "{\"id\":\"evt_3\"}\n"
                                                "{\"id\":\"evt_4\"}");
    const auto collected = read_one(path);
    EXPECT_TRUE(collected.problems.empty());
    const std::string p = path.string();
    EXPECT_EQ(labels(collected),
              (std::vector<std::string>{p + ":2", p + ":4", p + ":7", p + ":8"}));
    ASSERT_EQ(collected.items.size(), 4U);
    EXPECT_EQ(collected.items[0].body, "{\"id\":\"evt_1\"}");
    EXPECT_EQ(collected.items[1].body, "{\"id\":\"evt_2\"}");
    EXPECT_EQ(collected.items[2].body, "{\"id\":\"evt_3\"}");
    EXPECT_EQ(collected.items[3].body, "{\"id\":\"evt_4\"}");
    for (const auto& item : collected.items) {
        EXPECT_FALSE(item.from_capture);
        EXPECT_FALSE(item.signature.has_value());
    }
}

TEST(ReadInputs, PassesOnLinesThatAreNotJsonForTheCallerToReject) {
    const TempDir dir;
    const auto path =
        dir.write("events.jsonl", "{\"id\":\"evt_1\"}\nnot json\n{\"id\":\"evt_2\"}\n");
    const auto collected = read_one(path);
    const std::string p = path.string();
    EXPECT_EQ(labels(collected), (std::vector<std::string>{p + ":1", p + ":2", p + ":3"}));
    ASSERT_EQ(collected.items.size(), 3U);
    EXPECT_EQ(collected.items[1].body, "not json");
}

TEST(ReadInputs, ReportsAJsonLineLongerThanTheLimitAndGoesOn) {
    const TempDir dir;
    const std::string huge = "{\"x\":\"" + std::string(k_max_item_bytes, 'a') + "\"}";
    const auto path =
        dir.write("events.jsonl", "{\"id\":\"evt_1\"}\n" + huge + "\n{\"id\":\"evt_3\"}\n");
    const auto collected = read_one(path);
    const std::string p = path.string();
    EXPECT_EQ(labels(collected), (std::vector<std::string>{p + ":1", p + ":3"}));
    ASSERT_EQ(collected.problems.size(), 1U);
    EXPECT_EQ(collected.problems[0].input, p + ":2");
    EXPECT_EQ(collected.problems[0].status, ExitStatus::data_error);
}

// --- HTTP captures
// -----------------------------------------------------------------------------------

TEST(ReadInputs, ReadsACaptureAsItsBodyAndSignature) {
    const TempDir dir;
    const std::string body = "{\"id\":\"evt_1\"}\n";
    const auto path = dir.write("001.http", "POST /stripe-webhook HTTP/1.1\r\n"
                                            "Content-Type: application/json\r\n"
                                            "Stripe-Signature: t=1,v1=ab\r\n"
                                            "\r\n" +
                                                body);
    const auto collected = read_one(path);
    EXPECT_TRUE(collected.problems.empty());
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, path.string());
    EXPECT_EQ(collected.items[0].body, body);
    EXPECT_EQ(collected.items[0].signature, "t=1,v1=ab");
    EXPECT_TRUE(collected.items[0].from_capture);
}

TEST(ReadInputs, ReadsACaptureWithLfLineEndsAndContentLength) {
    const TempDir dir;
    const auto path = dir.write("002.http", "POST /hook HTTP/1.1\n"
                                            "Content-Length: 14\n"
                                            "\n"
                                            "{\"id\":\"evt_1\"}\n\n");
    const auto collected = read_one(path);
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].body, "{\"id\":\"evt_1\"}");
    EXPECT_FALSE(collected.items[0].signature.has_value());
    EXPECT_TRUE(collected.items[0].from_capture);
}

TEST(ReadInputs, ReportsAMalformedCapture) {
    const TempDir dir;
    const auto path = dir.write("003.http", "POST /hook HTTP/1.1\r\nContent-Length: 99\r\n\r\n{}");
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

// --- directories, stdin and problems
// -----------------------------------------------------------------

TEST(ReadInputs, ReadsTheRegularFilesOfADirectoryInNameOrder) {
    const TempDir dir;
    dir.write("in/b.json", R"({"id":"b"})");
    dir.write("in/a.json", R"({"id":"a"})");
    dir.write("in/C.json", R"({"id":"C"})");
    dir.write("in/.hidden.json", R"({"id":"hidden"})");
    dir.write("in/sub/d.json", R"({"id":"d"})");
    const auto in = dir.path() / "in";
    const auto collected = read_all({in.string()});
    EXPECT_TRUE(collected.problems.empty());
    EXPECT_EQ(labels(collected),
              (std::vector<std::string>{(in / "C.json").string(), (in / "a.json").string(),
                                        (in / "b.json").string()}));
    ASSERT_EQ(collected.items.size(), 3U);
    EXPECT_EQ(collected.items[1].body, R"({"id":"a"})");
}

TEST(ReadInputs, ReadsSeveralPathsInTheOrderGiven) {
    const TempDir dir;
    const auto second = dir.write("2.json", R"({"id":"2"})");
    const auto first = dir.write("1.json", R"({"id":"1"})");
    const auto collected = read_all({second.string(), first.string(), second.string()});
    EXPECT_EQ(labels(collected),
              (std::vector<std::string>{second.string(), first.string(), second.string()}));
}

TEST(ReadInputs, ReportsAMissingPathAndGoesOn) {
    const TempDir dir;
    const auto present = dir.write("present.json", k_event);
    const std::string missing = (dir.path() / "missing.json").string();
    const auto collected = read_all({missing, present.string()});
    ASSERT_EQ(collected.problems.size(), 1U);
    EXPECT_EQ(collected.problems[0].input, missing);
    EXPECT_EQ(collected.problems[0].status, ExitStatus::no_input);
    EXPECT_TRUE(collected.problems[0].message.starts_with(missing));
    EXPECT_EQ(labels(collected), (std::vector<std::string>{present.string()}));
}

TEST(ReadInputs, ReportsAnEmptyFile) {
    const TempDir dir;
    const auto path = dir.write("empty.json", "");
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

TEST(ReadInputs, ReportsAFileOfBlankLines) {
    const TempDir dir;
    const auto path = dir.write("blank.json", "\n \r\n\t\n");
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

// A pretty-printed document of exactly `size` bytes.
std::string document_of_size(std::size_t size) {
    std::string text = "{\n\"x\":\"";
    text += std::string(size - text.size() - 3, 'a');
    text += "\"\n}";
    return text;
}

TEST(ReadInputs, AcceptsAFileOfExactlyTheLimit) {
    const TempDir dir;
    const auto path = dir.write("big.json", document_of_size(k_max_item_bytes));
    const auto collected = read_one(path);
    EXPECT_TRUE(collected.problems.empty());
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].body.size(), k_max_item_bytes);
}

TEST(ReadInputs, ReportsAFileLargerThanTheLimit) {
    const TempDir dir;
    const auto path = dir.write("huge.json", document_of_size(k_max_item_bytes + 1));
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

TEST(ReadInputs, ReportsAOneLineFileLargerThanTheLimit) {
    const TempDir dir;
    const std::string line = "{\"x\":\"" + std::string(k_max_item_bytes, 'a') + "\"}";
    const auto path = dir.write("huge.json", line);
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

TEST(ReadInputs, ReportsAOneLineFileWhoseNewlineTakesItOverTheLimit) {
    const TempDir dir;
    std::string line = "{\"x\":\"" + std::string(k_max_item_bytes - 8, 'a') + "\"}";
    ASSERT_EQ(line.size(), k_max_item_bytes);
    const auto path = dir.write("huge.json", line + "\n");
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

TEST(ReadInputs, ReportsALargeCapture) {
    const TempDir dir;
    const auto path =
        dir.write("big.http", "POST / HTTP/1.1\r\n\r\n" + document_of_size(k_max_item_bytes));
    expect_one_problem(read_one(path), path.string(), ExitStatus::data_error);
}

TEST(ReadInputs, ReadsStdinForADash) {
    const auto collected = read_all({"-"}, std::string(k_event));
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, "<stdin>");
    EXPECT_EQ(collected.items[0].body, k_event);
}

TEST(ReadInputs, ReadsJsonLinesFromStdin) {
    const auto collected = read_all({"-"}, "{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n");
    EXPECT_EQ(labels(collected), (std::vector<std::string>{"<stdin>:1", "<stdin>:3"}));
}

TEST(ReadInputs, ReadsACaptureFromStdin) {
    const auto collected =
        read_all({"-"}, "POST / HTTP/1.1\nStripe-Signature: t=5,v1=cd\n\n{\"id\":\"a\"}");
    ASSERT_EQ(collected.items.size(), 1U);
    EXPECT_EQ(collected.items[0].label, "<stdin>");
    EXPECT_EQ(collected.items[0].body, "{\"id\":\"a\"}");
    EXPECT_EQ(collected.items[0].signature, "t=5,v1=cd");
    EXPECT_TRUE(collected.items[0].from_capture);
}

TEST(ReadInputs, ReportsAnEmptyStdin) {
    expect_one_problem(read_all({"-"}, ""), "<stdin>", ExitStatus::data_error);
}

// --- read_raw_input
// ---------------------------------------------------------------------------------

TEST(ReadRawInput, ReturnsTheExactBytesOfAFile) {
    const TempDir dir;
    constexpr char k_raw[] = "\xEF\xBB\xBF{\r\n\"a\": 1}\r\n\n\0tail";
    const std::string bytes(k_raw, sizeof k_raw - 1);
    const auto path = dir.write("raw.json", bytes);
    std::istringstream unused;
    EXPECT_EQ(read_raw_input(path.string(), unused), bytes);
}

TEST(ReadRawInput, ReturnsTheExactBytesOfStdin) {
    const std::string bytes("{\"a\":1}\r\n\0\xFF", 11);
    std::istringstream in(bytes);
    EXPECT_EQ(read_raw_input("-", in), bytes);
}

TEST(ReadRawInput, ReadsAnEmptyFile) {
    const TempDir dir;
    const auto path = dir.write("empty", "");
    std::istringstream unused;
    EXPECT_EQ(read_raw_input(path.string(), unused), "");
}

void expect_raw_error(const std::string& path, ExitStatus status) {
    std::istringstream unused;
    try {
        read_raw_input(path, unused);
        ADD_FAILURE() << "no error for " << path;
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), status) << error.what();
        EXPECT_TRUE(std::string_view(error.what()).starts_with(path)) << error.what();
    }
}

TEST(ReadRawInput, ThrowsForAMissingFile) {
    const TempDir dir;
    expect_raw_error((dir.path() / "missing").string(), ExitStatus::no_input);
}

TEST(ReadRawInput, ThrowsForADirectory) {
    const TempDir dir;
    expect_raw_error(dir.path().string(), ExitStatus::no_input);
}

TEST(ReadRawInput, ThrowsForAFileLargerThanTheLimit) {
    const TempDir dir;
    const auto path = dir.write("huge", std::string(k_max_item_bytes + 1, 'a'));
    expect_raw_error(path.string(), ExitStatus::data_error);
}

} // namespace
} // namespace sc
