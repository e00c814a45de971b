// A main for the fuzz targets without libFuzzer (g++ builds): runs LLVMFuzzerTestOneInput once
// on every file of the directories (or on the files) given, so that the corpus and the saved
// crashes are replayed by ctest. A crash, a failed invariant (abort) or an exception other
// than sc::Error ends the process abnormally, after naming the input.
//
//   replay_<target> PATH... [--if-exists PATH]...
//
// A PATH is a directory (its regular files, in name order, hidden ones skipped) or a file; a
// missing PATH is an error unless it follows --if-exists.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Set by the sanitizers' runtime when the build has one (SC_SANITIZE): called before it exits.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

// The input being run, for the handlers below (a C string: they may run in a signal handler).
const char* g_current_input = nullptr;

void write_stderr(const char* text) {
    // write(2) is async-signal-safe; a short write only shortens the diagnostic.
    static_cast<void>(!::write(STDERR_FILENO, text, std::strlen(text)));
}

void name_current_input() {
    if (g_current_input != nullptr) {
        write_stderr("replay: failed on input ");
        write_stderr(g_current_input);
        write_stderr("\n");
    }
}

extern "C" void on_fatal_signal(int signal_number) {
    name_current_input();
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

extern "C" void on_sanitizer_death() {
    name_current_input();
}

void on_terminate() {
    if (const std::exception_ptr current = std::current_exception()) {
        try {
            std::rethrow_exception(current);
        } catch (const std::exception& error) {
            std::cerr << "replay: uncaught exception: " << error.what() << '\n';
        } catch (...) {
            std::cerr << "replay: uncaught exception of an unknown type\n";
        }
    }
    name_current_input();
    std::signal(SIGABRT, SIG_DFL);
    std::abort();
}

void install_handlers() {
    std::set_terminate(on_terminate);
    std::signal(SIGABRT, on_fatal_signal);
    if (__sanitizer_set_death_callback != nullptr) {
        __sanitizer_set_death_callback(on_sanitizer_death);
    } else {
        // Without a sanitizer nothing else reports these; with one, its own handler does.
        for (const int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
            std::signal(signal_number, on_fatal_signal);
        }
    }
}

bool read_file(const fs::path& path, std::vector<char>& bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

// The files a path stands for, or false when it cannot be listed.
bool collect(const fs::path& path, std::vector<fs::path>& files) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
        std::vector<fs::path> found;
        for (fs::directory_iterator it(path, error), end; !error && it != end;
             it.increment(error)) {
            const std::string name = it->path().filename().string();
            if (!name.starts_with(".") && it->is_regular_file(error)) {
                found.push_back(it->path());
            }
        }
        if (error) {
            return false;
        }
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
        return true;
    }
    if (fs::is_regular_file(path, error)) {
        files.push_back(path);
        return true;
    }
    return false;
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view program = argc > 0 ? argv[0] : "replay";
    std::vector<fs::path> files;
    int paths = 0;
    bool optional = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--if-exists") {
            optional = true;
            continue;
        }
        const fs::path path(argument);
        std::error_code error;
        if (optional && !fs::exists(path, error)) {
            std::cout << program << ": " << argument << " does not exist: skipped" << std::endl;
        } else if (!collect(path, files)) {
            std::cerr << program << ": cannot read " << argument << '\n';
            return 1;
        } else {
            ++paths;
        }
        optional = false;
    }
    if (paths == 0) {
        std::cerr << "usage: " << program << " PATH... [--if-exists PATH]...\n";
        return 2;
    }

    install_handlers();
    std::vector<char> bytes;
    std::size_t total_bytes = 0;
    for (const fs::path& file : files) {
        if (!read_file(file, bytes)) {
            std::cerr << program << ": cannot read " << file.string() << '\n';
            return 1;
        }
        const std::string name = file.string();
        g_current_input = name.c_str();
        // A copy of exactly `size` bytes, as libFuzzer passes it, so that ASan sees overreads.
        std::vector<uint8_t> input(bytes.begin(), bytes.end());
        LLVMFuzzerTestOneInput(input.data(), input.size());
        g_current_input = nullptr;
        total_bytes += input.size();
    }
    std::cout << program << ": ran " << files.size() << " inputs (" << total_bytes
              << " bytes) from " << paths << " path(s)\n";
    return 0;
}
