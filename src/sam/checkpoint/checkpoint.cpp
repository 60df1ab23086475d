#include "sam/checkpoint/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "sam/checkpoint/pickle_reader.h"
#include "sam/checkpoint/zip_archive.h"

namespace sammpa::sam {

using detail::FormatError;
using detail::TensorRef;
using detail::Value;
using detail::ValuePtr;

namespace {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

struct DTypeInfo {
  DType dtype;
  int64_t bytes;
};

DTypeInfo dtype_of(const std::string& storage_type) {
  static const std::map<std::string, DTypeInfo> m = {
      {"FloatStorage", {DType::F32, 4}}, {"HalfStorage", {DType::F16, 2}}, {"BFloat16Storage", {DType::BF16, 2}},
      {"DoubleStorage", {DType::F64, 8}}, {"LongStorage", {DType::I64, 8}}, {"IntStorage", {DType::I32, 4}},
      {"ShortStorage", {DType::I16, 2}}, {"CharStorage", {DType::I8, 1}},  {"ByteStorage", {DType::U8, 1}},
      {"BoolStorage", {DType::Bool, 1}}};
  return m.at(storage_type);  // the unpickler admits only these names
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    int shift = 0;
    while (!(mant & 0x400u)) mant <<= 1, ++shift;
    bits = sign | ((113 - shift) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

float element(DType t, const uint8_t* p) {
  switch (t) {
    case DType::F32: return load<float>(p);
    case DType::F16: return half_to_float(load<uint16_t>(p));
    case DType::BF16: {
      const uint32_t bits = uint32_t{load<uint16_t>(p)} << 16;
      return load<float>(reinterpret_cast<const uint8_t*>(&bits));
    }
    case DType::F64: return static_cast<float>(load<double>(p));
    case DType::I64: return static_cast<float>(load<int64_t>(p));
    case DType::I32: return static_cast<float>(load<int32_t>(p));
    case DType::I16: return static_cast<float>(load<int16_t>(p));
    case DType::I8: return static_cast<float>(load<int8_t>(p));
    case DType::U8: return static_cast<float>(*p);
    case DType::Bool: return *p ? 1.0f : 0.0f;
  }
  return 0;
}

std::string shape_str(const Shape& s) { return Tensor::view(nullptr, s).shape_str(); }

// Tensors with string keys directly inside `dict`.
size_t count_tensors(const Value& dict) {
  size_t n = 0;
  for (const auto& [k, v] : dict.entries) n += k->kind == Value::Kind::String && v->kind == Value::Kind::Tensor;
  return n;
}

// The state_dict: the top-level dict if it holds tensors, else a dict of tensors one level down
// (training checkpoints such as {"model": state_dict, "optimizer": ..., "epoch": ...}).
const Value& find_state_dict(const ValuePtr& root) {
  if (root->kind != Value::Kind::Dict)
    throw FormatError(std::string("data.pkl holds a ") + detail::kind_name(root->kind) +
                      ", not a state_dict (a dict of tensors)");
  if (count_tensors(*root)) return *root;
  for (const char* preferred : {"model", "state_dict", "model_state_dict", "net", ""}) {
    for (const auto& [k, v] : root->entries) {
      if (k->kind != Value::Kind::String || v->kind != Value::Kind::Dict || !count_tensors(*v)) continue;
      if (*preferred == '\0' || k->s == preferred) return *v;
    }
  }
  throw FormatError("no tensors found: expected a state_dict (a dict of tensors) or a dict wrapping one, e.g. "
                    "{'model': state_dict}");
}

}  // namespace

struct Checkpoint::Impl {
  struct Stored {
    TensorRef ref;
    DTypeInfo type;
    const uint8_t* storage = nullptr;  // first byte of the storage's zip entry
  };
  std::filesystem::path file;
  std::shared_ptr<const detail::MappedFile> map;
  std::map<std::string, Stored> tensors;

  CheckpointError error(const std::string& problem) const { return CheckpointError(file.string() + ": " + problem); }
  const Stored& find(const std::string& key) const {
    auto it = tensors.find(key);
    if (it == tensors.end()) throw error("no tensor '" + key + "' in the checkpoint");
    return it->second;
  }
  void load(const detail::ZipArchive& zip);
};

namespace {

// Checks that the strided tensor lies inside its storage and the storage inside its entry.
void check_bounds(const std::string& key, const TensorRef& r, int64_t elem_bytes, uint64_t entry_bytes) {
  auto bad = [&](const std::string& why) { return FormatError("tensor '" + key + "': " + why); };
  constexpr int64_t kLimit = int64_t{1} << 50;
  if (r.storage.numel < 0 || r.storage.numel > kLimit / elem_bytes) throw bad("invalid storage size");
  if (static_cast<uint64_t>(r.storage.numel * elem_bytes) > entry_bytes)
    throw bad("storage of " + std::to_string(r.storage.numel) + " elements needs " +
              std::to_string(r.storage.numel * elem_bytes) + " bytes but its zip entry has " +
              std::to_string(entry_bytes) + " (truncated or corrupt file)");
  int64_t last = r.offset, numel = 1;
  if (r.offset < 0) throw bad("negative storage offset");
  for (size_t i = 0; i < r.size.size(); ++i) {
    if (r.size[i] < 0 || r.size[i] > kLimit || r.stride[i] < 0 || r.stride[i] > kLimit)
      throw bad("invalid size or stride");
    if (__builtin_mul_overflow(numel, r.size[i], &numel) || numel > kLimit) throw bad("too many elements");
    int64_t span = 0;
    if (r.size[i] > 0 &&
        (__builtin_mul_overflow(r.size[i] - 1, r.stride[i], &span) || __builtin_add_overflow(last, span, &last)))
      throw bad("size and stride overflow");
  }
  if (numel > 0 && last >= r.storage.numel)
    throw bad("elements up to " + std::to_string(last) + " lie outside its storage of " +
              std::to_string(r.storage.numel) + " (corrupt file)");
  // Stride-0 (expanded) tensors are copied on get(): refuse ones that would blow up far beyond their storage.
  constexpr int64_t kMaxExpandedElements = int64_t{1} << 28;
  if (numel > r.storage.numel && numel > kMaxExpandedElements)
    throw bad("expands " + std::to_string(r.storage.numel) + " stored elements to " + std::to_string(numel));
}

}  // namespace

void Checkpoint::Impl::load(const detail::ZipArchive& zip) {
  // torch.save writes <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version; the prefix is the file's stem.
  std::string prefix;
  for (const auto& [name, entry] : zip.entries()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (!prefix.empty()) throw FormatError("more than one data.pkl in the archive");
      prefix = name.substr(0, slash + 1);
    }
  }
  if (prefix.empty()) throw FormatError("no data.pkl in the zip archive (not a PyTorch checkpoint)");
  if (const auto* bo = zip.find(prefix + "byteorder")) {
    if (zip.bytes(prefix + "byteorder", *bo) != "little")
      throw FormatError("big-endian checkpoint; only little-endian checkpoints are supported");
  }
  const std::string pkl = prefix + "data.pkl";
  const ValuePtr root = detail::load_pickle(zip.bytes(pkl, *zip.find(pkl)));
  const Value& dict = find_state_dict(root);

  std::vector<std::pair<std::string, const Value*>> items;
  for (const auto& [k, v] : dict.entries)
    if (k->kind == Value::Kind::String && v->kind == Value::Kind::Tensor) items.emplace_back(k->s, v.get());
  // Models saved from nn.DataParallel prefix every key with "module.".
  bool all_module = true;
  for (const auto& [k, v] : items) all_module = all_module && k.rfind("module.", 0) == 0;

  for (auto& [key, v] : items) {
    const TensorRef& ref = v->tensor;
    const std::string name = prefix + "data/" + ref.storage.key;
    const detail::ZipEntry* entry = zip.find(name);
    if (!entry) throw FormatError("tensor '" + key + "': storage entry " + name + " missing from the archive");
    Stored s{ref, dtype_of(ref.storage.type), nullptr};
    check_bounds(key, ref, s.type.bytes, entry->size);
    s.storage = reinterpret_cast<const uint8_t*>(zip.bytes(name, *entry).data());
    tensors[all_module ? key.substr(7) : key] = std::move(s);
  }
}

Checkpoint Checkpoint::open(const std::filesystem::path& file) {
  Checkpoint c;
  c.impl_ = std::make_shared<Impl>();
  c.impl_->file = file;
  try {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) throw FormatError("no such file");
    if (!std::filesystem::is_regular_file(file, ec)) throw FormatError("not a file");
    c.impl_->map = std::make_shared<detail::MappedFile>(file);
    detail::ZipArchive zip(c.impl_->map);
    c.impl_->load(zip);
  } catch (const FormatError& e) {
    throw c.impl_->error(e.what());
  }
  return c;
}

const std::filesystem::path& Checkpoint::file() const { return impl_->file; }

bool Checkpoint::has(const std::string& key) const { return impl_->tensors.count(key) > 0; }

std::vector<std::string> Checkpoint::keys() const {
  std::vector<std::string> out;
  out.reserve(impl_->tensors.size());
  for (const auto& [k, v] : impl_->tensors) out.push_back(k);
  return out;
}

size_t Checkpoint::size() const { return impl_->tensors.size(); }

Shape Checkpoint::shape(const std::string& key) const { return impl_->find(key).ref.size; }

Tensor Checkpoint::get(const std::string& key) const {
  const Impl::Stored& s = impl_->find(key);
  const TensorRef& r = s.ref;
  const int rank = static_cast<int>(r.size.size());
  bool contiguous = true;
  int64_t expect = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (r.size[i] != 1 && r.stride[i] != expect) contiguous = false;
    expect *= r.size[i];
  }
  if (std::find(r.size.begin(), r.size.end(), 0) != r.size.end()) return Tensor(r.size);  // no elements
  const uint8_t* base = s.storage + r.offset * s.type.bytes;
  if (s.type.dtype == DType::F32 && contiguous && reinterpret_cast<uintptr_t>(base) % alignof(float) == 0)
    return Tensor::view(reinterpret_cast<const float*>(base), r.size, impl_->map);  // keeps the file mapped

  // Owned copy: walk the strided index space in row-major order, converting each element.
  Tensor out(r.size);
  float* dst = out.data();
  const int64_t n = out.numel();
  std::vector<int64_t> idx(rank, 0);
  int64_t src = 0;  // element offset from base
  for (int64_t k = 0; k < n; ++k) {
    dst[k] = element(s.type.dtype, base + src * s.type.bytes);
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < r.size[d]) {
        src += r.stride[d];
        break;
      }
      src -= (r.size[d] - 1) * r.stride[d];
      idx[d] = 0;
    }
  }
  return out;
}

Tensor Checkpoint::get(const std::string& key, const Shape& expected) const {
  const Shape& actual = impl_->find(key).ref.size;
  if (actual != expected)
    throw impl_->error("'" + key + "' has shape " + shape_str(actual) + " but the model expects " +
                       shape_str(expected));
  return get(key);
}

}  // namespace sammpa::sam
