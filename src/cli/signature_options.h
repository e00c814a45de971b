#pragma once

#include "cli/common_options.h"
#include "cli/report.h"
#include "core/signature.h"
#include "io/inputs.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace sc::cli {

/// The options of a signature check, shared by `verify` and `post --verify`.
struct SignatureOptions {
    std::optional<std::string> signature; ///< header for raw bodies
    std::string tolerance = "300";
    std::optional<std::string> received_at;
};

/// Adds `--signature`, `--webhook-secret`, `--tolerance` and `--received-at`.
void add_signature_options(CLI::App& command, SignatureOptions& options, SettingFlags& flags);

/// The policy those options and the settings describe. Throws Error (usage) for a bad option
/// and Error (configuration) when no secret is configured.
VerifyPolicy make_verify_policy(const SignatureOptions& options, const Settings& settings);

/// Checks one item's signature; a valid one must also be a well-formed JSON object. The result
/// has status `valid`, `invalid` or `too_old`, and its exit status.
ItemResult check_signature(const InputItem& item, const SignatureOptions& options,
                           const VerifyPolicy& policy);

} // namespace sc::cli
