"""Jobs that need no sandbox: verify, entry and startup, each against a local floor."""

import json
import os
import re
import statistics
import subprocess
import time

from .deliveries import SECRET, SEED, read_all, write_inputs
from .processes import (BINARY, BUILD_DIR, FLAT_RULE, MEMORY_GOAL_MIB, BenchError, measured_run, memory_is_flat, mib,
                        progress)

FLOOR_BINARY = BUILD_DIR / "bench-json-floor"
LINK_FLOOR_BINARY = BUILD_DIR / "bench-link-floor"
VERIFY_ITEMS = 100_000
MEMORY_ITEMS = (10_000, 100_000)
ENTRY_ITEMS = 100_000
STARTUP_RUNS = 50
REPEATS = 3  # speed runs keep the best of REPEATS (the machine may be busy)
VERIFY_GOAL, ENTRY_GOAL = 1.5, 2.0


# ----------------------------------------------------------------------------- runs


def local_env(work):
    """The caller's environment with the bench's webhook secret, and no config file or key of the
    caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "COMPTENTRA_"))}
    config_home = work / "config-empty"
    config_home.mkdir(exist_ok=True)
    env.update(STRIPE_WEBHOOK_SECRET=SECRET, XDG_CONFIG_HOME=str(config_home))
    return env


def tail_of(output):
    """The last lines of a run's output, on one line, for an error message."""
    return " | ".join(output.read_text(errors="replace").strip().splitlines()[-3:])


def checked_run(command, env, work, check, timeout=600):
    """One measured run of command, checked by check(status, output path); returns (seconds,
    peak RSS KiB)."""
    status, seconds, rss_kib, output = measured_run(command, env, work, timeout)
    try:
        check(status, output)
    finally:
        output.unlink()
    return seconds, rss_kib


def against_floor(command, check, floor, floor_check, env, work):
    """Runs the floor then the command, REPEATS times in turn so that both see the same load;
    returns (the command's best seconds, the floor's best seconds, the command's largest peak
    RSS KiB)."""
    best, best_floor, peak = float("inf"), float("inf"), 0
    for _ in range(REPEATS):
        best_floor = min(best_floor, checked_run(floor, env, work, floor_check)[0])
        seconds, rss_kib = checked_run(command, env, work, check)
        best, peak = min(best, seconds), max(peak, rss_kib)
    return best, best_floor, peak


def expect_summary(what, valid, invalid, exit_status):
    """A check of the last line of `--json verify`: the counts of valid and invalid items, and the
    exit status."""
    def check(status, output):
        lines = output.read_text(errors="replace").strip().splitlines()
        try:
            last = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise BenchError(f"{what}: no JSON summary (exit status {status}): {tail_of(output)}") from None
        counts = last.get("summary", {})
        wanted = {"valid": valid, "invalid": invalid} if invalid else {"valid": valid}
        if status != exit_status or counts != wanted or last.get("exit_status") != exit_status:
            raise BenchError(f"{what}: exit status {status} and summary {json.dumps(last)}, "
                             f"expected {exit_status} and {json.dumps(wanted)}")
    return check


def expect_ok(what, pattern=None):
    """A check that a run exits with 0 and, when pattern is given, that its output matches it."""
    def check(status, output):
        if status != 0:
            raise BenchError(f"{what}: exit status {status}: {tail_of(output)}")
        if pattern is not None and not re.fullmatch(pattern, output.read_text(errors="replace").strip()):
            raise BenchError(f"{what}: unexpected output: {tail_of(output)}")
    return check


def shell_floor(script, *args):
    """A bash command line that runs script with args as $1, $2...; it fails when any stage of a
    pipe fails."""
    return ["bash", "-c", "set -o pipefail; " + script, "floor", *map(str, args)]


def scaled(count, scale):
    """count divided by --scale, at least 1."""
    return max(1, count // scale)


def verdict(met):
    """The word a note gives to a goal."""
    return "met" if met else "NOT met"


def ratio(time_s, floor_s, clock=0.01):
    """time / floor to two decimals, as the table shows it and the goals are judged; a floor
    shorter than the clock's resolution counts as one tick of it."""
    return round(time_s / max(floor_s, clock), 2)


# ----------------------------------------------------------------------------- jobs


def verify_speed(work, env, count, directory, jsonl, header):
    """Times verify of the directory and of the JSON Lines file, and their floors; returns
    [(label, seconds, floor seconds, peak RSS KiB)]."""
    hmac_cmd = f"openssl dgst -sha256 -hmac {SECRET}"
    runs = []
    for label, command, check, floor in [
        ("directory", [str(BINARY), "--json", "verify", "--tolerance", "0", str(directory)],
         expect_summary("verify of the directory", count, 0, 0),
         shell_floor(f'find "$1" -type f -print0 | sort -z | xargs -0 cat | {hmac_cmd}', directory)),
        ("JSON Lines", [str(BINARY), "--json", "verify", "--tolerance", "0", "--signature", header, str(jsonl)],
         expect_summary("verify of JSON Lines", 1, count - 1, 1 if count > 1 else 0),
         shell_floor(f'{hmac_cmd} "$1"', jsonl)),
    ]:
        progress(f"verify: {count:,} deliveries, {label}: floor and tool in turn (best of {REPEATS})")
        floor_check = expect_ok(f"verify floor ({label})", r".*= [0-9a-f]{64}")
        seconds, floor_s, rss_kib = against_floor(command, check, floor, floor_check, env, work)
        progress(f"verify: {label}: {seconds:.2f} s (floor {floor_s:.2f} s), {mib(rss_kib)} MB")
        runs.append((label, seconds, floor_s, rss_kib))
    return runs


def job_verify(work, scale):
    """verify of generated captures (a directory) and of the same events as JSON Lines, against
    reading the bytes and one HMAC-SHA256 over them; then peak memory at two sizes."""
    count = scaled(VERIFY_ITEMS, scale)
    directory, jsonl = work / "verify-captures", work / "verify-events.jsonl"
    progress(f"verify: generating {count:,} signed deliveries")
    started = time.monotonic()
    body_bytes, header = write_inputs(count, directory, jsonl)
    progress(f"verify: generated in {time.monotonic() - started:.1f} s; reading them once (warm cache)")
    capture_bytes, jsonl_bytes = read_all(directory), read_all(jsonl)
    env = local_env(work)
    runs = verify_speed(work, env, count, directory, jsonl, header)
    rows = [[f"verify, {label}", f"{count:,}", "1", f"{s:.2f}", f"{f:.2f}", f"{ratio(s, f):.2f}", "—", mib(k)]
            for label, s, f, k in runs]

    memory = []
    for size in sorted({scaled(n, scale) for n in MEMORY_ITEMS}):
        if size == count:
            seconds, rss_kib = runs[0][1], runs[0][3]
        else:
            small = work / f"verify-captures-{size}"
            write_inputs(size, small)
            read_all(small)
            progress(f"verify: {size:,} deliveries, directory (peak memory)")
            command = [str(BINARY), "--json", "verify", "--tolerance", "0", str(small)]
            check = expect_summary(f"verify of {size:,} captures", size, 0, 0)
            seconds, rss_kib = checked_run(command, env, work, check)
        rows.append(["verify, directory", f"{size:,}", "1", f"{seconds:.2f}", "—", "—", "—", mib(rss_kib)])
        memory.append((size, rss_kib))

    worst = max(ratio(s, f) for _, s, f, _ in runs)
    sources = ("the directory", "JSON Lines")
    rates = ", ".join(f"{count / s:,.0f} payloads/s from {source}"
                      for source, (_, s, _, _) in zip(sources, runs))
    (low, low_kib), (high, high_kib) = memory[0], memory[-1]
    growth = (high_kib - low_kib) * 1024 / max(1, high - low)
    notes = [
        f"verify: {count:,} distinct `charge.succeeded` deliveries generated with seed {SEED}, pretty-printed "
        f"with 2-space indents as Stripe sends them ({body_bytes / count:,.0f} bytes a body on average), each "
        f"signed `t=…,v1=` HMAC-SHA256 of `t.body` keyed with the whole `whsec_` secret; written as HTTP "
        f"captures in one directory ({capture_bytes / 2**20:.1f} MiB) and compacted one per line in a JSON "
        f"Lines file ({jsonl_bytes / 2**20:.1f} MiB). The tool runs as `--json verify --tolerance 0` with the "
        f"secret in STRIPE_WEBHOOK_SECRET.",
        "verify floor = reading the same bytes and one HMAC-SHA256 over all of them: `find DIR -type f -print0 "
        "| sort -z | xargs -0 cat | openssl dgst -sha256 -hmac SECRET` for the directory, `openssl dgst -sha256 "
        "-hmac SECRET FILE` for JSON Lines. The page cache cannot be dropped without root: every input is read "
        f"once before the measures, so the tool and its floor both read from a warm cache. Each time is the "
        f"best of {REPEATS} runs, the floor's and the tool's in turn.",
        f"verify of JSON Lines passes the header of the first line with `--signature`: a JSON Lines file carries "
        f"no header per line, so the first line is valid and the other {count - 1:,} invalid (no match; exit "
        f"status 1, as expected); the tool computes one HMAC-SHA256 over every line either way.",
        f"verify: {rates}. Goal: time within {VERIFY_GOAL:g} × floor: {verdict(worst <= VERIFY_GOAL)} "
        f"(worst ratio {worst:.2f}).",
        f"verify memory: peak RSS {mib(low_kib)} MB at {low:,} deliveries and {mib(high_kib)} MB at {high:,} "
        f"({growth:,.0f} bytes more a delivery). "
        f"Goal: flat ({FLAT_RULE}) and under {MEMORY_GOAL_MIB} MB: "
        f"{verdict(memory_is_flat(low_kib, high_kib))}.",
    ]
    return rows, notes


def count_entries(count):
    """A check of `entry`: exit status 0 and one JSON entry a line, count of them."""
    def check(status, output):
        with open(output, encoding="utf-8", errors="replace") as lines:
            entries = others = 0
            for line in lines:
                if line.startswith('{"date":'):
                    entries += 1
                else:
                    others += 1
        if status != 0 or entries != count or others:
            raise BenchError(f"entry: exit status {status}, {entries:,} entries and {others:,} other lines, "
                             f"expected 0 and {count:,} entries: {tail_of(output)}")
    return check


def job_entry(work, scale):
    """entry of generated events as JSON Lines, against parsing the same lines with the same JSON
    library."""
    count = scaled(ENTRY_ITEMS, scale)
    jsonl = work / "entry-events.jsonl"
    progress(f"entry: generating {count:,} events as JSON Lines")
    write_inputs(count, jsonl=jsonl)
    size = read_all(jsonl)
    env = local_env(work)
    progress(f"entry: {count:,} events: floor and tool in turn (best of {REPEATS})")
    floor, floor_check = [str(FLOOR_BINARY), str(jsonl)], expect_ok("bench-json-floor", str(count))
    seconds, floor_s, rss_kib = against_floor([str(BINARY), "entry", str(jsonl)], count_entries(count),
                                              floor, floor_check, env, work)
    progress(f"entry: {seconds:.2f} s (floor {floor_s:.2f} s), {mib(rss_kib)} MB")
    within = ratio(seconds, floor_s)
    rows = [["entry, JSON Lines", f"{count:,}", "1", f"{seconds:.2f}", f"{floor_s:.2f}", f"{within:.2f}", "—",
             mib(rss_kib)]]
    notes = [
        f"entry: {count:,} `charge.succeeded` events of the verify generator compacted one per line "
        f"({size / 2**20:.1f} MiB; succeeded, captured, in EUR, a positive amount and a VAT rate in the "
        f"metadata), so one sale entry each; `entry FILE` printed {count:,} entries, {count / seconds:,.0f} "
        f"entries/s.",
        f"entry floor = `bench-json-floor FILE` (tests/bench/json_floor.cpp): reads the file line by line and "
        f"parses every line with `nlohmann::json::parse`, the library the tool uses, and nothing else; best of "
        f"{REPEATS} runs each, the floor's and the tool's in turn, warm cache. Goal: time within "
        f"{ENTRY_GOAL:g} × floor: {verdict(within <= ENTRY_GOAL)} (ratio {within:.2f}).",
    ]
    return rows, notes


def median_times(commands, env, runs):
    """The median wall time in seconds of runs runs of each command, interleaved, after one
    warm-up run each; every run must exit with 0."""
    times = [[] for _ in commands]
    for round_number in range(runs + 1):
        for command, measured in zip(commands, times):
            started = time.perf_counter()
            status = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL).returncode
            elapsed = time.perf_counter() - started
            if status != 0:
                raise BenchError(f"{' '.join(command)} exited with {status}")
            if round_number > 0:
                measured.append(elapsed)
    return [statistics.median(measured) for measured in times]


def job_startup(work, scale):
    """Median time of `--version` and of `entry` of one event, against a program that does
    nothing but is linked with the same shared libraries."""
    runs = max(5, STARTUP_RUNS // scale)
    small = work / "startup-event.json"
    write_inputs(1, jsonl=small)
    env = local_env(work)
    version, entry = [str(BINARY), "--version"], [str(BINARY), "entry", str(small)]
    floor, json_floor = [str(LINK_FLOOR_BINARY)], [str(FLOOR_BINARY), str(small)]
    progress(f"startup: {runs} runs each of --version, entry of one event and the two floors")
    version_s, entry_s, floor_s, json_floor_s = median_times([version, entry, floor, json_floor], env, runs)
    _, version_kib = checked_run(version, env, work, expect_ok("--version"))
    _, entry_kib = checked_run(entry, env, work, expect_ok("entry of one event", r'\{"date":.*\}'))
    progress(f"startup: --version {version_s * 1000:.1f} ms, entry {entry_s * 1000:.1f} ms, "
             f"floor {floor_s * 1000:.1f} ms")

    def row(label, items, seconds, rss_kib):
        within = ratio(seconds, floor_s, clock=0)
        return [label, items, "1", f"{seconds:.4f}", f"{floor_s:.4f}", f"{within:.2f}", "—", mib(rss_kib)]

    rows = [row("startup, --version", "—", version_s, version_kib),
            row("startup, entry of one event", "1", entry_s, entry_kib)]
    notes = [
        f"startup: median wall time of {runs} runs each, the commands interleaved after one warm-up run, "
        f"timed around the process with output to /dev/null: `--version` {version_s * 1000:.1f} ms, `entry` of "
        f"one event (one compact `charge.succeeded` line, {small.stat().st_size:,} bytes) {entry_s * 1000:.1f} ms. "
        f"floor = `bench-link-floor`, {floor_s * 1000:.1f} ms: a program that does nothing, linked with the "
        f"tool's shared libraries (libcurl brings most of them); loading them is the floor of any run. "
        f"`bench-json-floor` on the same file, linked with the C++ library alone, takes "
        f"{json_floor_s * 1000:.1f} ms. Peak RSS from one more run of each.",
    ]
    return rows, notes
