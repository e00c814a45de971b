#pragma once

#include "core/error.h"
#include "core/stripe_objects.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string_view>

namespace sc::testing {

/// The event a document parses to, read as input `in.json`.
inline Event event_of(const nlohmann::json& document) {
    return std::get<Event>(parse_stripe_object(document, "in.json"));
}

/// Expects a data error whose message names the input `in.json` and contains every `part`.
inline void expect_data_error(const nlohmann::json& document,
                              std::initializer_list<std::string_view> parts) {
    try {
        parse_stripe_object(document, "in.json");
        ADD_FAILURE() << "no error for " << document.dump();
    } catch (const Error& error) {
        const std::string_view message = error.what();
        EXPECT_EQ(error.status(), ExitStatus::data_error) << message;
        EXPECT_TRUE(message.starts_with("in.json")) << message;
        for (const auto part : parts) {
            EXPECT_NE(message.find(part), std::string_view::npos)
                << "'" << part << "' not in: " << message;
        }
    }
}

} // namespace sc::testing
