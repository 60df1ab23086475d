// propagate_dataset as a library call: it leaves the process as it found it.
#include "io/dataset.h"
#include "io/phantom.h"
#include "itkMultiThreaderBase.h"
#include "propagate/propagate.h"
#include "test_support.h"

using namespace sammpa;

TEST(PropagateDataset, RestoresItksProcessWideThreadCount) {
  test::TempDir dir;
  write_phantom_dataset(dir / "data", {5, 64, 3});
  const Dataset ds = scan_dataset(dir / "data");
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(3);
  PropagateOptions o;
  o.threads = 1;
  const PropagationRun run = propagate_dataset(ds, {ds.samples[0].name}, o, dir / "out");
  EXPECT_EQ(run.queries.size(), 4u);
  EXPECT_EQ(itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads(), 3u);  // was left at 1
}
