// The parts of config_file.h that concern the file itself rather than its contents: the
// template that `config init` writes, and the check of who may read a file holding secrets.
#include "io/config_file.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sc {
namespace {

constexpr std::string_view k_template = R"(# stripe-comptentra configuration (TOML).
# Precedence: a command-line flag, then the environment, then this file, then the default.
# Every key is commented out: remove the '#' of those you set. This file may hold secrets:
# keep it readable by you alone (chmod 600).

[stripe]
# Webhook signing secret(s), from the Stripe dashboard; a list while secrets are rolled.
# Environment: STRIPE_WEBHOOK_SECRET (several separated by commas). Flag: --webhook-secret.
# webhook_secret = ["whsec_..."]
# Secret or restricted key with read access to charges, refunds and balance transactions.
# Environment: STRIPE_API_KEY. Flag: --stripe-key.
# api_key = "rk_live_..."
# api_base = "https://api.stripe.com"

[comptentra]
# Environment: COMPTENTRA_API_KEY. Flag: --comptentra-key.
# api_key = "..."
# url = "https://app.comptentra.servolution.fr/api/v1"

[ledger]
# journal = "VTE"
# customer_account = "411000"
# sales_account = "707000"
# vat_account = "445712"
# VAT rate in percent, for charges without metadata.tva_rate. Flag: --vat-rate.
# vat_rate = "20"
# The books' time zone: the day of each entry. Flag: --timezone.
# timezone = "Europe/Paris"
# Also book Stripe's fee of each sale (D fees_account / C stripe_account in fees_journal).
# Flag: --with-fees.
# book_fees = false
# fees_journal = "BQ"
# fees_account = "627800"
# stripe_account = "512700"
)";

bool holds_secret(const ConfigFile& config) {
    for (const std::string_view key : {"stripe.webhook_secret", "stripe.api_key",
                                       "comptentra.api_key"}) {
        if (!config.get_all(key).empty()) {
            return true;
        }
    }
    return false;
}

} // namespace

std::optional<std::string> exposed_secrets_warning(const ConfigFile& config) {
    struct stat status {};
    if (!holds_secret(config) || ::stat(config.path.c_str(), &status) != 0 ||
        (status.st_mode & (S_IRWXG | S_IRWXO)) == 0) {
        return std::nullopt;
    }
    return fmt::format("config file {} holds secrets and other users may read it (mode {:04o}); "
                       "run: chmod 600 {}",
                       config.path.string(), status.st_mode & 07777, config.path.string());
}

std::string config_template() { return std::string(k_template); }

void create_config_file(const std::filesystem::path& path) {
    std::error_code error;
    if (path.has_parent_path() && !std::filesystem::exists(path.parent_path(), error)) {
        std::filesystem::create_directories(path.parent_path(), error);
        if (error) {
            throw Error(ExitStatus::config, fmt::format("cannot create {}: {}",
                                                        path.parent_path().string(),
                                                        error.message()));
        }
        std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all,
                                     error);
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int code = errno;
        throw Error(ExitStatus::config,
                    fmt::format("cannot create {}: {}", path.string(), std::strerror(code)),
                    code == EEXIST ? "it is never overwritten: edit it, or remove it first"
                                   : "choose another PATH");
    }
    const std::string text = config_template();
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t count = ::write(fd, text.data() + written, text.size() - written);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            const int code = errno;
            ::close(fd);
            throw Error(ExitStatus::config,
                        fmt::format("cannot write {}: {}", path.string(), std::strerror(code)));
        }
        written += static_cast<std::size_t>(count);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        throw Error(ExitStatus::config, fmt::format("cannot write {}", path.string()));
    }
}

} // namespace sc
