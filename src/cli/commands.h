#pragma once

#include "cli/common_options.h"

#include <CLI/CLI.hpp>

namespace sc::cli {

/// Each adds its subcommand, with its options, to `app` and returns the function that runs it
/// once the command line is parsed.
CommandRunner add_verify_command(CLI::App& app, Context& context);
CommandRunner add_sign_command(CLI::App& app, Context& context);
CommandRunner add_entry_command(CLI::App& app, Context& context);
CommandRunner add_post_command(CLI::App& app, Context& context);
CommandRunner add_backfill_command(CLI::App& app, Context& context);
CommandRunner add_reconcile_command(CLI::App& app, Context& context);
CommandRunner add_check_command(CLI::App& app, Context& context);
CommandRunner add_config_command(CLI::App& app, Context& context);
CommandRunner add_listen_command(CLI::App& app, Context& context);

} // namespace sc::cli
