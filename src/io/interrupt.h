#pragma once

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

/// Throws Error (130) when interrupted(): `doing` says what stops, e.g. "before posting ch_1".
void stop_if_interrupted(const char* doing);

} // namespace sc
