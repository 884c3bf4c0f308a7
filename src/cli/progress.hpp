// Progress on stderr for commands that can run longer than 2 s: nothing for the first 2 s, then
// "what: done of total (elapsed)" refreshed in place on a terminal (every 10 s as a new line
// otherwise), cleared at the end. Off when stdout carries JSON. tick() is cheap (one atomic add).
#pragma once
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "table.hpp"

namespace podperf::cli {

class Progress {
 public:
  Progress(std::string what, long total, bool enabled) : what_(std::move(what)), total_(total) {
    if (enabled) thread_ = std::thread([this] { loop(); });
  }
  ~Progress() { finish(); }
  // Stops and clears the progress line (before the command prints its result).
  void finish() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void tick(long n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }

 private:
  void loop() {
    const bool tty = isatty(STDERR_FILENO);
    const auto t0 = std::chrono::steady_clock::now();
    auto next = t0 + std::chrono::seconds(2);
    bool shown = false;
    std::unique_lock<std::mutex> l(m_);
    while (!cv_.wait_until(l, next, [this] { return stop_; })) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string line = what_ + ": ";
      if (total_ > 0)
        line += group_digits(std::to_string(done_.load())) + " of " + group_digits(std::to_string(total_)) + ", ";
      line += std::to_string(static_cast<long>(s)) + " s";
      std::fprintf(stderr, tty ? "\r%s   " : "%s\n", line.c_str());
      std::fflush(stderr);
      shown = true;
      next += std::chrono::milliseconds(tty ? 250 : 10000);
    }
    if (shown && tty) std::fprintf(stderr, "\r%*s\r", 60, "");
  }
  std::string what_;
  long total_;
  std::atomic<long> done_{0};
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace podperf::cli
