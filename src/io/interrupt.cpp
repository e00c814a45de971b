#include "io/interrupt.h"

#include "core/error.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace sc {
namespace {

std::atomic<bool> g_interrupted = false;
int g_wake_pipe[2] = {-1, -1}; // written to by the handler, for wait_for_interruption()
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_interrupt(int signal_number) {
    if (g_interrupted.exchange(true)) {
        std::signal(signal_number, SIG_DFL); // the second one ends the process
        std::raise(signal_number);
    }
    const int saved_errno = errno;
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = write(g_wake_pipe[1], &byte, 1);
    errno = saved_errno;
}

} // namespace

InterruptGuard::InterruptGuard() {
    if (g_wake_pipe[0] < 0 && pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        g_wake_pipe[0] = g_wake_pipe[1] = -1;
    }
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

void wait_for_interruption() {
    while (!interrupted()) {
        pollfd wake{g_wake_pipe[0], POLLIN, 0};
        poll(&wake, 1, 1000); // a second at most, should the pipe be missing
    }
}

void stop_if_interrupted(const char* doing) {
    if (interrupted()) {
        throw interruption(doing);
    }
}

} // namespace sc
