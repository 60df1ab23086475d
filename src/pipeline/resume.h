#pragma once
// Work records that let a killed `sammpa run` continue where it stopped (`--resume`).
//
// While a run works, its staging folder holds `.work/`: the key of the run (its options, its data set's files,
// the program), and one record per finished query and step, written after that query's output files. A run
// with the same key adopts the killed run's staging folder, keeps every query that has a record and computes
// the rest; the results equal an uninterrupted run's. `.work/` is removed before the output is committed.
#include <filesystem>
#include <optional>
#include <string>

#include "io/dataset.h"
#include "pipeline/segment_dataset.h"
#include "propagate/propagate.h"

namespace sammpa {

inline constexpr const char* kWorkFolder = ".work";

// Names, sizes and modification times of the data set's images and masks: a key changes when a file does.
std::string dataset_fingerprint(const Dataset& data);

// The key a staging folder was started with ("" when it has none).
std::string read_work_key(const std::filesystem::path& staging);
void write_work_key(const std::filesystem::path& staging, const std::string& key);

// Step 2: a query's float soft map (every mode: steps 3-4 read it back from there, so that memory does not
// grow with the number of queries) and, for registration, its record (its QueryResult); its coarse mask is
// coarse/NAME.png. save_propagated_soft comes first, save_propagated last.
void save_propagated_soft(const std::filesystem::path& staging, const std::string& name, const cv::Mat& soft);
// The coarse mask and float soft map saved for `name`; throws when they are missing or damaged.
CoarseInput load_coarse_input(const std::filesystem::path& staging, const std::string& name);
void save_propagated(const std::filesystem::path& staging, const QueryResult& query);
// A finished query's record, or nothing when its record, coarse mask or soft map is missing or damaged.
std::optional<QueryResult> load_propagated(const std::filesystem::path& staging, const std::string& name);

// Steps 3-4: the folder of per-query records that segment_dataset keeps (SegmentOptions::records).
std::filesystem::path segment_records(const std::filesystem::path& staging);

}  // namespace sammpa
