#include "propagate/similarity.h"

#include <cmath>

namespace sammpa {

double normalized_cross_correlation(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.size() == b.size() && a.type() == CV_32F && b.type() == CV_32F);
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  if (sa[0] < 1e-9 || sb[0] < 1e-9) return 0.0;
  cv::Mat da = a - ma[0], db = b - mb[0];
  return da.dot(db) / (static_cast<double>(a.total()) * sa[0] * sb[0]);
}

double dice(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.size() == b.size());
  cv::Mat fa = a != 0, fb = b != 0;
  double na = cv::countNonZero(fa), nb = cv::countNonZero(fb);
  if (na + nb == 0) return 1.0;
  cv::Mat both = fa & fb;
  return 2.0 * cv::countNonZero(both) / (na + nb);
}

}  // namespace sammpa
