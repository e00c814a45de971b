#pragma once

#include "core/error.h"

#include <string_view>

namespace sc {

/// While it lives, the first SIGINT (Ctrl-C) or SIGTERM only raises a flag, so that a run that
/// writes to the books stops between two requests and reports what it did; a second one ends
/// the process at once. Installed by the commands that talk to the APIs.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

/// Whether SIGINT or SIGTERM arrived while an InterruptGuard lived.
bool interrupted();

/// The error of an interrupted run (130): `doing` says where it stopped, e.g. "while listing".
Error interruption(std::string_view doing);

/// Blocks until SIGINT or SIGTERM arrives while an InterruptGuard lives (at once if one did).
void wait_for_interruption();

/// Throws interruption(doing) when interrupted().
void stop_if_interrupted(const char* doing);

} // namespace sc
