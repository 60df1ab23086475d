#pragma once
// The subset of Python's pickle format that torch.save uses for a state_dict (protocol 2, plus the few
// protocol-4 opcodes newer writers emit). Nothing is executed: the only callables a pickle may name are a
// fixed allow-list (OrderedDict, torch's tensor/parameter rebuild functions, the typed storage classes), and
// calling them builds plain descriptions (a dict, a TensorRef) instead. Anything else is a FormatError naming
// the opcode or global.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sammpa::sam::detail {

// A storage named by a persistent id: ('storage', torch.<Type>Storage, key, location, numel).
struct StorageRef {
  std::string type;  // "FloatStorage", "HalfStorage", ...
  std::string key;   // zip entry <prefix>/data/<key>
  int64_t numel = 0;
};

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...): a strided view of a storage.
struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size, stride;
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;   // Bool, Int
  double f = 0;    // Float
  std::string s;   // String (also bytes); Global as "module.name"
  std::vector<ValuePtr> items;                          // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;   // Dict, in insertion order
  StorageRef storage;                                   // Storage
  TensorRef tensor;                                     // Tensor
  // Nesting below this value: 0 for a scalar, 1 + the deepest item for a container (bounded, see below).
  uint32_t depth = 0;
  // Set once the value has been put into a container; such a value can no longer be changed, so depths
  // stay exact and no value can end up inside itself.
  bool contained = false;
};

const char* kind_name(Value::Kind k);

// Limits that keep a hostile pickle from exhausting the stack or memory. A real state_dict nests about 4
// deep and needs some 16,000 objects (MobileSAM) to 50,000 (SAM ViT-H).
inline constexpr uint32_t kMaxPickleDepth = 64;
inline constexpr size_t kMaxPickleObjects = size_t{1} << 19;  // values pushed + marks + memo entries

// Unpickles `data`; throws FormatError on anything outside the supported subset or on malformed input, and
// when the limits above are exceeded.
ValuePtr load_pickle(std::string_view data);

}  // namespace sammpa::sam::detail
