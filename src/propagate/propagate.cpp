#include "propagate/propagate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "io/image_io.h"
#include "itkMultiThreaderBase.h"
#include "propagate/frame.h"
#include "propagate/similarity.h"

namespace fs = std::filesystem;

namespace sammpa {
namespace {

struct SupportData {
  std::string name;
  cv::Mat working;  // CV_32F, working frame
  cv::Mat mask;     // CV_32F 0/1, full resolution
};

std::vector<SupportData> load_supports(const Dataset& data, const std::vector<std::string>& names, int size) {
  std::vector<SupportData> out;
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (!seen.insert(name).second) throw InputError(name, "support listed twice");
    auto index = data.index_of(name);
    if (!index) throw InputError(data.root / "images", "support '" + name + "' is not in the dataset");
    const Sample& s = data.samples[*index];
    if (!s.mask)
      throw InputError(s.image, "support has no mask (expected masks/" + name + ".<ext>, or " + name +
                                    "_mask.<ext>)");
    cv::Mat image = read_image(s.image);
    cv::Mat mask = read_truth(s, image.size());  // InputError naming the mask on a size mismatch
    SupportData d{name, to_working(image, size), {}};
    mask.convertTo(d.mask, CV_32F, 1.0 / 255.0);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<size_t> select_queries(const Dataset& data, const std::set<std::string>& support,
                                   const std::vector<std::string>& wanted) {
  std::vector<size_t> out;
  if (wanted.empty()) {
    for (size_t i = 0; i < data.size(); ++i)
      if (!support.count(data.samples[i].name)) out.push_back(i);
    return out;
  }
  std::set<size_t> unique;
  for (const auto& name : wanted) {
    auto index = data.index_of(name);
    if (!index) throw InputError(data.root / "images", "query '" + name + "' is not in the dataset");
    if (!support.count(name)) unique.insert(*index);  // supports are never queries
  }
  return {unique.begin(), unique.end()};
}

cv::Mat to_png8(const cv::Mat& soft) {
  cv::Mat out;
  soft.convertTo(out, CV_8U, 255.0);  // saturate_cast rounds
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PropagationRun propagate_dataset(const Dataset& data, const std::vector<std::string>& support_names,
                                 const PropagateOptions& opt, const fs::path& out_root) {
  const auto start = std::chrono::steady_clock::now();
  const int size = opt.registration.size;
  if (size < 16 || size > 2048) throw InputError("--size", "working size must be within 16..2048");
  const std::vector<SupportData> supports = load_supports(data, support_names, size);
  const std::set<std::string> support_set(support_names.begin(), support_names.end());
  const std::vector<size_t> query_index = select_queries(data, support_set, opt.queries);
  const bool want_truth = opt.score || opt.oracle;
  for (size_t qi : query_index) {  // header-only size checks before any work
    const Sample& q = data.samples[qi];
    if (want_truth && q.mask && read_image_size(*q.mask) != read_image_size(q.image))
      throw InputError(*q.mask, "mask size differs from its image");
  }

  std::vector<Fusion> rules = {opt.fusion};
  if (opt.all_fusions || opt.score) rules = all_fusions();
  fs::create_directories(out_root / "coarse");
  fs::create_directories(out_root / "soft");
  if (opt.all_fusions)
    for (Fusion f : all_fusions()) fs::create_directories(out_root / ("coarse_" + fusion_name(f)));
  if (opt.oracle) fs::create_directories(out_root / "coarse_oracle");

  // Parallelism is over queries; ITK filters run single-threaded to avoid oversubscribing the cores. ITK's
  // setting is process-wide: the caller's value comes back when this function returns (or throws).
  struct ItkThreads {
    itk::ThreadIdType before = itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
    ItkThreads() { itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1); }
    ~ItkThreads() { itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(before); }
  } single_threaded_itk;
  const size_t k = supports.size();
  const size_t deform_count = (opt.top > 0 && static_cast<size_t>(opt.top) < k) ? opt.top : k;

  PropagationRun run;
  run.support = support_names;
  run.queries.resize(query_index.size());
  Progress progress("propagate", query_index.size());
  parallel_for(query_index.size(), opt.threads, [&](size_t n) {
    const auto t0 = std::chrono::steady_clock::now();
    const Sample& q = data.samples[query_index[n]];
    QueryResult& r = run.queries[n];
    r.name = q.name;
    const cv::Mat image = read_image(q.image);
    const cv::Mat fixed = to_working(image, size);

    std::vector<cv::Matx23d> affine(k);
    r.supports.resize(k);
    for (size_t i = 0; i < k; ++i) {
      affine[i] = affine_stage(fixed, supports[i].working, opt.registration);
      r.supports[i].name = supports[i].name;
      r.supports[i].affine_similarity =
          normalized_cross_correlation(fixed, sample(supports[i].working, affine_map(affine[i], size), false));
    }
    std::vector<size_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return r.supports[a].affine_similarity > r.supports[b].affine_similarity;
    });
    order.resize(deform_count);
    std::sort(order.begin(), order.end());

    std::vector<cv::Mat> warped, warped_images;
    std::vector<double> similarity;
    for (size_t i : order) {
      cv::Mat map = deformable_map(fixed, supports[i].working, affine[i], opt.registration);
      warped_images.push_back(sample(supports[i].working, map, false));
      double s = normalized_cross_correlation(fixed, warped_images.back());
      r.supports[i].similarity = s;
      similarity.push_back(s);
      warped.push_back(warp_to_full(supports[i].mask, map, image.size()));
    }

    std::optional<cv::Mat> truth;
    if (want_truth && q.mask) truth = read_truth(q, image.size());
    const bool any_local = std::find(rules.begin(), rules.end(), Fusion::local) != rules.end();
    const std::vector<cv::Mat> local =
        any_local ? local_weights(fixed, warped_images, opt.local) : std::vector<cv::Mat>{};
    for (Fusion rule : rules) {
      Fused f = fuse(warped, similarity, rule, opt.temperature, local);
      if (rule == opt.fusion) {
        r.chosen = supports[order[f.chosen]].name;
        write_png(out_root / "coarse" / (q.name + ".png"), f.mask);
        write_png(out_root / "soft" / (q.name + ".png"), to_png8(f.soft));
        if (opt.on_query) opt.on_query(q.name, f.mask, f.soft);
      }
      if (opt.all_fusions) write_png(out_root / ("coarse_" + fusion_name(rule)) / (q.name + ".png"), f.mask);
      if (opt.score && truth) r.dice[fusion_name(rule)] = dice(f.mask, *truth);
    }
    if (truth) {  // the ceiling: the single warped mask closest to the truth
      size_t best = 0;
      for (size_t j = 0; j < warped.size(); ++j) {
        double d = dice(warped[j] >= 0.5f - 1e-6f, *truth);
        r.supports[order[j]].dice = d;
        if (d > *r.supports[order[best]].dice) best = j;
      }
      if (opt.score) r.dice["oracle"] = *r.supports[order[best]].dice;
      if (opt.oracle) write_png(out_root / "coarse_oracle" / (q.name + ".png"), warped[best] >= 0.5f - 1e-6f);
    }
    r.seconds = seconds_since(t0);
    if (opt.on_done) opt.on_done(r);
    progress.tick();
  });
  progress.finish();
  run.pairs_affine = query_index.size() * (opt.registration.method == Method::identity ? 0 : k);
  run.pairs_deformable = query_index.size() * deform_count;
  run.seconds = seconds_since(start);
  return run;
}

nlohmann::json to_json(const PropagationRun& run, const PropagateOptions& opt) {
  using nlohmann::json;
  const auto& reg = opt.registration;
  json j;
  j["options"] = {{"method", method_name(reg.method)},
                  {"size", reg.size},
                  {"fusion", fusion_name(opt.fusion)},
                  {"temperature", opt.temperature},
                  {"top", opt.top},
                  {"threads", opt.threads > 0 ? opt.threads : default_threads()},
                  {"affine", {{"max_size", reg.affine.max_size}, {"levels", reg.affine.levels},
                              {"iterations", reg.affine.iterations}}},
                  {"demons", {{"iterations", reg.demons.iterations}, {"field_sigma", reg.demons.field_sigma},
                              {"max_step", reg.demons.max_step}}},
                  {"bspline", {{"mesh", reg.bspline.mesh}, {"levels", reg.bspline.levels},
                               {"max_size", reg.bspline.max_size},
                               {"iterations", reg.bspline.iterations}, {"metric", reg.bspline.metric}}}};
  j["support"] = run.support;
  std::map<std::string, std::pair<double, int>> sums;
  json queries = json::array();
  for (const auto& q : run.queries) {
    json s = json::object(), sa = json::object(), sd = json::object();
    for (const auto& sr : q.supports) {
      sa[sr.name] = sr.affine_similarity;
      if (sr.similarity) s[sr.name] = *sr.similarity;
      if (sr.dice) sd[sr.name] = *sr.dice;
    }
    json e = {{"name", q.name}, {"chosen", q.chosen}, {"seconds", q.seconds},
              {"similarity", s}, {"affine_similarity", sa}};
    if (!sd.empty()) e["support_dice"] = sd;
    if (!q.dice.empty()) e["dice"] = q.dice;
    for (const auto& [rule, d] : q.dice) {
      sums[rule].first += d;
      sums[rule].second += 1;
    }
    queries.push_back(std::move(e));
  }
  j["queries"] = std::move(queries);
  json summary = {{"queries", run.queries.size()},
                  {"pairs_affine", run.pairs_affine},
                  {"pairs_deformable", run.pairs_deformable},
                  {"seconds", run.seconds},
                  {"seconds_per_query", run.queries.empty() ? 0.0 : run.seconds / run.queries.size()}};
  if (!sums.empty()) {
    json mean = json::object();
    for (const auto& [rule, s] : sums) mean[rule] = s.first / s.second;
    summary["mean_dice"] = mean;
    summary["scored"] = sums.begin()->second.second;
  }
  j["summary"] = std::move(summary);
  return j;
}

}  // namespace sammpa
