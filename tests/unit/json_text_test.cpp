#include "core/error.h"
#include "core/json_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sc {
namespace {

// The reference verdict: nlohmann's, with every byte above 0x7F made an ASCII letter.
bool reference(std::string text) {
    for (char& c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            c = 'x';
        }
    }
    return nlohmann::json::accept(text);
}

const std::vector<std::string> k_valid = {
    "{}", "[]", " {\n\t\"a\" : 1 }\r\n", "0", "-0", "12", "-12.5e+3", "1E-2", "0.0",
    "true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
    "\"\\u00e9\\uD83D\\uDE00\\u0000\"", "[1,[2,[3,{\"a\":[]}]],{}]", "{\"a\":{\"b\":{\"c\":null}}}",
    "\"caf\xC3\xA9\"", "\"\xFF\xFE not UTF-8 inside a string\"", "\"\x7F\"",
    "18446744073709551615", "18446744073709551616", "-9223372036854775809",
    "123456789012345678901234567890", "1e308", "1e-999", "[" + std::string(300, '1') + "]",
    std::string(10'000, '[') + std::string(10'000, ']'),
};

const std::vector<std::string> k_invalid = {
    "", " ", "{", "}", "[", "]", "{]", "[}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a:1}",
    "{\"a\":1,}", "[1,]", "[,1]", "{,}", "[1 2]", "01", "-", "1.", ".5", "1e", "1e+",
    "+1", "0x10", "1e400", "-1e400", "[" + std::string(400, '9') + "]", "tru", "truex",
    "nul", "True", "\"abc", "\"a\nb\"", "\"\t\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
    "\"\\uD83D\"", "\"\\uD83Dx\"", "\"\\uD83D\\u0041\"", "\"\\uDE00\"", "{} {}", "[] x",
    "\xEF\xBB\xBF{}", "\xC3\xA9", "{\"a\":1}\x80", "/* no */ {}", "{\"a\":1} // no",
    std::string("{\"a\":\"\0\"}", 9), std::string("{}\0", 3), "NaN", "Infinity",
};

TEST(JsonText, AcceptsWhatTheParserAccepts) {
    for (const auto& text : k_valid) {
        EXPECT_TRUE(reference(text)) << "the reference refuses " << text.substr(0, 60);
        EXPECT_TRUE(is_json_text(text)) << text.substr(0, 60);
    }
}

TEST(JsonText, RefusesWhatTheParserRefuses) {
    for (const auto& text : k_invalid) {
        const bool nul = text.find('\0') != std::string::npos; // nlohmann stops at a NUL byte
        EXPECT_TRUE(nul || !reference(text)) << "the reference accepts " << text.substr(0, 60);
        EXPECT_FALSE(is_json_text(text)) << text.substr(0, 60);
    }
}

TEST(JsonText, EveryPrefixOfAValidDocumentIsJudgedLikeTheParserDoes) {
    const std::string document =
        R"({"id":"evt_1","data":{"object":{"amount":-12.50e-1,"tags":[true,false,null],)"
        R"("s":"\u00e9\"\\","n":[0,1e5,{"k":[]}]}}})";
    for (std::size_t length = 0; length <= document.size(); ++length) {
        const std::string prefix = document.substr(0, length);
        EXPECT_EQ(is_json_text(prefix), reference(prefix)) << prefix;
    }
}

TEST(JsonText, ParsesADocument) {
    const auto document = parse_json_text(R"({"a":[1,{"b":"c"}],"d":null,"e":1.5})", "in");
    EXPECT_EQ(document, nlohmann::json::parse(R"({"a":[1,{"b":"c"}],"d":null,"e":1.5})"));
    EXPECT_EQ(parse_json_text("\xEF\xBB\xBF[1]", "in"), nlohmann::json::array({1}));
}

TEST(JsonText, RefusesAKeyGivenTwiceAtAnyDepth) {
    for (const std::string text : {R"({"a":1,"a":2})", R"({"x":{"b":[{"a":1,"a":1}]}})",
                                   R"([{"k":{},"k":{}}])"}) {
        try {
            parse_json_text(text, "dup.json");
            ADD_FAILURE() << text;
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), ExitStatus::data_error);
            EXPECT_NE(std::string(error.what()).find("dup.json: the key '"), std::string::npos)
                << error.what();
            EXPECT_NE(std::string(error.what()).find("' appears twice in one object"),
                      std::string::npos);
        }
    }
    EXPECT_NO_THROW(parse_json_text(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})", "in"));
}

TEST(JsonText, NamesTheInputAndTheParserProblem) {
    try {
        parse_json_text("{\"a\":\x01}", "bad.json");
        ADD_FAILURE();
    } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_TRUE(message.starts_with("bad.json: malformed JSON: ")) << message;
        EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
        EXPECT_EQ(message.find('\x01'), std::string::npos) << "a control byte reached the text";
    }
    EXPECT_THROW(parse_json_text("1e400", "in"), Error);
    try {
        parse_json_text(std::string("{\"a\":1}\0{\"b\":2}", 15), "nul.json");
        ADD_FAILURE() << "the parser stopped at the NUL byte and ignored the rest";
    } catch (const Error& error) {
        EXPECT_STREQ(error.what(), "nul.json: malformed JSON: a NUL byte at offset 7");
    }
    EXPECT_THROW(parse_json_text("", "in"), Error);
}

} // namespace
} // namespace sc
