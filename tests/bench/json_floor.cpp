// The floor of the entry benchmark (scripts/bench entry): reads a file line by line, parses
// every non-blank line with nlohmann::json, the library the tool uses, and prints how many
// of them are objects. Nothing else: no rules, no output per line.
//
//   bench-json-floor FILE
//
// Exit status 0; 1 when the file cannot be read or a line is not JSON; 2 on a usage error.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: bench-json-floor FILE\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "bench-json-floor: cannot open " << argv[1] << "\n";
        return 1;
    }
    std::size_t number = 0;
    std::size_t count = 0;
    std::string line;
    try {
        while (std::getline(in, line)) {
            ++number;
            if (is_blank(line)) {
                continue;
            }
            if (nlohmann::json::parse(line).is_object()) {
                ++count;
            }
        }
    } catch (const std::exception& error) {
        std::cerr << "bench-json-floor: line " << number << ": " << error.what() << "\n";
        return 1;
    }
    std::cout << count << "\n";
    return 0;
}
