#include "core/capture.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace sc {
namespace {

// Joins header lines with `eol`, then an empty line, then the body.
std::string request(std::initializer_list<std::string_view> head, std::string_view body,
                    std::string_view eol = "\r\n") {
    std::string text;
    for (const auto line : head) {
        text += line;
        text += eol;
    }
    text += eol;
    text += body;
    return text;
}

void expect_malformed(std::string_view bytes, std::string_view words = {}) {
    try {
        parse_capture(bytes, "captures/001.http");
        ADD_FAILURE() << "no error for: " << bytes;
    } catch (const Error& error) {
        const std::string_view message = error.what();
        EXPECT_EQ(error.status(), ExitStatus::data_error) << message;
        EXPECT_TRUE(message.starts_with("captures/001.http")) << message;
        EXPECT_NE(message.find(words), std::string_view::npos) << message;
    }
}

TEST(Capture, ReadsRequestLineHeadersAndBody) {
    const auto capture = parse_capture(
        "POST /stripe-webhook HTTP/1.1\r\nHost: x\r\nStripe-Signature: t=1,v1=ab\r\n\r\n{\"a\":1}",
        "in");
    EXPECT_EQ(capture.method, "POST");
    EXPECT_EQ(capture.target, "/stripe-webhook");
    EXPECT_EQ(capture.header("stripe-signature").value_or(""), "t=1,v1=ab");
    EXPECT_EQ(capture.body, "{\"a\":1}");
}

TEST(Capture, ReadsLfLineEnds) {
    const auto capture = parse_capture(
        request({"POST /hook HTTP/1.1", "Stripe-Signature: t=1,v1=ab"}, "{\"a\":1}\n", "\n"), "in");
    EXPECT_EQ(capture.method, "POST");
    EXPECT_EQ(capture.target, "/hook");
    EXPECT_EQ(capture.header("Stripe-Signature").value_or(""), "t=1,v1=ab");
    EXPECT_EQ(capture.body, "{\"a\":1}\n");
}

TEST(Capture, KeepsTheBodyBytesExactly) {
    const std::string body = "{\r\n  \"a\": \"\xEF\xBB\xBF\xFF\"\r\n}\r\n\r\n";
    EXPECT_EQ(parse_capture(request({"POST / HTTP/1.1"}, body), "in").body, body);
    EXPECT_EQ(parse_capture(request({"POST / HTTP/1.1"}, body, "\n"), "in").body, body);
}

TEST(Capture, KeepsHeadersInOrderWithTrimmedValues) {
    const auto capture = parse_capture(
        request({"POST / HTTP/1.1", "Host:  example.test ", "X-Empty:", "Accept:\t*/*\t"}, ""),
        "in");
    ASSERT_EQ(capture.headers.size(), 3U);
    EXPECT_EQ(capture.headers[0], (std::pair<std::string, std::string>{"Host", "example.test"}));
    EXPECT_EQ(capture.headers[1], (std::pair<std::string, std::string>{"X-Empty", ""}));
    EXPECT_EQ(capture.headers[2], (std::pair<std::string, std::string>{"Accept", "*/*"}));
}

TEST(Capture, LooksUpHeadersWithoutCase) {
    const auto capture =
        parse_capture(request({"POST / HTTP/1.1", "STRIPE-signature: t=1,v1=ab"}, ""), "in");
    for (const std::string_view name :
         {"Stripe-Signature", "stripe-signature", "STRIPE-SIGNATURE"}) {
        EXPECT_EQ(capture.header(name).value_or("none"), "t=1,v1=ab") << name;
    }
    EXPECT_FALSE(capture.header("Stripe-Signatur").has_value());
    EXPECT_FALSE(capture.header("Content-Length").has_value());
}

TEST(Capture, ReturnsTheFirstOfRepeatedHeaders) {
    const auto capture =
        parse_capture(request({"POST / HTTP/1.1", "X-A: one", "x-a: two"}, ""), "in");
    EXPECT_EQ(capture.header("X-A").value_or(""), "one");
}

TEST(Capture, AcceptsAnEmptyBody) {
    EXPECT_EQ(parse_capture(request({"POST / HTTP/1.1"}, ""), "in").body, "");
}

TEST(Capture, HonoursContentLengthAndIgnoresExtraBytes) {
    const auto capture = parse_capture(
        request({"POST / HTTP/1.1", "Content-Length: 7"}, "{\"a\":1}\r\n\r\ntrailing junk"), "in");
    EXPECT_EQ(capture.body, "{\"a\":1}");
}

TEST(Capture, HonoursAContentLengthOfZero) {
    EXPECT_EQ(parse_capture(request({"POST / HTTP/1.1", "content-length: 0"}, "junk"), "in").body,
              "");
}

TEST(Capture, RejectsAContentLengthLargerThanTheBody) {
    expect_malformed(request({"POST / HTTP/1.1", "Content-Length: 50"}, "{\"a\":1}"),
                     "Content-Length");
}

TEST(Capture, RejectsAContentLengthThatIsNotANumber) {
    expect_malformed(request({"POST / HTTP/1.1", "Content-Length: ten"}, "{\"a\":1}"),
                     "Content-Length");
    expect_malformed(request({"POST / HTTP/1.1", "Content-Length: -1"}, "{\"a\":1}"),
                     "Content-Length");
}

TEST(Capture, DecodesAChunkedBody) {
    const auto capture =
        parse_capture(request({"POST / HTTP/1.1", "Transfer-Encoding: chunked"},
                              "4\r\n{\"a\"\r\nA;ext=1\r\n:1234567}\n\r\n0\r\n\r\n"),
                      "in");
    EXPECT_EQ(capture.body, "{\"a\":1234567}\n");
}

TEST(Capture, DecodesAChunkedBodyWithLfLineEnds) {
    const auto capture = parse_capture(
        request({"POST / HTTP/1.1", "transfer-encoding: Chunked"}, "3\nabc\n2\nde\n0\n\n", "\n"),
        "in");
    EXPECT_EQ(capture.body, "abcde");
}

TEST(Capture, PrefersChunkedEncodingOverContentLength) {
    const auto capture = parse_capture(
        request({"POST / HTTP/1.1", "Content-Length: 2", "Transfer-Encoding: chunked"},
                "3\r\nabc\r\n0\r\n\r\n"),
        "in");
    EXPECT_EQ(capture.body, "abc");
}

TEST(Capture, RejectsBrokenChunkedBodies) {
    const std::string_view bodies[] = {"3\r\nabc\r\n", "zz\r\nabc\r\n0\r\n\r\n",
                                       "10\r\nabc\r\n0\r\n\r\n", "3\r\nabc"};
    for (const auto body : bodies) {
        expect_malformed(request({"POST / HTTP/1.1", "Transfer-Encoding: chunked"}, body), "chunk");
    }
}

TEST(Capture, RejectsHeadersWithoutTheBlankLineAfterThem) {
    expect_malformed("POST / HTTP/1.1\r\nHost: x\r\nStripe-Signature: t=1", "empty line");
    expect_malformed("POST / HTTP/1.1\r\nHost: x\r\n", "empty line");
    expect_malformed("POST / HTTP/1.1\nHost: x\n", "empty line");
}

TEST(Capture, RejectsAHeaderLineWithoutName) {
    expect_malformed(request({"POST / HTTP/1.1", "not a header"}, "{}"), "header");
    expect_malformed(request({"POST / HTTP/1.1", ": value"}, "{}"), "header");
}

TEST(Capture, RejectsTextWithoutRequestLine) {
    expect_malformed("{\"a\":1}\n", "request line");
    expect_malformed("", "request line");
    expect_malformed("POST / HTTP/1.1", "request line");
}

TEST(LooksLikeCapture, RecognisesHttp1RequestLines) {
    for (const std::string_view bytes :
         {"POST /stripe-webhook HTTP/1.1\r\n", "POST /stripe-webhook HTTP/1.1\n",
          "GET / HTTP/1.0\r\nHost: x\r\n\r\n", "PUT /a/b?c=d HTTP/1.1"}) {
        EXPECT_TRUE(looks_like_capture(bytes)) << bytes;
    }
}

TEST(LooksLikeCapture, RejectsEverythingElse) {
    for (const std::string_view bytes :
         {"", "{\"id\":\"evt_1\"}\n", "post /x HTTP/1.1\r\n", "POST /x HTTP/2\r\n", "POST /x\r\n",
          " POST /x HTTP/1.1\r\n", "POST\r\n", "HTTP/1.1 200 OK\r\n", "\r\nPOST /x HTTP/1.1\r\n",
          "[\"POST /x HTTP/1.1\"]"}) {
        EXPECT_FALSE(looks_like_capture(bytes)) << bytes;
    }
}

// --- format_capture
// --------------------------------------------------------------------------------

HttpCapture sample_capture(std::string body) {
    HttpCapture capture;
    capture.method = "POST";
    capture.target = "/stripe-webhook?x=1";
    capture.headers = {{"Host", "127.0.0.1:8080"},
                       {"Content-Length", "999"},
                       {"Stripe-Signature", "t=1,v1=ab"},
                       {"transfer-encoding", "chunked"},
                       {"X-Repeated", "one"},
                       {"x-repeated", "two"}};
    capture.body = std::move(body);
    return capture;
}

// Formats then parses back, and checks that nothing but the framing changed.
void expect_round_trip(const HttpCapture& capture) {
    const std::string bytes = format_capture(capture);
    const auto back = parse_capture(bytes, "x");
    EXPECT_EQ(back.method, capture.method);
    EXPECT_EQ(back.target, capture.target);
    EXPECT_EQ(back.body, capture.body);
    HttpHeaders expected;
    for (const auto& header : capture.headers) {
        if (!iequals(header.first, "Content-Length") &&
            !iequals(header.first, "Transfer-Encoding")) {
            expected.push_back(header);
        }
    }
    expected.emplace_back("Content-Length", std::to_string(capture.body.size()));
    EXPECT_EQ(back.headers, expected);
}

TEST(CaptureFormat, WritesRequestLineHeadersLengthAndBody) {
    HttpCapture capture;
    capture.method = "POST";
    capture.target = "/hook";
    capture.headers = {{"Host", "x"}, {"Stripe-Signature", "t=1,v1=ab"}};
    capture.body = "{\"a\":1}";
    EXPECT_EQ(format_capture(capture), "POST /hook HTTP/1.1\r\nHost: x\r\n"
                                       "Stripe-Signature: t=1,v1=ab\r\nContent-Length: 7\r\n\r\n"
                                       "{\"a\":1}");
    EXPECT_TRUE(looks_like_capture(format_capture(capture)));
}

TEST(CaptureFormat, RoundTripsAJsonBody) {
    expect_round_trip(sample_capture(R"({"id":"evt_1","object":"event"})"));
}

TEST(CaptureFormat, RoundTripsABodyWithCrlfAndBlankLines) {
    expect_round_trip(sample_capture("{\r\n\"a\": 1\r\n}\r\n\r\n\r\nafter"));
    expect_round_trip(sample_capture("\r\n\r\n"));
}

TEST(CaptureFormat, RoundTripsANulByteAndInvalidUtf8) {
    const char raw[] = "{\"a\":\"\0\xFF\xC3\x28\xEF\xBB\xBF\"}\x80";
    const std::string body(raw, sizeof raw - 1);
    ASSERT_EQ(body.size(), 16U);
    expect_round_trip(sample_capture(body));
}

TEST(CaptureFormat, RoundTripsAnEmptyBody) {
    const auto capture = sample_capture("");
    expect_round_trip(capture);
    EXPECT_TRUE(format_capture(capture).ends_with("Content-Length: 0\r\n\r\n"));
}

TEST(CaptureFormat, DropsChunkedEncodingAndWritesTheBodyAsIs) {
    HttpCapture capture;
    capture.method = "POST";
    capture.target = "/";
    capture.headers = {{"Transfer-Encoding", "chunked"}, {"X-A", "b"}};
    capture.body = "3\r\nabc\r\n0\r\n\r\n"; // looks chunked, but is the decoded body
    const std::string bytes = format_capture(capture);
    EXPECT_EQ(bytes.find("Transfer-Encoding"), std::string::npos) << bytes;
    const auto back = parse_capture(bytes, "x");
    EXPECT_EQ(back.body, capture.body);
    EXPECT_EQ(back.headers,
              (HttpHeaders{{"X-A", "b"}, {"Content-Length", std::to_string(capture.body.size())}}));
}

} // namespace
} // namespace sc
