// bench_propagate: seconds per registered support/query pair (affine stage, demons stage, mask warp) on real
// chest X-rays, and the projection for K supports x N queries. Stage times are CPU seconds of the calling
// thread (robust when other jobs share the machine); the parallel run gives the wall time under the current
// load. The target: K = 10 x 500 queries within 10 minutes on 2 cores, i.e. 0.12 s of wall time per pair.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <CLI/CLI.hpp>
#include <ctime>

#include "common/allocator.h"
#include "common/parallel.h"
#include "io/dataset.h"
#include "io/image_io.h"
#include "itkMultiThreaderBase.h"
#include "propagate/frame.h"
#include "propagate/register.h"
#include "propagate/similarity.h"

using namespace sammpa;
using Clock = std::chrono::steady_clock;

namespace {

struct Pair {
  cv::Mat fixed_image, fixed, moving, mask;
};

struct Times {
  double affine = 0, deform = 0, warp = 0;
  double total() const { return affine + deform + warp; }
};

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

Times register_pair(const Pair& p, const RegistrationOptions& opt) {
  Times t;
  double t0 = thread_cpu_seconds();
  cv::Matx23d a = affine_stage(p.fixed, p.moving, opt);
  normalized_cross_correlation(p.fixed, sample(p.moving, affine_map(a, opt.size), false));
  t.affine = thread_cpu_seconds() - t0;
  t0 = thread_cpu_seconds();
  cv::Mat map = deformable_map(p.fixed, p.moving, a, opt);
  normalized_cross_correlation(p.fixed, sample(p.moving, map, false));
  t.deform = thread_cpu_seconds() - t0;
  t0 = thread_cpu_seconds();
  warp_to_full(p.mask, map, p.fixed_image.size());
  t.warp = thread_cpu_seconds() - t0;
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  sammpa::keep_freed_memory_in_heap();
  CLI::App app{"Seconds per registered pair of sammpa propagate, and the projection for K x N queries"};
  std::string data = (default_data_root() / "cxr").string();
  int pairs = 24, threads = 2, k = 10, queries = 500, top = 3;
  std::vector<int> demons_iterations = DemonsOptions{}.iterations;
  std::vector<int> sizes = {96, 128, 192};
  app.add_option("--data", data, "dataset folder")->capture_default_str();
  app.add_option("--pairs", pairs, "pairs to time per configuration")->capture_default_str();
  app.add_option("--threads", threads, "threads for the parallel throughput")->capture_default_str();
  app.add_option("--sizes", sizes, "working sizes to time")->capture_default_str();
  app.add_option("-k", k, "supports in the projection")->capture_default_str();
  app.add_option("--queries", queries, "queries in the projection")->capture_default_str();
  app.add_option("--demons-iterations", demons_iterations, "per level, coarsest first")->capture_default_str();
  app.add_option("--top", top, "deformable registrations per query in the --top projection")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);

  Dataset ds = scan_dataset(data);
  const size_t n = ds.size();
  std::printf("data %s (%zu images), %d pairs per configuration, parallel over %d threads\n", data.c_str(), n, pairs,
              threads);
  std::printf("target: %d supports x %d queries in 600 s on 2 cores = %.3f s per pair (wall)\n\n", k, queries,
              600.0 / (k * queries));
  std::printf("%-9s %5s | %8s %8s %8s %8s | %10s %10s | %10s %10s\n", "method", "size", "affine", "demons", "warp",
              "cpu/pair", "K x N (s)", "top M (s)", "wall/pair", "K x N (s)");
  for (int size : sizes) {
    std::vector<Pair> set;
    for (int i = 0; i < pairs; ++i) {  // spread over the folder: query i, support i + n/2
      const Sample& q = ds.samples[(i * 37) % n];
      const Sample& s = ds.samples[(i * 37 + n / 2) % n];
      Pair p;
      p.fixed_image = read_image(q.image);
      p.fixed = to_working(p.fixed_image, size);
      cv::Mat simg = read_image(s.image);
      p.moving = to_working(simg, size);
      cv::Mat m = s.mask ? read_mask(*s.mask, simg.size()) : cv::Mat::zeros(simg.size(), CV_8U);
      m.convertTo(p.mask, CV_32F, 1.0 / 255);
      set.push_back(std::move(p));
    }
    RegistrationOptions warm_up;
    warm_up.size = size;
    register_pair(set[0], warm_up);  // first-use initialisation of OpenCV and ITK
    for (Method method : {Method::identity, Method::affine, Method::demons}) {
      RegistrationOptions opt;
      opt.size = size;
      opt.method = method;
      opt.demons.iterations = demons_iterations;
      std::vector<double> affine, deform, warp, total;
      for (const Pair& p : set) {
        Times t = register_pair(p, opt);
        affine.push_back(t.affine);
        deform.push_back(t.deform);
        warp.push_back(t.warp);
        total.push_back(t.total());
      }
      auto t0 = Clock::now();
      parallel_for(set.size(), threads, [&](size_t i) { register_pair(set[i], opt); });
      double wall_per_pair = since(t0) / set.size();
      // Projections on `threads` otherwise idle cores from CPU time; with --top M every pair pays the affine
      // stage, only M per query the demons stage and the warp.
      const double cores = threads;
      double all_cpu = median(total) * k * queries / cores;
      double top_cpu = queries * (k * median(affine) + std::min(top, k) * (median(deform) + median(warp))) / cores;
      std::printf("%-9s %5d | %8.4f %8.4f %8.4f %8.4f | %10.1f %10.1f | %10.4f %10.1f\n", method_name(method).c_str(),
                  size, median(affine), median(deform), median(warp), median(total), all_cpu, top_cpu, wall_per_pair,
                  wall_per_pair * k * queries);
    }
  }
  std::printf("\ncolumns: medians of CPU seconds per pair by stage (one thread); K x N = projected wall seconds for "
              "%d x %d pairs on %d idle cores\n(CPU / cores); top M = the same with --top %d (all K affine, M demons "
              "per query); wall/pair = measured wall time of the %d pairs\nrun on %d threads / pairs, under the "
              "machine's current load, and its K x N projection\n", k, queries, threads, top, pairs, threads);
  return 0;
}
