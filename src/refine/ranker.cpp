#include "refine/ranker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace sammpa {

namespace {

constexpr double kNone = -1e300;

struct Stats {
  double mean = 0, sd = 0;
};

Stats masked_stats(const cv::Mat& values, const cv::Mat& mask) {
  Stats s;
  if (cv::countNonZero(mask) == 0) return s;
  cv::Scalar m, d;
  cv::meanStdDev(values, m, d, mask);
  s.mean = m[0];
  s.sd = d[0];
  return s;
}

}  // namespace

const std::vector<std::string>& candidate_feature_names() {
  static const std::vector<std::string> names = {
      "sam_iou",      "stability",     "soft_inside",   "soft_ring",     "soft_held",   "soft_max",
      "log_area",     "area",          "centre_x",      "centre_y",      "off_centre",  "touches_border",
      "solidity",     "grey_inside",   "grey_ring",     "grey_contrast", "grey_sd_inside"};
  return names;
}

std::vector<std::string> ranker_feature_names(size_t count) {
  std::vector<std::string> names = candidate_feature_names();
  for (size_t k = 1; names.size() < count; ++k) names.push_back("emb_pc" + std::to_string(k));
  return names;
}

std::vector<std::vector<double>> candidate_features(const std::vector<MaskCandidate>& cands, const cv::Mat& soft,
                                                    const cv::Mat& grey) {
  cv::Scalar gm, gs;
  cv::meanStdDev(grey, gm, gs);
  const double gsd = std::max(gs[0], 1e-6);
  const double soft_total = std::max(cv::sum(soft)[0], 1e-6);
  const double area_total = static_cast<double>(grey.total());
  std::vector<std::vector<double>> out;
  for (const auto& c : cands) {
    const double area = std::max(1, cv::countNonZero(c.mask));
    const int r = std::max(2, static_cast<int>(std::lround(std::sqrt(area) / 4)));
    cv::Mat grown;
    cv::dilate(c.mask, grown, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * r + 1, 2 * r + 1}));
    const cv::Mat ring = grown & ~c.mask;
    const Stats si = masked_stats(soft, c.mask), sr = masked_stats(soft, ring);
    const Stats gi = masked_stats(grey, c.mask), gr = masked_stats(grey, ring);
    double soft_max = 0;
    cv::minMaxLoc(soft, nullptr, &soft_max, nullptr, nullptr, c.mask);
    const cv::Moments mo = cv::moments(c.mask, true);
    const double cx = mo.m10 / std::max(mo.m00, 1.0) / c.mask.cols, cy = mo.m01 / std::max(mo.m00, 1.0) / c.mask.rows;
    const cv::Rect b = cv::boundingRect(c.mask);
    const bool border = b.x == 0 || b.y == 0 || b.x + b.width == c.mask.cols || b.y + b.height == c.mask.rows;
    std::vector<cv::Point> pts;
    cv::findNonZero(c.mask, pts);
    std::vector<cv::Point> hull;
    cv::convexHull(pts, hull);
    const double hull_area = std::max(cv::contourArea(hull), 1.0);
    out.push_back({c.iou, c.stability, si.mean, sr.mean, si.mean * area / soft_total, soft_max,
                   std::log(area / area_total), area / area_total, cx, cy,
                   (cx - 0.5) * (cx - 0.5) + (cy - 0.5) * (cy - 0.5), border ? 1.0 : 0.0,
                   std::min(1.0, area / hull_area), (gi.mean - gm[0]) / gsd, (gr.mean - gm[0]) / gsd,
                   (gi.mean - gr.mean) / gsd, gi.sd / gsd});
  }
  return out;
}

RankedImage label_candidates(const std::vector<MaskCandidate>& cands, const cv::Mat& soft, const cv::Mat& grey,
                             const cv::Mat& truth_work) {
  RankedImage r;
  r.features = candidate_features(cands, soft, grey);
  const cv::Mat truth = truth_work >= 127.5f;
  const double t = cv::countNonZero(truth);
  r.empty_truth = t == 0;
  cv::Mat labels;
  const int objects = cv::connectedComponents(truth, labels, 8, CV_32S);
  for (const auto& c : cands) {
    const double i = cv::countNonZero(c.mask & truth), a = cv::countNonZero(c.mask);
    // The truth's objects the candidate covers: its components with more than a tenth of their area inside.
    cv::Mat covered = cv::Mat::zeros(truth.size(), CV_8UC1);
    for (int l = 1; l < objects; ++l) {
      const cv::Mat object = labels == l;
      if (cv::countNonZero(object & c.mask) > 0.1 * cv::countNonZero(object)) covered |= object;
    }
    const double oi = cv::countNonZero(covered & c.mask), ot = cv::countNonZero(covered);
    if (ot > 0)
      r.iou.push_back(oi / (a + ot - oi));
    else  // it covers no object well: the plain IoU (small)
      r.iou.push_back(a + t - i > 0 ? i / (a + t - i) : 0.0);
    r.dice.push_back(a + t > 0 ? 2 * i / (a + t) : 0.0);
  }
  return r;
}

namespace {

// Each feature's mean and inverse standard deviation over the rows (0 for a constant feature: it drops out).
void standardise(const std::vector<const std::vector<double>*>& x, std::vector<double>& mean,
                 std::vector<double>& scale) {
  const size_t d = x[0]->size(), n = x.size();
  mean.assign(d, 0);
  scale.assign(d, 0);
  for (const auto* v : x)
    for (size_t j = 0; j < d; ++j) mean[j] += (*v)[j] / n;
  for (const auto* v : x)
    for (size_t j = 0; j < d; ++j) scale[j] += ((*v)[j] - mean[j]) * ((*v)[j] - mean[j]) / n;
  for (auto& s : scale) s = s > 1e-12 ? 1.0 / std::sqrt(s) : 0.0;
}

}  // namespace

CandidateRanker CandidateRanker::train(const std::vector<const RankedImage*>& images, const RankerOptions& o) {
  std::vector<const std::vector<double>*> x;
  std::vector<double> y;
  for (const auto* im : images)
    for (size_t i = 0; i < im->features.size(); ++i) x.push_back(&im->features[i]), y.push_back(im->iou[i]);
  if (x.empty()) throw InputError("ranked mode", "SAM gave no candidate on any support image to learn from");
  const size_t d = x[0]->size(), n = x.size();
  CandidateRanker r;
  standardise(x, r.mean_, r.scale_);
  // Normal equations with the bias unpenalised.
  const int d1 = static_cast<int>(d + 1);
  cv::Mat a = cv::Mat::zeros(d1, d1, CV_64F), b = cv::Mat::zeros(d1, 1, CV_64F);
  std::vector<double> z(d + 1);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) z[j] = ((*x[i])[j] - r.mean_[j]) * r.scale_[j];
    z[d] = 1;
    for (size_t p = 0; p <= d; ++p) {
      b.at<double>(static_cast<int>(p)) += z[p] * y[i];
      for (size_t q = 0; q <= d; ++q) a.at<double>(static_cast<int>(p), static_cast<int>(q)) += z[p] * z[q];
    }
  }
  for (size_t j = 0; j < d; ++j) a.at<double>(static_cast<int>(j), static_cast<int>(j)) += o.l2 * n;
  a.at<double>(static_cast<int>(d), static_cast<int>(d)) += 1e-9;
  cv::Mat w;
  cv::solve(a, b, w, cv::DECOMP_CHOLESKY);
  r.weights_.assign(w.begin<double>(), w.end<double>());
  return r;
}

double CandidateRanker::score(const std::vector<double>& f) const {
  double s = weights_.back();
  for (size_t j = 0; j < f.size(); ++j) s += weights_[j] * (f[j] - mean_[j]) * scale_[j];
  return s;
}

std::pair<int, double> CandidateRanker::best(const std::vector<std::vector<double>>& features) const {
  int top = -1;
  double top_score = kNone;
  for (size_t i = 0; i < features.size(); ++i) {
    const double s = score(features[i]);
    if (top < 0 || s > top_score) top = static_cast<int>(i), top_score = s;
  }
  return {top, top_score};
}

int CandidateRanker::choose(const std::vector<std::vector<double>>& features) const {
  const auto [top, top_score] = best(features);
  return top >= 0 && top_score >= empty_below ? top : -1;
}

nlohmann::json CandidateRanker::to_json(const std::vector<std::string>& given) const {
  nlohmann::json w = nlohmann::json::object();
  const auto names = given.empty() ? ranker_feature_names(scale_.size()) : given;
  for (size_t j = 0; j < names.size() && j < scale_.size(); ++j) w[names[j]] = weights_[j] * scale_[j];
  return {{"weights_per_unit", w}, {"bias", weights_.empty() ? 0.0 : weights_.back()},
          {"empty_below", empty_below <= kNone ? nlohmann::json(nullptr) : nlohmann::json(empty_below)}};
}

double RankerLeaveOneOut::mean_dice() const {
  double m = 0;
  for (double d : dice) m += d / std::max<size_t>(1, dice.size());
  return m;
}

double RankerLeaveOneOut::mean_squared_error() const {
  const double n = std::accumulate(candidates.begin(), candidates.end(), 0.0);
  return n > 0 ? std::accumulate(squared_error.begin(), squared_error.end(), 0.0) / n : 0.0;
}

RankerLeaveOneOut rank_leave_one_out(const std::vector<RankedImage>& images, const RankerOptions& o) {
  RankerLeaveOneOut r;
  const size_t k = images.size();
  for (size_t i = 0; i < k; ++i) {
    std::vector<const RankedImage*> others;
    for (size_t j = 0; j < k; ++j)
      if (j != i) others.push_back(&images[j]);
    r.empty_truth.push_back(images[i].empty_truth);
    double best = kNone, dice = 0;
    int c = -1;
    bool any = false;
    for (const auto* im : others) any = any || !im->features.empty();
    double error = 0;
    if (any && !images[i].features.empty()) {
      const CandidateRanker ranker = CandidateRanker::train(others, o);
      std::tie(c, best) = ranker.best(images[i].features);  // a fresh ranker: no threshold yet
      dice = images[i].dice[c];
      for (size_t j = 0; j < images[i].features.size(); ++j)
        error += std::pow(ranker.score(images[i].features[j]) - images[i].iou[j], 2);
    }
    r.squared_error.push_back(error);
    r.candidates.push_back(any ? images[i].features.size() : 0);
    r.chosen.push_back(c);
    r.best_score.push_back(best);
    r.chosen_dice.push_back(dice);
  }
  auto dice_at = [&](double threshold, std::vector<double>* per) {
    double sum = 0;
    for (size_t i = 0; i < k; ++i) {
      const bool empty = r.best_score[i] < threshold;
      const double d = empty ? (r.empty_truth[i] ? 1.0 : 0.0) : r.chosen_dice[i];
      if (per) per->push_back(d);
      sum += d;
    }
    return sum;
  };
  // Never empty first: a threshold must do strictly better to be used.
  double best_sum = dice_at(kNone, nullptr);
  for (size_t i = 0; i < k && o.allow_empty; ++i) {
    const double t = std::nextafter(r.best_score[i], std::numeric_limits<double>::infinity());
    if (r.best_score[i] <= kNone) continue;
    const double s = dice_at(t, nullptr);
    if (s > best_sum + 1e-12) best_sum = s, r.threshold = t;
  }
  dice_at(r.threshold, &r.dice);
  return r;
}

PenaltyChoice choose_penalty(const std::vector<RankedImage>& images, const RankerOptions& options) {
  PenaltyChoice c;
  RankerOptions ro = options;
  if (ro.l2 > 0) {
    c.l2 = ro.l2;
    c.loo = rank_leave_one_out(images, ro);
    c.by_penalty.push_back(c.loo.mean_dice());
    c.error_by_penalty.push_back(c.loo.mean_squared_error());
    return c;
  }
  bool with_object = false, without = false;
  for (const auto& im : images) (im.empty_truth ? without : with_object) = true;
  c.rule = options.penalty_rule;
  if (c.rule == PenaltyRule::automatic)
    c.rule = options.allow_empty && with_object && without ? PenaltyRule::dice : PenaltyRule::error;
  double best = 0;  // the rule's loss: lower is better
  for (double p : ranker_penalties()) {
    ro.l2 = p;
    RankerLeaveOneOut l = rank_leave_one_out(images, ro);
    c.by_penalty.push_back(l.mean_dice());
    c.error_by_penalty.push_back(l.mean_squared_error());
    const double loss = c.rule == PenaltyRule::dice ? -l.mean_dice() : l.mean_squared_error();
    if (c.by_penalty.size() == 1 || loss <= best + 1e-12) {  // ties go to the stronger penalty
      best = loss;
      c.l2 = p;
      c.loo = std::move(l);
    }
  }
  return c;
}

std::vector<double> leave_one_candidate_out_errors(const RankedImage& image, double l2) {
  const size_t n = image.features.size();
  std::vector<double> errors;
  if (n < 2) return errors;
  std::vector<const std::vector<double>*> x;
  for (const auto& f : image.features) x.push_back(&f);
  std::vector<double> mean, scale;
  standardise(x, mean, scale);
  const int d = static_cast<int>(mean.size());
  cv::Mat z(static_cast<int>(n), d + 1, CV_64F), y(static_cast<int>(n), 1, CV_64F);
  for (int i = 0; i < static_cast<int>(n); ++i) {
    for (int j = 0; j < d; ++j) z.at<double>(i, j) = ((*x[i])[j] - mean[j]) * scale[j];
    z.at<double>(i, d) = 1;
    y.at<double>(i) = image.iou[i];
  }
  cv::Mat a = z.t() * z;  // as CandidateRanker::train: the penalty per candidate, the bias unpenalised
  for (int j = 0; j < d; ++j) a.at<double>(j, j) += l2 * static_cast<double>(n);
  a.at<double>(d, d) += 1e-9;
  cv::Mat inv;
  cv::invert(a, inv, cv::DECOMP_CHOLESKY);
  const cv::Mat fitted = z * (inv * (z.t() * y));
  for (int i = 0; i < static_cast<int>(n); ++i) {
    const cv::Mat zi = z.row(i);
    const double leverage = cv::Mat(zi * inv * zi.t()).at<double>(0);
    const double held_out = (y.at<double>(i) - fitted.at<double>(i)) / std::max(1 - leverage, 1e-9);
    errors.push_back(held_out * held_out);
  }
  return errors;
}

double one_standard_error_penalty(const std::vector<std::vector<double>>& errors) {
  const auto& p = ranker_penalties();
  auto mean = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  size_t best = 0;
  for (size_t i = 0; i < errors.size() && i < p.size(); ++i)
    if (mean(errors[i]) <= mean(errors[best]) + 1e-12) best = i;  // ties: the stronger
  const std::vector<double>& e = errors[best];
  const double m = mean(e);
  double variance = 0;
  for (double v : e) variance += (v - m) * (v - m) / std::max<size_t>(1, e.size());
  const double limit = m + std::sqrt(variance / std::max<size_t>(1, e.size())) + 1e-12;  // + one standard error
  size_t chosen = best;
  for (size_t i = best; i < errors.size() && i < p.size(); ++i)
    if (mean(errors[i]) <= limit) chosen = i;
  return p[chosen];
}

std::vector<int> choose_objects(const std::vector<double>& scores, const std::vector<MaskCandidate>& cands,
                                double ratio, double overlap, int max_objects) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  // stable: among equal scores the first candidate wins, as in CandidateRanker::best
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<int> taken;
  if (order.empty()) return taken;
  taken.push_back(order[0]);
  const double top = scores[order[0]];
  if (ratio <= 0 || top <= 0) return taken;
  cv::Mat covered = cands[order[0]].mask.clone();
  for (size_t j = 1; j < order.size() && static_cast<int>(taken.size()) < max_objects; ++j) {
    const int c = order[j];
    if (scores[c] < ratio * top) break;
    const int area = cv::countNonZero(cands[c].mask);
    if (area == 0 || cv::countNonZero(cands[c].mask & covered) > overlap * area) continue;
    taken.push_back(c);
    covered |= cands[c].mask;
  }
  return taken;
}

namespace {

// P(X <= k) for X ~ Binomial(n, p), summed in logs (n up to thousands).
double binomial_cdf(size_t k, size_t n, double p) {
  if (p <= 0) return 1;
  if (p >= 1) return k >= n ? 1 : 0;
  double sum = 0;
  for (size_t i = 0; i <= k && i <= n; ++i) {
    const double di = static_cast<double>(i), dn = static_cast<double>(n);
    sum += std::exp(std::lgamma(dn + 1) - std::lgamma(di + 1) - std::lgamma(dn - di + 1) + di * std::log(p) +
                    (dn - di) * std::log1p(-p));
  }
  return std::min(sum, 1.0);
}

// The p in [0, 1] where a function decreasing in p crosses `target` (bisection).
template <typename F>
double crossing(F decreasing, double target) {
  double lo = 0, hi = 1;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (decreasing(mid) > target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

std::pair<double, double> share_interval(size_t k, size_t n, double level) {
  if (n == 0 || k > n) throw std::invalid_argument("share_interval: needs 0 <= k <= n and n > 0");
  const double tail = 0.5 * (1 - level);
  // Lower: P(X >= k) = tail, i.e. P(X <= k - 1) = 1 - tail; upper: P(X <= k) = tail. Both CDFs fall as p grows.
  const double lower = k == 0 ? 0.0 : crossing([&](double p) { return binomial_cdf(k - 1, n, p); }, 1 - tail);
  const double upper = k == n ? 1.0 : crossing([&](double p) { return binomial_cdf(k, n, p); }, tail);
  return {lower, upper};
}

double fewer_in_supports_probability(size_t k, size_t n, size_t b, size_t m) {
  if (k > n || b > m) throw std::invalid_argument("fewer_in_supports_probability: needs k <= n and b <= m");
  const double total = static_cast<double>(n + m), without = static_cast<double>(k + b);
  auto log_choose = [](double a, double c) { return std::lgamma(a + 1) - std::lgamma(c + 1) - std::lgamma(a - c + 1); };
  double p = 0;
  for (size_t x = 0; x <= k; ++x) {  // x of the n supports among the `without` images
    const double xd = static_cast<double>(x), nd = static_cast<double>(n);
    if (without - xd < 0 || without - xd > total - nd) continue;  // the queries cannot hold the rest
    p += std::exp(log_choose(without, xd) + log_choose(total - without, nd - xd) - log_choose(total, nd));
  }
  return std::min(p, 1.0);
}

std::optional<MixtureThreshold> mixture_threshold(const std::vector<double>& query_scores,
                                                  const std::vector<double>& empty_supports,
                                                  const std::vector<double>& object_supports) {
  if (empty_supports.empty() || object_supports.empty() || query_scores.size() < 2) return std::nullopt;
  auto mean_of = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  std::vector<double> both = empty_supports;
  both.insert(both.end(), object_supports.begin(), object_supports.end());
  const double m = mean_of(both);
  double spread = 0;
  for (double x : both) spread += (x - m) * (x - m);
  spread = std::max(std::sqrt(spread / both.size()), 1e-6);
  double w[2] = {static_cast<double>(empty_supports.size()) / both.size(), 0};
  w[1] = 1 - w[0];
  double mu[2] = {mean_of(empty_supports), mean_of(object_supports)}, sd[2] = {spread, spread};
  auto density = [&](int k, double x) { return w[k] / sd[k] * std::exp(-0.5 * std::pow((x - mu[k]) / sd[k], 2)); };
  const size_t n = query_scores.size();
  std::vector<double> resp(n);  // each query's probability of the object component
  for (int it = 0; it < 200; ++it) {
    for (size_t i = 0; i < n; ++i) {
      const double a = density(0, query_scores[i]), b = density(1, query_scores[i]);
      resp[i] = a + b > 0 ? b / (a + b) : (query_scores[i] > (mu[0] + mu[1]) / 2 ? 1.0 : 0.0);
    }
    for (int k = 0; k < 2; ++k) {
      double sum = 0, first = 0, second = 0;
      for (size_t i = 0; i < n; ++i) {
        const double r = k ? resp[i] : 1 - resp[i];
        sum += r, first += r * query_scores[i];
      }
      if (sum < 1e-9) return std::nullopt;  // one component took every query
      mu[k] = first / sum;
      for (size_t i = 0; i < n; ++i) second += (k ? resp[i] : 1 - resp[i]) * std::pow(query_scores[i] - mu[k], 2);
      sd[k] = std::max(std::sqrt(second / sum), 1e-6);
      w[k] = sum / n;
    }
  }
  if (!(mu[0] < mu[1])) return std::nullopt;
  constexpr int kSteps = 4000;
  for (int s = 0; s <= kSteps; ++s) {
    const double x = mu[0] + (mu[1] - mu[0]) * s / kSteps;
    if (density(1, x) > density(0, x)) return MixtureThreshold{x, w[0], mu[0], sd[0], mu[1], sd[1]};
  }
  return std::nullopt;
}

}  // namespace sammpa
