#include "cli/app.h"
#include "io/http_client.h"

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    std::cerr.tie(nullptr);        // threads write results and diagnostics under separate locks
    std::signal(SIGPIPE, SIG_IGN); // libcurl runs with CURLOPT_NOSIGNAL
    sc::init_http();
    const sc::SystemEnvironment environment;
    return sc::cli::run_app(argc, argv, environment, std::cin, std::cout, std::cerr);
}
