// `sammpa eval`: score predicted masks against the ground truth (Dice, IoU, HD95), query images only.
#include <cstdio>

#include "commands.h"
#include "common/error.h"
#include "common/output_dir.h"
#include "eval/evaluate.h"
#include "io/dataset.h"
#include "select/support_list.h"

namespace {
sammpa::cli::Command cmd(40, [](CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Score predicted masks (PRED/NAME.png) against the dataset's masks");
  static std::string data, out, support, group_by = "none";
  static sammpa::EvalOptions opt;
  static std::string pred;
  static bool overwrite = false;
  sub->add_option("-d,--data", data,
                  "dataset folder (images/, masks/; or images and NAME_mask files, any folders)")->required();
  sub->add_option("-p,--pred", pred, "folder of predicted masks, PRED/NAME.png")->required();
  sammpa::cli::add_support_option(sub, support, "never scored");
  sub->add_option("-o,--out", out,
                  "output folder: eval.json (per image and summaries) and eval.csv (per image), the names a run "
                  "folder uses")
      ->required();
  sub->add_option("--group-by", group_by, "none, or prefix: group by the name up to the first '_', ' ' or '('")
      ->check(CLI::IsMember({"none", "prefix"}))
      ->capture_default_str();
  sub->add_option("--exclude-groups", opt.exclude_groups,
                  "groups left out of the overall summary, still reported alone (e.g. normal)")
      ->delimiter(',');
  sub->add_flag("--missing-as-empty", opt.missing_as_empty, "score a query without prediction as an empty mask");
  sammpa::cli::add_threads_option(sub, opt.threads);
  sammpa::cli::add_overwrite_flag(sub, overwrite);
  sub->callback([] {
    opt.pred_dir = pred;
    opt.group_by_prefix = group_by == "prefix";
    if (!opt.exclude_groups.empty() && !opt.group_by_prefix)
      throw sammpa::InputError("--exclude-groups", "needs --group-by prefix");
    sammpa::OutputDir dir(sammpa::cli::output_folder(out), {overwrite, {data, pred}});
    if (!support.empty()) {  // a run's set-aside images (annotated, without object) are not queries either
      auto given = sammpa::read_support_list_with_alternates(support);
      opt.support = std::move(given.names);
      opt.support.insert(opt.support.end(), given.set_aside.begin(), given.set_aside.end());
    }
    auto dataset = sammpa::scan_dataset(data);
    auto report = sammpa::evaluate(dataset, opt);
    auto json = sammpa::report_json(report);
    json["dataset"] = std::filesystem::absolute(data).lexically_normal().string();
    json["pred"] = std::filesystem::absolute(pred).lexically_normal().string();
    json["support"] = opt.support;
    sammpa::write_text_atomic(dir.path("eval.csv"), sammpa::report_csv(report));
    sammpa::write_json_atomic(dir.path("eval.json"), json);
    dir.commit();
    std::printf("%s", sammpa::report_table(report).c_str());
    if (report.support_skipped) std::printf("(%zu support images not scored)\n", report.support_skipped);
    if (report.missing_predictions)
      std::printf("(%zu queries without prediction scored as empty)\n", report.missing_predictions);
  });
});
}  // namespace
