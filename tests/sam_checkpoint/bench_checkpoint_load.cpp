// Checkpoint load time: sammpa's reader (open, fetch every tensor, read every byte) beside torch.load of the
// same file in the same run (the reference; needs /usr/bin/python3 with torch).
//   bench_checkpoint_load FILE [REPEATS]
// A ViT-B-sized synthetic file: /usr/bin/python3 tests/sam_checkpoint/make_fixtures.py --large FILE 375
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"

using sammpa::sam::Checkpoint;

namespace {

double median_ms(int repeats, const std::function<void()>& fn) {
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Drops this one file's pages from the page cache (other files are untouched), for a cold-read figure.
void evict(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double torch_load_ms(const std::string& file, int repeats) {
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys, time, torch\n"
      "ts = []\n"
      "for _ in range(" + std::to_string(repeats) + "):\n"
      "    t = time.perf_counter(); sd = torch.load(sys.argv[1], map_location='cpu'); "
      "ts.append(time.perf_counter() - t)\n"
      "print(sorted(ts)[len(ts) // 2] * 1000)\" '" + file + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  double ms = -1;
  if (std::fscanf(p, "%lf", &ms) != 1) ms = -1;
  pclose(p);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CHECKPOINT [REPEATS]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1];
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 7;
  const Checkpoint probe = Checkpoint::open(file);
  std::printf("%s: %.1f MB, %zu tensors (medians of %d runs, page cache warm unless marked cold)\n", file.c_str(),
              static_cast<double>(std::filesystem::file_size(file)) / 1e6, probe.size(), repeats);

  const double open = median_ms(repeats, [&] { Checkpoint::open(file); });
  const double get_all = median_ms(repeats, [&] {
    const auto c = Checkpoint::open(file);
    for (const auto& k : c.keys()) c.get(k);
  });
  volatile float sink = 0;
  const double read_all = median_ms(repeats, [&] {
    const auto c = Checkpoint::open(file);
    float s = 0;
    for (const auto& k : c.keys()) {
      const auto t = c.get(k);
      for (int64_t i = 0; i < t.numel(); i += 1024) s += t.data()[i];  // one float per 4 KiB page
    }
    sink = s;
  });
  const int cold_repeats = std::max(3, repeats / 2);
  const double cold = median_ms(cold_repeats, [&] {
    evict(file);
    const auto c = Checkpoint::open(file);
    float s = 0;
    for (const auto& k : c.keys()) {
      const auto t = c.get(k);
      for (int64_t i = 0; i < t.numel(); i += 1024) s += t.data()[i];
    }
    sink = s;
  });
  const double torch_ms = torch_load_ms(file, cold_repeats);
  std::printf("%-44s %9.2f ms\n", "sammpa Checkpoint::open", open);
  std::printf("%-44s %9.2f ms\n", "sammpa open + get() every tensor", get_all);
  std::printf("%-44s %9.2f ms\n", "sammpa open + get() + touch every page", read_all);
  std::printf("%-44s %9.2f ms  (file evicted from the page cache first)\n", "sammpa cold: open + touch every page",
              cold);
  if (torch_ms >= 0)
    std::printf("%-44s %9.2f ms  (reference)\n", "torch.load(map_location='cpu')", torch_ms);
  else
    std::printf("torch.load reference unavailable (/usr/bin/python3 with torch needed)\n");
  return 0;
}
