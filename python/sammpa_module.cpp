// The `sammpa` Python module: the C++ library from Python. SamPredictor and SamAutomaticMaskGenerator take the
// arguments of the official segment_anything classes and return numpy arrays of the same shapes and dtypes;
// run() is `sammpa run`. The GIL is released while the engine computes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "common/error.h"
#include "common/output_dir.h"
#include "io/dataset.h"
#include "pipeline/pipeline.h"
#include "propagate/propagate.h"
#include "report/report.h"
#include "sam/automatic_mask_generator.h"
#include "sam/predictor.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace sammpa;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using ByteArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

std::shared_ptr<const sam::SamModel> load_model(const std::optional<std::string>& checkpoint) {
  const fs::path file = checkpoint ? fs::path(*checkpoint) : sam::default_checkpoint();
  py::gil_scoped_release release;
  return sam::SamModel::load(file);
}

// An H x W x 3 (or H x W) uint8 image as an OpenCV matrix in RGB order (a copy: the GIL may then be released).
cv::Mat to_image(const ByteArray& a, const std::string& format) {
  if (a.ndim() != 2 && !(a.ndim() == 3 && a.shape(2) == 3))
    throw py::value_error("image must be H x W x 3 (or H x W) uint8");
  if (format != "RGB" && format != "BGR") throw py::value_error("image_format must be 'RGB' or 'BGR'");
  const int h = static_cast<int>(a.shape(0)), w = static_cast<int>(a.shape(1));
  cv::Mat m(h, w, a.ndim() == 3 ? CV_8UC3 : CV_8UC1);
  std::memcpy(m.data, a.data(), m.total() * m.elemSize());
  if (format == "BGR") {
    cv::Mat rgb;
    cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
    return rgb;
  }
  return m;
}

class PySamPredictor {
 public:
  explicit PySamPredictor(const std::optional<std::string>& checkpoint) : predictor_(load_model(checkpoint)) {}

  void set_image(const ByteArray& image, const std::string& image_format) {
    const cv::Mat m = to_image(image, image_format);
    py::gil_scoped_release release;
    predictor_.set_image(m);
  }

  py::tuple predict(const std::optional<FloatArray>& point_coords, const std::optional<py::array>& point_labels,
                    const std::optional<FloatArray>& box, const std::optional<FloatArray>& mask_input,
                    bool multimask_output, bool return_logits) const {
    if (!predictor_.has_image()) throw std::runtime_error("predict: no image yet (call set_image first)");
    sam::PromptSet p;
    if (point_coords) {
      if (!point_labels) throw py::value_error("point_coords need point_labels (1 foreground, 0 background)");
      const auto c = point_coords->unchecked<2>();
      const auto l = py::array_t<int, py::array::c_style | py::array::forcecast>(*point_labels);
      if (c.shape(1) != 2 || l.size() != c.shape(0))
        throw py::value_error("point_coords must be N x 2 and point_labels hold N labels");
      for (py::ssize_t i = 0; i < c.shape(0); ++i) {
        p.points.push_back({c(i, 0), c(i, 1)});
        p.labels.push_back(l.data()[i]);
      }
    }
    if (box) {
      if (box->size() != 4) throw py::value_error("box must hold 4 numbers (x0, y0, x1, y1)");
      p.box = std::array<float, 4>{box->data()[0], box->data()[1], box->data()[2], box->data()[3]};
    }
    if (mask_input) {
      const int64_t side = predictor_.embedding().frame.low_res_side();
      if (mask_input->size() != side * side) throw py::value_error("mask_input must be 1 x 256 x 256 low-res logits");
      p.mask_input = sam::Tensor({1, 1, side, side});
      std::memcpy(p.mask_input.data(), mask_input->data(), side * side * sizeof(float));
    }
    sam::Prediction r;
    {
      py::gil_scoped_release release;
      r = predictor_.predict(p, multimask_output ? sam::MaskOutput::multimask : sam::MaskOutput::single);
    }
    const auto m = static_cast<py::ssize_t>(r.iou.size());
    const py::ssize_t h = r.logits.dim(1), w = r.logits.dim(2), lh = r.low_res_logits.dim(2),
                      lw = r.low_res_logits.dim(3);
    py::array masks;
    if (return_logits) {
      FloatArray a({m, h, w});
      std::memcpy(a.mutable_data(), r.logits.data(), a.size() * sizeof(float));
      masks = a;
    } else {
      py::array_t<bool> a({m, h, w});
      bool* out = a.mutable_data();
      for (py::ssize_t i = 0; i < a.size(); ++i) out[i] = r.logits.data()[i] > 0.f;
      masks = a;
    }
    FloatArray iou({m});
    std::memcpy(iou.mutable_data(), r.iou.data(), m * sizeof(float));
    FloatArray low({m, lh, lw});
    std::memcpy(low.mutable_data(), r.low_res_logits.data(), low.size() * sizeof(float));
    return py::make_tuple(masks, iou, low);
  }

  FloatArray get_image_embedding() const {
    if (!predictor_.has_image()) throw std::runtime_error("get_image_embedding: no image yet (call set_image first)");
    const sam::Tensor& f = predictor_.embedding().features;
    std::vector<py::ssize_t> shape(f.shape().begin(), f.shape().end());
    FloatArray a(shape);
    std::memcpy(a.mutable_data(), f.data(), f.numel() * sizeof(float));
    return a;
  }

  sam::SamPredictor& predictor() { return predictor_; }

 private:
  sam::SamPredictor predictor_;
};

py::list sammpa_generate(PySamPredictor& p, const ByteArray& image, const sam::AutomaticMaskOptions& o) {
  const cv::Mat m = to_image(image, "RGB");
  std::vector<sam::AutomaticMask> masks;
  {
    py::gil_scoped_release release;
    p.predictor().set_image(m);
    masks = sam::generate_all_masks(p.predictor(), o);
  }
  py::list out;
  for (const auto& a : masks) {
    py::array_t<bool> seg({static_cast<py::ssize_t>(a.mask.rows), static_cast<py::ssize_t>(a.mask.cols)});
    for (py::ssize_t i = 0; i < seg.size(); ++i) seg.mutable_data()[i] = a.mask.data[i] != 0;
    py::dict d;
    d["segmentation"] = seg;
    d["area"] = a.area;
    d["bbox"] = py::make_tuple(a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]);
    d["predicted_iou"] = a.predicted_iou;
    d["point_coords"] = py::make_tuple(py::make_tuple(a.point[0], a.point[1]));
    d["stability_score"] = a.stability_score;
    d["crop_box"] = py::make_tuple(0, 0, m.cols, m.rows);
    out.append(d);
  }
  return out;
}

class PyMaskGenerator {
 public:
  PyMaskGenerator(py::object model, int points_per_side, int points_per_batch, float pred_iou_thresh,
                  float stability_score_thresh, float stability_score_offset, float box_nms_thresh) {
    if (py::isinstance<PySamPredictor>(model)) {
      predictor_ = model;  // shares the caller's predictor (and its model)
    } else {
      predictor_ = py::cast(PySamPredictor(model.is_none() ? std::nullopt
                                                           : std::optional<std::string>(py::str(model))));
    }
    o_.points_per_side = points_per_side;
    o_.points_per_batch = points_per_batch;
    o_.pred_iou_thresh = pred_iou_thresh;
    o_.stability_score_thresh = stability_score_thresh;
    o_.stability_score_offset = stability_score_offset;
    o_.box_nms_thresh = box_nms_thresh;
  }
  py::list generate(const ByteArray& image) { return sammpa_generate(predictor_.cast<PySamPredictor&>(), image, o_); }

 private:
  py::object predictor_;
  sam::AutomaticMaskOptions o_;
};

py::dict run(const std::string& data, const std::string& out, int k, const std::string& propagation,
             const std::string& strategy, uint64_t seed, const std::optional<std::string>& checkpoint,
             bool overwrite, int threads, const std::string& extra_checkpoint) {
  nlohmann::json result;
  {
    py::gil_scoped_release release;
    OutputDir dir(out, OutputPolicy{overwrite, {data}});
    const Dataset ds = scan_dataset(data);
    PipelineOptions o;
    o.select.k = k;
    o.select.seed = seed;
    o.select.strategy = parse_select_strategy(strategy);
    o.propagation = parse_propagation(propagation);
    o.propagate.threads = threads;
    o.select.threads = threads;
    if (checkpoint) o.segment.checkpoint = *checkpoint;
    o.segment.embeddings = dir.staging() / "embeddings";
    o.ranked.extra_checkpoint = resolve_extra_checkpoint(extra_checkpoint, o.segment.checkpoint);
    if (!o.ranked.extra_checkpoint.empty()) o.ranked.extra_embeddings = dir.staging() / "embeddings_extra";
    const PipelineResult r = run_pipeline(ds, o, dir.staging());
    write_report(dir.staging());
    dir.commit();
    result = {{"out", fs::absolute(out).lexically_normal().string()},
              {"support", r.selection.support},
              {"propagation", propagation_name(r.propagation_used)},
              {"queries", r.propagation.queries.size()}};
    if (r.final_scores) {
      result["dice"] = r.final_scores->overall.dice.mean;
      result["dice_coarse"] = r.coarse_scores->overall.dice.mean;
    }
  }
  return py::module_::import("json").attr("loads")(result.dump());
}

// Step 1 alone: the K most representative images' names (`sammpa select`).
std::vector<std::string> select_images(const std::string& data, int k, const std::string& strategy,
                                       uint64_t seed, int threads) {
  py::gil_scoped_release release;
  SelectOptions o;
  o.k = k;
  o.seed = seed;
  o.strategy = parse_select_strategy(strategy);
  o.threads = threads;
  return select_support(scan_dataset(data), o);
}

// Step 2 alone, by registration (`sammpa propagate`): OUT/coarse/, OUT/soft/, OUT/propagation.json; returns
// its summary (per-query seconds, and Dice when the queries have masks).
py::object propagate_images(const std::string& data, const std::vector<std::string>& support,
                            const std::string& out, bool overwrite, int threads) {
  nlohmann::json summary;
  {
    py::gil_scoped_release release;
    PropagateOptions o;
    o.threads = threads;
    o.score = true;
    const Dataset ds = scan_dataset(data);
    OutputDir dir(out, OutputPolicy{overwrite, {data}});
    const PropagationRun run = propagate_dataset(ds, support, o, dir.staging());
    const nlohmann::json j = to_json(run, o);
    write_json_atomic(dir.path("propagation.json"), j);
    dir.commit();
    summary = j["summary"];
    summary["out"] = fs::absolute(out).lexically_normal().string();
  }
  return py::module_::import("json").attr("loads")(summary.dump());
}

}  // namespace

PYBIND11_MODULE(sammpa, m) {
  m.doc() = "sammpa: few-shot segmentation of a folder of medical images (SAM-MPA) and a fast SAM engine";
  py::register_exception<InputError>(m, "InputError", PyExc_ValueError);
  py::register_exception<sam::CheckpointError>(m, "CheckpointError", PyExc_ValueError);

  py::class_<PySamPredictor>(m, "SamPredictor",
                             "Drop-in for segment_anything.SamPredictor: any official SAM, MedSAM, MobileSAM or "
                             "LiteMedSAM checkpoint (default: the cached MobileSAM one)")
      .def(py::init<const std::optional<std::string>&>(), py::arg("checkpoint") = py::none())
      .def("set_image", &PySamPredictor::set_image, py::arg("image"), py::arg("image_format") = "RGB",
           "Encode an H x W x 3 uint8 image (the costly step, done once per image)")
      .def("predict", &PySamPredictor::predict, py::arg("point_coords") = py::none(),
           py::arg("point_labels") = py::none(), py::arg("box") = py::none(), py::arg("mask_input") = py::none(),
           py::arg("multimask_output") = true, py::arg("return_logits") = false,
           "Masks (C x H x W), their predicted IoUs (C) and low-res logits (C x 256 x 256), as the official predictor")
      .def("get_image_embedding", &PySamPredictor::get_image_embedding)
      .def("reset_image", [](PySamPredictor& p) { p.predictor().reset_image(); })
      .def_property_readonly("is_image_set", [](PySamPredictor& p) { return p.predictor().has_image(); });

  py::class_<PyMaskGenerator>(m, "SamAutomaticMaskGenerator",
                              "Drop-in for segment_anything.SamAutomaticMaskGenerator (no crop layers): pass a "
                              "sammpa.SamPredictor, a checkpoint path, or None for the cached MobileSAM")
      .def(py::init<py::object, int, int, float, float, float, float>(), py::arg("model") = py::none(),
           py::arg("points_per_side") = 32, py::arg("points_per_batch") = 64, py::arg("pred_iou_thresh") = 0.88f,
           py::arg("stability_score_thresh") = 0.95f, py::arg("stability_score_offset") = 1.0f,
           py::arg("box_nms_thresh") = 0.7f)
      .def("generate", &PyMaskGenerator::generate, py::arg("image"),
           "One dict per mask: segmentation (H x W bool), area, bbox (XYWH), predicted_iou, point_coords, "
           "stability_score, crop_box");

  m.def("select", &select_images, py::arg("data"), py::arg("k") = SelectOptions{}.k, py::arg("strategy") = "kcentroid",
        py::arg("seed") = 0, py::arg("threads") = 0,
        "`sammpa select`: the names of the K images to annotate (the support set)");
  m.def("propagate", &propagate_images, py::arg("data"), py::arg("support"), py::arg("out"),
        py::arg("overwrite") = false, py::arg("threads") = 0,
        "`sammpa propagate` by registration: coarse masks and soft maps of every other image under OUT; returns "
        "the summary (seconds per query, Dice per fusion rule when the queries have masks)");
  m.def("run", &run, py::arg("data"), py::arg("out"), py::arg("k") = SelectOptions{}.k,
        py::arg("propagation") = "auto", py::arg("strategy") = "kcentroid", py::arg("seed") = 0,
        py::arg("checkpoint") = py::none(), py::arg("overwrite") = false, py::arg("threads") = 0,
        py::arg("extra_checkpoint") = "auto",
        "`sammpa run`: select K supports, propagate, prompt SAM and refine; writes OUT (masks/, report.html, ...) "
        "and returns the supports, the mode used and the Dice scores when ground truth exists. extra_checkpoint: "
        "as `--ranked-extra-checkpoint` (auto: LiteMedSAM where it is cached; none: without)");
}
