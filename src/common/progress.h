#pragma once
// A terminal progress bar with rate and ETA, written to stderr. Thread-safe `tick()`; silent when disabled
// (tests, --quiet); one line per 10% when stderr is not a terminal. One bar at a time: a bar made while another
// is drawing (a step's inner loop, e.g. each leave-one-out fold's propagation) stays silent, so that the outer
// bar is not broken into lines of 1/1 steps.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace sammpa {

class Progress {
 public:
  Progress(std::string label, size_t total, bool enabled = true);
  ~Progress();
  void tick(size_t n = 1);
  void finish();
  static void set_globally_enabled(bool on);

 private:
  void draw(size_t done, bool final_line);
  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  std::atomic<size_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
  bool finished_ = false;
};

}  // namespace sammpa
