// batch_runner.hpp: runs one job per input file on N worker threads, each
// with its own transport; shows a progress line on a terminal; keeps the
// counters for the summary; folds per-file exit codes into one. Used by
// `send` (and, with another job, `collect`).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace sealpost {

struct BatchCounters {
    std::atomic<long> messages{0}, copies{0}, encrypted{0}, signed_{0}, failed{0}, done{0};
};

// The exit code that wins when files end differently: our own bug first,
// then configuration, permissions, temporary, permanent, input problems.
int worse_exit_code(int a, int b);

// Runs job(worker, index) for index in [0, count) on `threads` workers.
// job returns the file's exit code; `stop_on` codes end the batch early
// (configuration and permission problems apply to every file).
int run_batch(std::size_t count, int threads, const std::function<int(int worker, std::size_t index)>& job,
              BatchCounters& counters, const char* verb);

}  // namespace sealpost
