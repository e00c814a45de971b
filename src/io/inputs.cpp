#include "io/inputs.h"

#include "core/capture.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <memory>

namespace sc {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_chunk_bytes = 64 * 1024;

Error too_large(std::string_view label) {
    return Error(ExitStatus::data_error,
                 fmt::format("{}: larger than the limit of {} MiB for one input", label,
                             k_max_item_bytes / (1024 * 1024)));
}

// Reads lines of bounded length from a stream, and can keep the raw bytes it consumed.
class LineReader {
  public:
    explicit LineReader(std::istream& in)
        : m_in(in), m_chunk(std::make_unique_for_overwrite<char[]>(k_chunk_bytes)) {}

    /// The next line without its line end; false at the end of the stream. A line longer than
    /// the item limit is consumed whole but comes back empty with `too_long` set.
    bool next(std::string& line, bool& too_long) {
        line.clear();
        too_long = false;
        bool any = false;
        while (m_pos < m_size || fill()) {
            any = true;
            const std::string_view rest(m_chunk.get() + m_pos, m_size - m_pos);
            const auto newline = rest.find('\n');
            const auto length = newline == std::string_view::npos ? rest.size() : newline;
            if (!too_long) {
                line.append(rest.substr(0, length));
                if (line.size() > k_max_item_bytes) {
                    too_long = true;
                    line.clear();
                }
            }
            if (newline != std::string_view::npos) {
                consume(m_pos + newline + 1);
                break;
            }
            consume(m_size);
        }
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        return any;
    }

    /// Everything left in the stream, appended to the recorded bytes. False when that goes
    /// over the item limit.
    bool read_rest() {
        do {
            consume(m_size);
            if (m_recorded.size() > k_max_item_bytes) {
                return false;
            }
        } while (fill());
        return true;
    }

    /// Starts keeping every byte consumed from now on.
    void record() { m_recording = true; }
    /// Stops keeping bytes and lets go of those kept.
    void forget() {
        m_recording = false;
        std::string().swap(m_recorded);
    }
    /// The bytes kept since record() was called.
    std::string& recorded() { return m_recorded; }

  private:
    void consume(std::size_t up_to) {
        if (m_recording && m_recorded.size() <= k_max_item_bytes) {
            m_recorded.append(m_chunk.get() + m_pos, up_to - m_pos);
        }
        m_pos = up_to;
    }

    bool fill() {
        m_in.read(m_chunk.get(), static_cast<std::streamsize>(k_chunk_bytes));
        m_size = static_cast<std::size_t>(m_in.gcount());
        m_pos = 0;
        return m_size > 0;
    }

    std::istream& m_in;
    std::unique_ptr<char[]> m_chunk; // the bytes read and not yet consumed: [m_pos, m_size)
    std::size_t m_size = 0;
    std::size_t m_pos = 0;
    bool m_recording = false;
    std::string m_recorded;
};

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// A JSON Lines file starts with a whole object on one line.
bool is_one_line_object(std::string_view line) {
    const auto first = line.find_first_not_of(" \t\r");
    const auto last = line.find_last_not_of(" \t\r");
    const std::string_view bom = "\xEF\xBB\xBF";
    const auto start = line.substr(first).starts_with(bom) ? first + bom.size() : first;
    return first != std::string_view::npos && line[start] == '{' && line[last] == '}';
}

class FileSplitter {
  public:
    FileSplitter(std::string label, const ItemHandler& on_item, const ProblemHandler& on_problem)
        : m_label(std::move(label)), m_on_item(on_item), m_on_problem(on_problem) {}

    void split(std::istream& in) {
        LineReader reader(in);
        reader.record();
        std::string line;
        bool too_long = false;
        std::size_t number = 0;
        while (reader.next(line, too_long)) {
            ++number;
            if (number == 1 && looks_like_capture(line + "\n")) {
                return whole(reader, true);
            }
            if (too_long || !is_blank(line)) {
                break;
            }
        }
        if (number == 0 || (is_blank(line) && !too_long)) {
            return m_on_problem(
                m_label, Error(ExitStatus::data_error, fmt::format("{}: empty input", m_label)));
        }
        if (too_long || !is_one_line_object(line)) {
            return whole(reader, false);
        }
        std::string first_line = line;
        const std::size_t first_number = number;
        while (reader.next(line, too_long)) {
            ++number;
            if (too_long || !is_blank(line)) {
                return lines(reader, std::move(first_line), first_number, line, number, too_long);
            }
        }
        if (reader.recorded().size() > k_max_item_bytes) {
            return m_on_problem(m_label, too_large(m_label));
        }
        emit(m_label, std::move(reader.recorded()));
    }

  private:
    void whole(LineReader& reader, bool capture) {
        if (!reader.read_rest()) {
            return m_on_problem(m_label, too_large(m_label));
        }
        if (!capture) {
            return emit(m_label, std::move(reader.recorded()));
        }
        std::optional<HttpCapture> parsed;
        try {
            parsed = parse_capture(reader.recorded(), m_label);
        } catch (const Error& error) {
            return m_on_problem(m_label, error);
        }
        InputItem item{m_label, std::move(parsed->body), std::nullopt, true};
        if (auto signature = parsed->header("Stripe-Signature")) {
            item.signature = std::string(*signature);
        }
        m_on_item(item);
    }

    void lines(LineReader& reader, std::string first_line, std::size_t first_number,
               std::string& line, std::size_t number, bool too_long) {
        reader.forget();
        emit(line_label(first_number), std::move(first_line));
        do {
            if (too_long) {
                const std::string label = line_label(number);
                m_on_problem(label, too_large(label));
            } else if (!is_blank(line)) {
                emit(line_label(number), std::move(line));
            }
            ++number;
        } while (reader.next(line, too_long));
    }

    std::string line_label(std::size_t number) const {
        return fmt::format("{}:{}", m_label, number);
    }

    void emit(std::string label, std::string body) {
        InputItem item{std::move(label), std::move(body), std::nullopt, false};
        m_on_item(item);
    }

    std::string m_label;
    const ItemHandler& m_on_item;
    const ProblemHandler& m_on_problem;
};

// A missing "path" that is a secret given where a path was expected (two secrets after one
// --webhook-secret) is named only in its redacted form.
Error unreadable(const std::string& path, const std::error_code& error) {
    const bool secret = path.starts_with("whsec_") || path.starts_with("sk_") ||
                        path.starts_with("rk_") || path.starts_with("pk_");
    if (secret && error == std::errc::no_such_file_or_directory) {
        return Error(ExitStatus::usage,
                     fmt::format("{}: looks like a secret given as an input path", redact(path)),
                     "repeat the option for each secret: --webhook-secret A --webhook-secret B");
    }
    return Error(ExitStatus::no_input, fmt::format("{}: {}", printable(path), error.message()));
}

void read_file(const fs::path& path, const ItemHandler& on_item, const ProblemHandler& on_problem) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        const std::error_code error(errno, std::generic_category());
        return on_problem(path.string(), unreadable(path.string(), error));
    }
    FileSplitter(path.string(), on_item, on_problem).split(file);
    if (file.bad()) {
        on_problem(path.string(),
                   Error(ExitStatus::no_input, fmt::format("{}: read error", path.string())));
    }
}

// The names of a directory's visible regular files, sorted, packed in one string (a few bytes
// a name, so that a directory of many captures takes little memory).
class FileNames {
  public:
    void add(std::string_view name) {
        m_starts.push_back(m_names.size());
        m_names.append(name);
        m_names.push_back('\0'); // no file name holds one
    }

    void sort() {
        std::sort(m_starts.begin(), m_starts.end(),
                  [this](std::size_t a, std::size_t b) { return name(a) < name(b); });
    }

    template <typename Visit> void for_each(const Visit& visit) const {
        for (const std::size_t start : m_starts) {
            visit(name(start));
        }
    }

  private:
    std::string_view name(std::size_t start) const {
        const std::string_view names(m_names);
        return names.substr(start, names.find('\0', start) - start);
    }

    std::string m_names; // every name followed by a NUL
    std::vector<std::size_t> m_starts;
};

void read_directory(const fs::path& directory, const ItemHandler& on_item,
                    const ProblemHandler& on_problem) {
    FileNames files;
    std::error_code error;
    for (fs::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        const auto name = it->path().filename().string();
        std::error_code ignored;
        if (!name.starts_with('.') && it->is_regular_file(ignored)) {
            files.add(name);
        }
    }
    if (error) {
        return on_problem(directory.string(), unreadable(directory.string(), error));
    }
    files.sort();
    files.for_each([&](std::string_view name) { read_file(directory / name, on_item, on_problem); });
}

} // namespace

std::string read_raw_input(const std::string& path, std::istream& stdin_stream) {
    std::ifstream file;
    std::istream* in = &stdin_stream;
    const std::string label = path == "-" ? "<stdin>" : path;
    if (path != "-") {
        std::error_code error;
        if (fs::is_directory(path, error)) {
            throw Error(ExitStatus::no_input, fmt::format("{}: is a directory, not a file", path));
        }
        file.open(path, std::ios::binary);
        if (!file) {
            throw unreadable(path, std::error_code(errno, std::generic_category()));
        }
        in = &file;
    }
    LineReader reader(*in);
    reader.record();
    if (!reader.read_rest()) {
        throw too_large(label);
    }
    if (in->bad()) {
        throw Error(ExitStatus::no_input, fmt::format("{}: read error", label));
    }
    return std::move(reader.recorded());
}

void read_inputs(const std::vector<std::string>& paths, std::istream& stdin_stream,
                 const ItemHandler& on_item, const ProblemHandler& on_problem) {
    for (const auto& path : paths) {
        if (path == "-") {
            FileSplitter("<stdin>", on_item, on_problem).split(stdin_stream);
            continue;
        }
        std::error_code error;
        const auto status = fs::status(path, error);
        if (error || !fs::exists(status)) {
            const auto why =
                error ? error : std::make_error_code(std::errc::no_such_file_or_directory);
            on_problem(path, unreadable(path, why));
        } else if (fs::is_directory(status)) {
            read_directory(path, on_item, on_problem);
        } else {
            read_file(path, on_item, on_problem);
        }
    }
}

} // namespace sc
