#pragma once

#include "io/environment.h"

#include <iosfwd>

namespace sc::cli {

/// Runs the command line `argv` and returns the process exit status. Owns the only top-level
/// catch: errors become one `stripe-comptentra: error:` line and their exit status.
int run_app(int argc, const char* const* argv, const Environment& environment, std::istream& in,
            std::ostream& out, std::ostream& err);

} // namespace sc::cli
