#include "cli/archive_booker.h"
#include "cli/commands.h"
#include "cli/signature_options.h"
#include "core/capture.h"
#include "core/delivery.h"
#include "io/capture_archive.h"
#include "io/environment.h"
#include "io/http_server.h"
#include "io/interrupt.h"

#include <fmt/format.h>

#include <atomic>
#include <ostream>

namespace sc::cli {
namespace {

struct ListenOptions {
    std::string archive;
    std::string bind = "127.0.0.1";
    int port = 8080;
    std::string path = "/stripe-webhook";
    std::string tolerance = "300";
    int concurrency = 4;
};

// How long a stop waits for the requests in progress to be answered.
constexpr std::chrono::seconds k_stop_grace{10};

ServerResponse plain(unsigned status, std::string text, HttpHeaders headers = {}) {
    return ServerResponse{status, std::move(text) + "\n", "text/plain; charset=utf-8",
                          std::move(headers)};
}

// Answers Stripe's calls: a valid delivery is stored durably, then answered 200; its
// booking is left to the booker.
class Receiver {
  public:
    Receiver(const ListenOptions& options, VerifyPolicy policy, CaptureArchive& archive,
             ArchiveBooker& booker, Diagnostics& diagnostics)
        : m_path(options.path), m_policy(std::move(policy)), m_archive(archive), m_booker(booker),
          m_diagnostics(diagnostics) {}

    ServerResponse operator()(const ServerRequest& request) {
        if (request.path == "/healthz") {
            return health(request);
        }
        if (request.path != m_path) {
            return plain(404, fmt::format("no such path; webhooks go to {}", m_path));
        }
        if (request.method != "POST") {
            return plain(405, "webhooks are POSTed", {{"Allow", "POST"}});
        }
        VerifyPolicy policy = m_policy;
        policy.now = unix_now();
        const DeliveryVerdict verdict =
            check_delivery(request.body, find_header(request.headers, "Stripe-Signature"), policy);
        if (!verdict.accepted) {
            m_diagnostics.warn(
                fmt::format("refused a delivery from {}: {}", request.peer, verdict.log_reason));
            return plain(400, verdict.reason);
        }
        const HttpCapture capture{request.method, request.path, request.headers, request.body};
        try {
            if (m_archive.store(verdict.object_id, format_capture(capture)) ==
                CaptureArchive::Stored::duplicate) {
                m_booker.arrived(verdict.object_id); // in case its first copy was not handed on
                return plain(200, fmt::format("{} was received before", verdict.object_id));
            }
        } catch (const Error& error) { // not acknowledged: Stripe sends it again later
            m_diagnostics.warn(
                fmt::format("could not store {}: {}", verdict.object_id, error.what()));
            return plain(503, "the delivery could not be stored; send it again later");
        }
        m_booker.arrived(verdict.object_id);
        return plain(200, fmt::format("{} stored", verdict.object_id));
    }

  private:
    ServerResponse health(const ServerRequest& request) const {
        if (request.method != "GET" && request.method != "HEAD") {
            return plain(405, "use GET", {{"Allow", "GET, HEAD"}});
        }
        return ServerResponse{200,
                              fmt::format("{{\"status\":\"ok\",\"inbox\":{},\"failed\":{}}}\n",
                                          m_archive.inbox_size(), m_archive.failed_size()),
                              "application/json",
                              {}};
    }

    std::string m_path;
    VerifyPolicy m_policy;
    CaptureArchive& m_archive;
    ArchiveBooker& m_booker;
    Diagnostics& m_diagnostics;
};

std::string url_of(const std::string& address, std::uint16_t port) {
    const bool ipv6 = address.find(':') != std::string::npos;
    return ipv6 ? fmt::format("http://[{}]:{}", address, port)
                : fmt::format("http://{}:{}", address, port);
}

int run_listen(const ListenOptions& options, const Context& context) {
    const InterruptGuard interrupt_guard;
    const Settings settings = context.settings();
    if (!options.path.starts_with('/')) {
        throw Error(ExitStatus::usage,
                    fmt::format("--path: '{}' does not start with '/'", options.path));
    }
    VerifyPolicy policy = make_verify_policy(SignatureOptions{{}, options.tolerance, {}}, settings);
    if (!settings.comptentra_key) {
        throw Error(ExitStatus::config, "no Comptentra API key is configured",
                    "set COMPTENTRA_API_KEY or pass --comptentra-key");
    }
    Diagnostics diagnostics(context.err, context.verbose);
    CaptureArchive archive(options.archive, unix_now());
    const std::size_t left_over = archive.inbox_size();
    Reporter reporter(context.out, context.err, context.json,
                      ReportStyle{ExitRule::service, "entries", false, true});
    ArchiveBooker booker(archive, settings, context, diagnostics, reporter, options.concurrency);
    Receiver receiver(options, std::move(policy), archive, booker, diagnostics);
    ServerConfig config;
    config.bind_address = options.bind;
    config.port = static_cast<std::uint16_t>(options.port);
    HttpServer server(config, std::ref(receiver), diagnostics);
    // The first line on stdout, before any worker prints a result; stderr is shared with the
    // server's threads from here on, so it is written through `diagnostics`.
    const std::string url = url_of(options.bind, server.port());
    context.out << (context.json ? fmt::format("{{\"listening\":\"{}\"}}\n", url)
                                 : fmt::format("listening on {}\n", url));
    context.out.flush();
    if (left_over > 0) {
        diagnostics.write_raw(fmt::format(
            "stripe-comptentra: booking the {} capture(s) an earlier run left in the inbox\n",
            left_over));
    }
    booker.start();
    wait_for_interruption();
    server.stop(k_stop_grace);
    booker.stop();
    reporter.finish();
    diagnostics.write_raw(fmt::format(
        "stripe-comptentra: stopped; {} capture(s) wait in the inbox for the next start\n",
        archive.inbox_size()));
    return to_int(ExitStatus::ok);
}

} // namespace

CommandRunner add_listen_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<ListenOptions>();
    CLI::App* command = app.add_subcommand(
        "listen",
        "receive Stripe's webhooks live, archive each capture, book it behind the answer");
    command
        ->add_option("--archive", options->archive,
                     "folder of the captures: the inbox, then done/ and failed/")
        ->type_name("DIR")
        ->required();
    command->add_option("--bind", options->bind, "numeric address to listen on")
        ->type_name("ADDRESS")
        ->capture_default_str();
    command->add_option("--port", options->port, "port to listen on; 0 picks a free one")
        ->type_name("PORT")
        ->check(CLI::Range(0, 65535).description(""))
        ->capture_default_str();
    command->add_option("--path", options->path, "path Stripe posts the webhooks to")
        ->type_name("PATH")
        ->capture_default_str();
    add_webhook_secret_option(*command, context.flags,
                              "webhook signing secret (whsec_...); repeat it while a secret is "
                              "rolled [env: STRIPE_WEBHOOK_SECRET]");
    command
        ->add_option("--tolerance", options->tolerance,
                     "maximum age of a delivery's signature in seconds; 0 turns the check off")
        ->type_name("SECONDS")
        ->capture_default_str();
    command
        ->add_option("--concurrency", options->concurrency,
                     "captures booked at the same time, each over its own kept-alive connection")
        ->type_name("N")
        ->check(CLI::Range(1, 32).description(""))
        ->capture_default_str();
    add_comptentra_options(*command, context.flags);
    add_stripe_options(*command, context.flags);
    add_ledger_options(*command, context.flags);
    command->footer("Examples:\n"
                    "  stripe-comptentra listen --archive /var/lib/stripe-comptentra\n"
                    "  stripe-comptentra listen --archive inbox/ --port 0\n"
                    "  stripe-comptentra --json listen --archive inbox/ --bind ::1 --port 9000");
    return [options, &context] { return run_listen(*options, context); };
}

} // namespace sc::cli
