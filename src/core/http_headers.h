#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc {

/// Name-value pairs of HTTP headers, in order.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// True when the two texts are equal ignoring ASCII case, as header names compare.
bool iequals(std::string_view a, std::string_view b);

/// The value of the first header of that name, compared without case; nothing when absent.
std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name);

} // namespace sc
