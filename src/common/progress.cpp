#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sammpa {
namespace {
std::atomic<bool> g_enabled{true};
std::atomic<bool> g_drawing{false};  // an enabled bar is drawing (made, not yet finished)

std::string format_seconds(double s) {
  char buf[32];
  if (s < 0 || s > 1e7) return "--:--";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", t / 60, t % 60);
  return buf;
}
}  // namespace

void Progress::set_globally_enabled(bool on) { g_enabled = on; }

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && g_enabled && total > 0),
      tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (!enabled_) return;
  bool none = false;
  enabled_ = g_drawing.compare_exchange_strong(none, true);  // else an outer bar is drawing: stay silent
  if (enabled_) draw(0, false);
}

Progress::~Progress() { finish(); }

void Progress::tick(size_t n) {
  size_t done = done_.fetch_add(n) + n;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  if (tty_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
  last_draw_ = now;
  draw(done, false);
}

void Progress::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  draw(done_.load(), true);
  g_drawing = false;
}

void Progress::draw(size_t done, bool final_line) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  double eta = done ? elapsed * (static_cast<double>(total_ - std::min(done, total_)) / done) : -1;
  double rate = elapsed > 0 ? done / elapsed : 0;
  if (!tty_) {  // logs: one line per tenth, plus the final one
    int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_) return;  // this tenth (or the final state) was already printed
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %zu/%zu (%.0f%%) elapsed %s eta %s\n", label_.c_str(), done, total_, frac * 100,
                 format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
    return;
  }
  constexpr int width = 30;
  int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%-18s [%s] %zu/%zu %5.1f/s elapsed %s eta %s ", label_.c_str(), bar.c_str(), done,
               total_, rate, format_seconds(elapsed).c_str(), format_seconds(final_line ? 0 : eta).c_str());
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace sammpa
