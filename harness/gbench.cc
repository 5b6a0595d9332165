// The C API over Google Benchmark declared in gbench.h: the project's one C++ file. Every entry
// point catches every C++ exception, so none unwinds into C frames (undefined behaviour).
#include "gbench.h"
#include "tempfiles.h"

#include <benchmark/benchmark.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// Where the next run prints its display (ic_bench_set_display); read and reset by each run.
ic_bench_display g_display = IC_BENCH_DISPLAY_STDOUT;

benchmark::State &S(ic_bench_state *st) {
    return *reinterpret_cast<benchmark::State *>(st);
}
const benchmark::State &S(const ic_bench_state *st) {
    return *reinterpret_cast<const benchmark::State *>(st);
}

void set_err(char *err, size_t errlen, const char *what, const char *detail) {
    if (err != nullptr && errlen > 0) std::snprintf(err, errlen, "%s%s", what, detail);
}

benchmark::Counter::Flags to_flags(int f) {
    int out = benchmark::Counter::kDefaults;
    if (f & IC_COUNTER_RATE) out |= benchmark::Counter::kIsRate;
    if (f & IC_COUNTER_AVG_THREADS) out |= benchmark::Counter::kAvgThreads;
    if (f & IC_COUNTER_AVG_ITERATIONS) out |= benchmark::Counter::kAvgIterations;
    if (f & IC_COUNTER_INVERT) out |= benchmark::Counter::kInvert;
    return static_cast<benchmark::Counter::Flags>(out);
}

double ns_per_unit(benchmark::TimeUnit u) {
    switch (u) {
    case benchmark::kNanosecond:
        return 1.0;
    case benchmark::kMicrosecond:
        return 1e3;
    case benchmark::kMillisecond:
        return 1e6;
    case benchmark::kSecond:
        return 1e9;
    }
    return 1.0;
}

// Passes everything to the display reporter that --benchmark_format chose, then hands each run and
// aggregate to the C hook. The library's own reporters keep the output byte for byte.
class TeeReporter : public benchmark::BenchmarkReporter {
  public:
    TeeReporter(benchmark::BenchmarkReporter *inner, ic_bench_report_fn *hook, void *user)
        : inner_(inner), hook_(hook), user_(user) {}

    bool ReportContext(const Context &context) override { return inner_->ReportContext(context); }

    void ReportRuns(const std::vector<Run> &runs) override {
        inner_->ReportRuns(runs);
        for (const Run &r : runs) {
            reported_++;
            if (hook_ != nullptr) Hand(r);
        }
    }

    void Finalize() override { inner_->Finalize(); }

    int reported() const { return reported_; }

  private:
    void Hand(const Run &r) {
        std::string name = r.benchmark_name();
        std::vector<const char *> names;
        std::vector<double> values;
        for (const auto &kv : r.counters) {
            names.push_back(kv.first.c_str());
            values.push_back(kv.second.value);
        }
        ic_bench_report rep;
        std::memset(&rep, 0, sizeof rep);
        rep.name = name.c_str();
        bool agg = r.run_type == Run::RT_Aggregate;
        rep.aggregate = agg ? r.aggregate_name.c_str() : nullptr;
        rep.repetition_index = static_cast<int>(r.repetition_index);
        rep.repetitions = static_cast<int>(r.repetitions);
        rep.iterations = static_cast<int64_t>(r.iterations);
        // A percentage aggregate (cv) carries a ratio, not a time: pass it unscaled.
        if (agg && r.aggregate_unit == benchmark::kPercentage) {
            rep.real_time_ns = r.real_accumulated_time;
            rep.cpu_time_ns = r.cpu_accumulated_time;
        } else {
            rep.real_time_ns = r.GetAdjustedRealTime() * ns_per_unit(r.time_unit);
            rep.cpu_time_ns = r.GetAdjustedCPUTime() * ns_per_unit(r.time_unit);
        }
        rep.skipped = r.error_occurred ? 1 : 0;
        rep.skip_message = r.error_occurred ? r.error_message.c_str() : nullptr;
        rep.n_counters = static_cast<int>(names.size());
        rep.counter_names = names.data();
        rep.counter_values = values.data();
        hook_(&rep, user_);
    }

    benchmark::BenchmarkReporter *inner_;
    ic_bench_report_fn *hook_;
    void *user_;
    int reported_ = 0;
};

// The --benchmark_out reporter. The library would write the file through an ofstream it never
// checks (a full disk or a file-size limit left an empty or cut file behind an exit status of 0),
// so the library is given /dev/null and this reporter keeps what the library's own reporter of
// --benchmark_out_format writes; ic_bench_run writes it with ic_out, every error checked.
class FileTee : public benchmark::BenchmarkReporter {
  public:
    explicit FileTee(benchmark::BenchmarkReporter *inner) : inner_(inner) {}

    bool ReportContext(const Context &context) override {
        inner_->SetOutputStream(&text_);
        inner_->SetErrorStream(&text_);
        return inner_->ReportContext(context);
    }

    void ReportRuns(const std::vector<Run> &runs) override { inner_->ReportRuns(runs); }

    void Finalize() override {
        inner_->Finalize();
        finalized_ = true;
    }

    bool finalized() const { return finalized_; }
    std::string text() const { return text_.str(); }

  private:
    benchmark::BenchmarkReporter *inner_;
    std::ostringstream text_;
    bool finalized_ = false;
};

// A reporter of the given format ("json", "csv" or "console"), as the library's flags name them.
benchmark::BenchmarkReporter *make_reporter(const std::string &format, int console_opts) {
    if (format == "json") return new benchmark::JSONReporter;
    if (format == "csv") {
        // Deprecated upstream but still a --benchmark_format value the library accepts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        return new benchmark::CSVReporter;
#pragma GCC diagnostic pop
    }
    return new benchmark::ConsoleReporter(
        static_cast<benchmark::ConsoleReporter::OutputOptions>(console_opts));
}

bool starts_with(const char *s, const char *prefix) {
    return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

// The value of "--benchmark_<flag>=value" in arg, or nullptr when arg is another flag.
const char *flag_value(const char *arg, const char *flag) {
    std::string f = std::string("--benchmark_") + flag + "=";
    return starts_with(arg, f.c_str()) ? arg + f.size() : nullptr;
}

// Checks one number flag's value: a whole string that parses, within [lo, hi]; integer when asked.
bool number_in(const char *v, double lo, double hi, bool integer) {
    if (v == nullptr || *v == '\0') return false;
    char *end = nullptr;
    errno = 0;
    double x = integer ? static_cast<double>(std::strtoll(v, &end, 10)) : std::strtod(v, &end);
    return errno == 0 && end != v && *end == '\0' && std::isfinite(x) && x >= lo && x <= hi;
}

// The library's spelling of a true boolean flag.
bool is_true(const std::string &v) {
    return v == "true" || v == "1" || v == "yes" || v == "t" || v == "y" || v == "on" || v.empty();
}

} // namespace

extern "C" {

int ic_bench_register(const char *name, ic_bench_fn *fn, void *user, const ic_bench_config *cfg,
                      char *err, size_t errlen) {
    try {
        if (name == nullptr || name[0] == '\0') {
            set_err(err, errlen, "benchmark name is empty", "");
            return -1;
        }
        if (fn == nullptr) {
            set_err(err, errlen, "no function given for benchmark ", name);
            return -1;
        }
        ic_bench_config zero;
        std::memset(&zero, 0, sizeof zero);
        const ic_bench_config &c = cfg ? *cfg : zero;
        if (c.n_args < 0 || c.n_args > IC_BENCH_MAX_ARGS) {
            char msg[96];
            std::snprintf(msg, sizeof msg, "%d arguments (0 to %d allowed) for ", c.n_args,
                          IC_BENCH_MAX_ARGS);
            set_err(err, errlen, msg, name);
            return -1;
        }
        if (c.repetitions < 0 || c.threads < 0 || c.min_time_s < 0) {
            set_err(err, errlen, "negative repetitions, threads or min_time for ", name);
            return -1;
        }
        auto body = [fn, user](benchmark::State &st) {
            fn(reinterpret_cast<ic_bench_state *>(&st), user);
            // A body that returns early would trip the library's check and abort the process:
            // report it as an error run instead.
            if (!st.error_occurred() && st.iterations() < st.max_iterations)
                st.SkipWithError("benchmark body returned before its iteration loop finished");
        };
        benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, body);
        if (c.n_args > 0) {
            std::vector<int64_t> args(c.args, c.args + c.n_args);
            std::vector<std::string> names;
            bool named = false;
            for (int i = 0; i < c.n_args; i++) {
                names.push_back(c.arg_names[i] ? c.arg_names[i] : "");
                named = named || c.arg_names[i] != nullptr;
            }
            b->Args(args);
            if (named) b->ArgNames(names);
        }
        if (c.min_time_s > 0) b->MinTime(c.min_time_s);
        if (c.repetitions > 0) b->Repetitions(c.repetitions);
        if (c.threads > 0) b->Threads(c.threads);
        if (c.manual_time) b->UseManualTime();
        if (c.real_time && !c.manual_time) b->UseRealTime();
        if (c.aggregates_only) b->ReportAggregatesOnly(true);
        return 0;
    } catch (const std::exception &e) {
        set_err(err, errlen, "registering a benchmark failed: ", e.what());
    } catch (...) {
        set_err(err, errlen, "registering a benchmark failed: unknown C++ exception", "");
    }
    return -1;
}

// benchmark::State::KeepRunning is inline-only in the library; this is its exported wrapper.
int ic_bench_keep_running(ic_bench_state *st) {
    return S(st).KeepRunning() ? 1 : 0;
}

int64_t ic_bench_arg(const ic_bench_state *st, int index) {
    try {
        return S(st).range(static_cast<size_t>(index));
    } catch (...) {
        return 0;
    }
}

int64_t ic_bench_iterations(const ic_bench_state *st) {
    return static_cast<int64_t>(S(st).iterations());
}

int ic_bench_thread_index(const ic_bench_state *st) {
    return S(st).thread_index();
}

void ic_bench_pause(ic_bench_state *st) {
    S(st).PauseTiming();
}

void ic_bench_resume(ic_bench_state *st) {
    S(st).ResumeTiming();
}

void ic_bench_set_bytes_processed(ic_bench_state *st, int64_t bytes) {
    try {
        S(st).SetBytesProcessed(bytes);
    } catch (...) {
    }
}

void ic_bench_set_items_processed(ic_bench_state *st, int64_t items) {
    try {
        S(st).SetItemsProcessed(items);
    } catch (...) {
    }
}

void ic_bench_set_counter(ic_bench_state *st, const char *name, double value, int flags) {
    if (name == nullptr) return;
    try {
        S(st).counters[name] = benchmark::Counter(value, to_flags(flags));
    } catch (...) {
    }
}

void ic_bench_set_iteration_time(ic_bench_state *st, double seconds) {
    S(st).SetIterationTime(seconds);
}

void ic_bench_skip(ic_bench_state *st, const char *message) {
    try {
        S(st).SkipWithError(message ? message : "skipped");
    } catch (...) {
    }
}

void ic_bench_set_label(ic_bench_state *st, const char *label) {
    try {
        S(st).SetLabel(label ? label : "");
    } catch (...) {
    }
}

void ic_bench_add_context(const char *key, const char *value) {
    if (key == nullptr || value == nullptr) return;
    try {
        benchmark::AddCustomContext(key, value);
    } catch (...) {
    }
}

int ic_bench_check_flags(int argc, char **argv, char *err, size_t errlen) {
    // Number flags, checked here: the library takes a negative count and then throws from inside
    // (vector::reserve), and exits the process on some other values.
    static const struct {
        const char *flag;
        double lo, hi;
        bool integer;
        const char *want;
    } numbers[] = {
        {"repetitions", 1, 1e6, true, "a whole number from 1 to 1000000"},
        {"min_time", 0, 86400, false, "seconds from 0 to 86400"},
        {"min_warmup_time", 0, 86400, false, "seconds from 0 to 86400"},
    };
    try {
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            if (a == nullptr) continue;
            if (!starts_with(a, "--benchmark_") && !starts_with(a, "--v=")) {
                set_err(err, errlen, "not a Google Benchmark flag: ", a);
                return IC_BENCH_BAD_FLAGS;
            }
            if (starts_with(a, "--v=") && !number_in(a + 4, 0, 1000, true)) {
                set_err(err, errlen, "expected a verbosity from 0 to 1000 in ", a);
                return IC_BENCH_BAD_FLAGS;
            }
            // The library exits the process on a bad format name; catch it first.
            const char *fmt = flag_value(a, "format");
            if (fmt == nullptr) fmt = flag_value(a, "out_format");
            if (fmt && std::strcmp(fmt, "console") && std::strcmp(fmt, "json") &&
                std::strcmp(fmt, "csv")) {
                set_err(err, errlen, "expected console, json or csv in ", a);
                return IC_BENCH_BAD_FLAGS;
            }
            const char *unit = flag_value(a, "time_unit");
            if (unit && std::strcmp(unit, "ns") && std::strcmp(unit, "us") &&
                std::strcmp(unit, "ms") && std::strcmp(unit, "s")) {
                set_err(err, errlen, "expected ns, us, ms or s in ", a);
                return IC_BENCH_BAD_FLAGS;
            }
            for (const auto &n : numbers) {
                const char *v = flag_value(a, n.flag);
                if (v != nullptr && !number_in(v, n.lo, n.hi, n.integer)) {
                    std::string what = std::string("expected ") + n.want + " in ";
                    set_err(err, errlen, what.c_str(), a);
                    return IC_BENCH_BAD_FLAGS;
                }
            }
            // Where --benchmark_out goes is checked before anything runs (ic_out's one rule).
            if (const char *out = flag_value(a, "out")) {
                char why[600];
                if (*out && ic_out_check(out, why, sizeof why) != 0) {
                    set_err(err, errlen, "--benchmark_out ", why);
                    return IC_BENCH_BAD_FLAGS;
                }
            }
            // The filter is compiled as the library compiles it (std::regex, POSIX extended
            // syntax, a leading '-' negating it): a bad one otherwise matches nothing, silently.
            if (const char *f = flag_value(a, "filter")) {
                std::string spec = f;
                if (!spec.empty() && spec[0] == '-') spec.erase(0, 1);
                try {
                    std::regex re(spec, std::regex_constants::extended);
                } catch (const std::regex_error &e) {
                    std::string why =
                        "'" + std::string(f) + "': not a regular expression (" + e.what() + ")";
                    set_err(err, errlen, "--benchmark_filter ", why.c_str());
                    return IC_BENCH_BAD_FLAGS;
                }
            }
        }
        return 0;
    } catch (const std::exception &e) {
        set_err(err, errlen, "checking benchmark flags failed: ", e.what());
    } catch (...) {
        set_err(err, errlen, "checking benchmark flags failed: unknown C++ exception", "");
    }
    return -1;
}

int ic_bench_run(int argc, char **argv, ic_bench_report_fn *hook, void *user, char *err,
                 size_t errlen) {
    std::string out_path;
    ic_out out;
    bool out_open = false;
    const ic_bench_display where = g_display;
    g_display = IC_BENCH_DISPLAY_STDOUT;
    int bad = ic_bench_check_flags(argc, argv, err, errlen);
    if (bad != 0) return bad;
    try {
        // Flags persist between calls inside the library, so each run starts from the defaults;
        // the caller's flags come after and win. Only --benchmark_* flags reach the library:
        // its parser treats a bare --help as "print help and exit".
        std::vector<std::string> args = {
            argc > 0 && argv[0] ? argv[0] : "infercost",
            "--benchmark_filter=.",
            "--benchmark_format=console",
            "--benchmark_out_format=json",
            "--benchmark_repetitions=1",
            "--benchmark_min_time=0.5",
            "--benchmark_min_warmup_time=0",
            "--benchmark_list_tests=false",
            "--benchmark_report_aggregates_only=false",
            "--benchmark_display_aggregates_only=false",
            "--benchmark_counters_tabular=false",
            "--benchmark_enable_random_interleaving=false",
        };
        std::string format = "console", out_format = "json", color = "auto", tabular = "false";
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            if (a == nullptr) continue;
            if (const char *v = flag_value(a, "format")) format = v;
            if (const char *v = flag_value(a, "out_format")) out_format = v;
            if (const char *v = flag_value(a, "color")) color = v;
            if (const char *v = flag_value(a, "counters_tabular")) tabular = v;
            // The library writes --benchmark_out to /dev/null; FileTee keeps the text.
            if (const char *v = flag_value(a, "out")) {
                out_path = v;
                continue;
            }
            args.push_back(a);
        }
        args.insert(args.begin() + 1,
                    out_path.empty() ? "--benchmark_out=" : "--benchmark_out=/dev/null");
        if (!out_path.empty()) {
            // The temporary file exists, registered, from here: an interrupted run removes it.
            char why[600];
            int rc = ic_out_open(&out, out_path.c_str(), why, sizeof why);
            if (rc != 0) {
                set_err(err, errlen, "cannot write --benchmark_out file ", why);
                return rc == 2 ? IC_BENCH_BAD_FLAGS : -1;
            }
            out_open = true;
        }
        std::vector<char *> cargv;
        for (auto &s : args) cargv.push_back(&s[0]);
        cargv.push_back(nullptr);
        int cargc = static_cast<int>(args.size());
        benchmark::Initialize(&cargc, cargv.data());
        if (cargc > 1) {
            if (out_open) ic_out_abort(&out);
            set_err(err, errlen, "unrecognized or malformed benchmark flag: ", cargv[1]);
            return IC_BENCH_BAD_FLAGS;
        }
        // Not CreateDefaultDisplayReporter: it builds one reporter per process and keeps it, so a
        // second run would ignore its own --benchmark_format.
        int opts = benchmark::ConsoleReporter::OO_None;
        int fd = where == IC_BENCH_DISPLAY_STDERR ? STDERR_FILENO : STDOUT_FILENO;
        bool tty = g_display != IC_BENCH_DISPLAY_NONE && isatty(fd) && getenv("TERM") &&
                   strcmp(getenv("TERM"), "dumb");
        if (is_true(color) || (color == "auto" && tty))
            opts |= benchmark::ConsoleReporter::OO_Color;
        if (is_true(tabular)) opts |= benchmark::ConsoleReporter::OO_Tabular;
        std::unique_ptr<benchmark::BenchmarkReporter> display(make_reporter(format, opts));
        // An ostream without a buffer discards what it is given.
        std::ostream discard(nullptr);
        if (where == IC_BENCH_DISPLAY_STDERR) {
            display->SetOutputStream(&std::cerr);
            display->SetErrorStream(&std::cerr);
        } else if (where == IC_BENCH_DISPLAY_NONE) {
            display->SetOutputStream(&discard);
            display->SetErrorStream(&discard);
        }
        TeeReporter tee(display.get(), hook, user);
        std::unique_ptr<benchmark::BenchmarkReporter> file_inner(
            make_reporter(out_format, is_true(tabular) ? benchmark::ConsoleReporter::OO_Tabular
                                                       : benchmark::ConsoleReporter::OO_None));
        FileTee file(file_inner.get());
        benchmark::RunSpecifiedBenchmarks(&tee, out_open ? &file : nullptr);
        int reported = tee.reported();
        if (out_open) {
            out_open = false;
            // Nothing ran (no match, or a listing): an earlier file stays as it was.
            if (!file.finalized()) {
                ic_out_abort(&out);
                return reported;
            }
            std::string text = file.text();
            ic_out_write(&out, text.data(), text.size());
            char why[600];
            if (ic_out_commit(&out, why, sizeof why) != 0) {
                set_err(err, errlen, "could not write --benchmark_out file ", why);
                return -1;
            }
        }
        return reported;
    } catch (const std::exception &e) {
        set_err(err, errlen, "benchmark run failed: ", e.what());
    } catch (...) {
        set_err(err, errlen, "benchmark run failed: unknown C++ exception", "");
    }
    if (out_open) ic_out_abort(&out);
    return -1;
}

void ic_bench_set_display(ic_bench_display where) {
    g_display = where;
}

void ic_bench_clear(void) {
    try {
        benchmark::ClearRegisteredBenchmarks();
    } catch (...) {
    }
}

const char *ic_bench_library_version(void) {
#ifdef IC_BENCHMARK_VERSION
    return IC_BENCHMARK_VERSION;
#else
    return "unknown";
#endif
}

} // extern "C"
