#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sc {

/// Read access to environment variables, so that tests can supply their own.
class Environment {
  public:
    virtual ~Environment() = default;
    /// The variable's value; nothing when it is unset or empty.
    virtual std::optional<std::string> get(std::string_view name) const = 0;
};

/// The process environment.
class SystemEnvironment final : public Environment {
  public:
    std::optional<std::string> get(std::string_view name) const override;
};

/// A fixed set of variables, for tests.
class MapEnvironment final : public Environment {
  public:
    explicit MapEnvironment(std::map<std::string, std::string, std::less<>> variables)
        : m_variables(std::move(variables)) {}
    std::optional<std::string> get(std::string_view name) const override;

  private:
    std::map<std::string, std::string, std::less<>> m_variables;
};

/// The current time, unix seconds.
std::int64_t unix_now();

} // namespace sc
