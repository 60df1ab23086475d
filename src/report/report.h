#pragma once
// A report of a `sammpa run` folder that a person opens from disk in any browser: report.html, one file with
// no script and no network, plus report/ with its thumbnails. It shows the run's settings and what
// self-configuration chose, the supports with their masks, the scores of the coarse and final masks per group,
// two plots drawn as inline SVG (final Dice per group, coarse against final per image), a gallery of every
// query's overlay (worst first when there is ground truth, least confident first otherwise) and the timings.
#include <filesystem>

namespace sammpa {

struct ReportSummary {
  size_t queries = 0;      // in the gallery
  size_t thumbnails = 0;   // images written under report/
  bool scored = false;     // eval.json was found
};

// Reads the run folder's JSON files (run.json is required: InputError otherwise) and overlays, and writes
// run/report.html (atomically) and run/report/*.jpg. The data set named in run.json gives the support images;
// when it has moved, the supports are listed without pictures.
ReportSummary write_report(const std::filesystem::path& run);

}  // namespace sammpa
