#include "cli/app.h"

#include <iostream>

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    const sc::SystemEnvironment environment;
    return sc::cli::run_app(argc, argv, environment, std::cin, std::cout, std::cerr);
}
