// The floor of the startup benchmark (scripts/bench startup): a program that does nothing but
// is linked with the same shared libraries as stripe-comptentra, so that its run time is what
// loading them costs.
//
//   bench-link-floor
//
// Exit status 0.
#include <curl/curl.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <toml++/toml.h>

#include <iostream>

int main(int argc, char** /*argv*/) {
    if (argc > 1000) { // never: refers to each library so that the linker keeps it
        std::cout << curl_version() << OpenSSL_version(OPENSSL_VERSION)
                  << date::get_tzdb().version << fmt::format("{}", argc)
                  << toml::parse("a = 1").size() << '\n';
    }
    return 0;
}
