// Steps 1-2 of SAM-MPA on the synthetic phantom set, through the installed library's headers and package.
#include <cstdio>
#include <filesystem>

#include <sammpa/io/dataset.h>
#include <sammpa/io/phantom.h>
#include <sammpa/pipeline/pipeline.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path root = argv[1];
  sammpa::PhantomOptions phantom;
  phantom.count = 8;
  phantom.size = 96;
  sammpa::write_phantom_dataset(root / "data", phantom);
  sammpa::PipelineOptions o;
  o.sam = false;  // no checkpoint needed
  o.select.k = 2;
  std::filesystem::create_directories(root / "out");
  const auto r = sammpa::run_pipeline(sammpa::scan_dataset(root / "data"), o, root / "out");
  const double dice = r.final_scores->overall.dice.mean;
  std::printf("coarse Dice on the phantom set: %.3f\n", dice);
  return dice > 0.8 ? 0 : 1;
}
