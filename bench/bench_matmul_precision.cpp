// The encoders' matrix products in fp32 (what the engine runs) against bf16 inputs with fp32 output (what a
// bf16 engine path would run), on this machine, through oneDNN: GFLOP/s, the kernel oneDNN picks (on CPUs with
// AMX, "avx512_core_amx_bf16") and the cost of converting the fp32 activations to bf16 first. Also whether
// fp32 products asked to compute in bf16 (fpmath mode) reach the bf16 kernels. docs/PERFORMANCE.md.
//   bench_matmul_precision [--reps N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/dnnl/dnnl.hpp>

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Shape {
  int m, k, n;
  const char* what;
};

template <class F>
double median_seconds(int reps, F&& f) {
  f();  // first call: JIT and caches
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Timed {
  double seconds;
  std::string kernel;
};

// One product M x K by K x N into fp32, its inputs of type `in`; `fpmath_bf16`: fp32 inputs allowed to compute
// in bf16.
Timed product(dnnl::engine& eng, dnnl::stream& s, const Shape& sh, dt in, bool fpmath_bf16, int reps) {
  const dnnl::memory::desc a({sh.m, sh.k}, in, tag::ab), b({sh.k, sh.n}, in, tag::any),
      c({sh.m, sh.n}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  if (fpmath_bf16) attr.set_fpmath_mode(dnnl::fpmath_mode::bf16);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, eng);
  dnnl::memory A(a, eng), B(pd.weights_desc(), eng), C(c, eng);
  std::fill_n(static_cast<char*>(A.get_data_handle()), a.get_size(), 0);
  std::fill_n(static_cast<char*>(B.get_data_handle()), pd.weights_desc().get_size(), 0);
  dnnl::matmul p(pd);
  const double sec = median_seconds(reps, [&] {
    p.execute(s, {{DNNL_ARG_SRC, A}, {DNNL_ARG_WEIGHTS, B}, {DNNL_ARG_DST, C}});
    s.wait();
  });
  return {sec, pd.impl_info_str()};
}

// Converting an M x K fp32 activation to bf16 (a bf16 path pays it before each product whose input an fp32
// step wrote).
double to_bf16(dnnl::engine& eng, dnnl::stream& s, const Shape& sh, int reps) {
  dnnl::memory src({{sh.m, sh.k}, dt::f32, tag::ab}, eng), dst({{sh.m, sh.k}, dt::bf16, tag::ab}, eng);
  std::fill_n(static_cast<float*>(src.get_data_handle()), static_cast<size_t>(sh.m) * sh.k, 1.0f);
  dnnl::reorder r(src, dst);
  return median_seconds(reps, [&] {
    r.execute(s, src, dst);
    s.wait();
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fp32 against bf16 matrix products of the encoders' shapes, through oneDNN"};
  int reps = 9;
  app.add_option("--reps", reps, "timed calls per case (median)")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  // Products of the encoders on a 1024 x 1024 image (M = tokens; docs/SAM.md): TinyViT's MLPs at each width
  // (its six 14 x 14-window blocks run at 64 x 64 x 160), ViT-B's MLP and qkv.
  const std::vector<Shape> shapes = {{16384, 128, 512, "TinyViT 128x128x128, MLP in"},
                                     {4096, 160, 640, "TinyViT 64x64x160, MLP in"},
                                     {4096, 640, 160, "TinyViT 64x64x160, MLP out"},
                                     {4096, 320, 1280, "TinyViT 64x64x320, MLP in"},
                                     {4096, 768, 3072, "ViT-B MLP in"},
                                     {4096, 768, 2304, "ViT-B qkv"}};
  std::printf("%-46s %22s %22s %22s %12s\n", "product (M x K x N)", "fp32 GFLOP/s", "bf16 GFLOP/s",
              "fp32, fpmath bf16", "to bf16, ms");
  for (const auto& sh : shapes) {
    const double flop = 2.0 * sh.m * sh.k * sh.n;
    const Timed f = product(eng, s, sh, dt::f32, false, reps), b = product(eng, s, sh, dt::bf16, false, reps),
                fm = product(eng, s, sh, dt::f32, true, reps);
    const std::string name = std::string(sh.what) + " " + std::to_string(sh.m) + "x" + std::to_string(sh.k) + "x" +
                             std::to_string(sh.n);
    std::printf("%-46s %8.0f (%-12s) %8.0f (%-12s) %8.0f (%-12s) %12.2f\n", name.c_str(), flop / f.seconds / 1e9,
                f.kernel.c_str(), flop / b.seconds / 1e9, b.kernel.c_str(), flop / fm.seconds / 1e9,
                fm.kernel.c_str(), 1e3 * to_bf16(eng, s, sh, reps));
  }
}
