#include "io/interrupt.h"

#include "core/error.h"

#include <fmt/format.h>

#include <atomic>
#include <csignal>

namespace sc {
namespace {

std::atomic<bool> g_interrupted = false;
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_interrupt(int signal_number) {
    if (g_interrupted.exchange(true)) {
        std::signal(signal_number, SIG_DFL); // the second one ends the process
        std::raise(signal_number);
    }
}

} // namespace

InterruptGuard::InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &g_previous_int);
    sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptGuard::~InterruptGuard() {
    sigaction(SIGINT, &g_previous_int, nullptr);
    sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool interrupted() {
    return g_interrupted.load();
}

Error interruption(std::string_view doing) {
    return Error(ExitStatus::interrupted, fmt::format("interrupted {}", doing),
                 "nothing is stored twice: run the same command again to finish");
}

void stop_if_interrupted(const char* doing) {
    if (interrupted()) {
        throw interruption(doing);
    }
}

} // namespace sc
