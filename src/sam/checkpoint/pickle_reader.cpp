#include "sam/checkpoint/pickle_reader.h"

#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "sam/checkpoint/zip_archive.h"  // FormatError

namespace sammpa::sam::detail {

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "global";
    case Value::Kind::Storage: return "storage";
    case Value::Kind::Tensor: return "tensor";
  }
  return "?";
}

namespace {

const std::set<std::string>& storage_types() {
  static const std::set<std::string> s = {"FloatStorage", "HalfStorage",  "BFloat16Storage", "DoubleStorage",
                                          "LongStorage",  "IntStorage",   "ShortStorage",    "CharStorage",
                                          "ByteStorage",  "BoolStorage"};
  return s;
}

bool allowed_global(const std::string& module, const std::string& name) {
  if (module == "collections" && name == "OrderedDict") return true;
  if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter")) return true;
  return module == "torch" && storage_types().count(name) > 0;
}

ValuePtr make(Value::Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  v->depth = k == Value::Kind::Tuple || k == Value::Kind::List || k == Value::Kind::Dict;
  return v;
}

ValuePtr make_int(int64_t i, Value::Kind k = Value::Kind::Int) {
  auto v = make(k);
  v->i = i;
  return v;
}

class Unpickler {
 public:
  explicit Unpickler(std::string_view data) : d_(data) {}

  ValuePtr run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;       // PROTO
        case 0x95: take(8); break;    // FRAME: a size hint only
        case '.':                     // STOP
          if (stack_.size() != 1) fail(at, "STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        case '(':
          count_object(at);
          marks_.push_back(stack_.size());
          break;
        case '}': push(make(Value::Kind::Dict), at); break;
        case ']': push(make(Value::Kind::List), at); break;
        case ')': push(make(Value::Kind::Tuple), at); break;
        case 'd': dict_from(pop_mark(at), at); break;
        case 'l': sequence(Value::Kind::List, pop_mark(at), at); break;
        case 't': sequence(Value::Kind::Tuple, pop_mark(at), at); break;
        case 0x85: sequence(Value::Kind::Tuple, pop_n(1, at), at); break;
        case 0x86: sequence(Value::Kind::Tuple, pop_n(2, at), at); break;
        case 0x87: sequence(Value::Kind::Tuple, pop_n(3, at), at); break;
        case 'X': string(u32()); break;     // BINUNICODE
        case 0x8c: string(u8()); break;     // SHORT_BINUNICODE
        case 0x8d: string(u64()); break;    // BINUNICODE8
        case 'B': string(u32()); break;     // BINBYTES
        case 'C': string(u8()); break;      // SHORT_BINBYTES
        case 'T': string(static_cast<uint32_t>(i32(at))); break;  // BINSTRING
        case 'U': string(u8()); break;      // SHORT_BINSTRING
        case 'J': push(make_int(i32(at)), at); break;
        case 'K': push(make_int(u8()), at); break;
        case 'M': push(make_int(u16()), at); break;
        case 0x8a: push(make_int(long1(at)), at); break;
        case 'G': push_float(); break;
        case 0x88: push(make_int(1, Value::Kind::Bool), at); break;
        case 0x89: push(make_int(0, Value::Kind::Bool), at); break;
        case 'N': push(make(Value::Kind::None), at); break;
        case 's': set_items(2, at); break;
        case 'u': set_items(stack_.size() - pop_mark_keep(at), at); break;
        case 'a': append(1, at); break;
        case 'e': append(stack_.size() - pop_mark_keep(at), at); break;
        case 'h': get(u8(), at); break;
        case 'j': get(u32(), at); break;
        case 'q': memo_put(u8(), at); break;
        case 'r': memo_put(u32(), at); break;
        case 0x94: memo_put(static_cast<uint32_t>(memo_.size()), at); break;  // MEMOIZE
        case 'c': {
          std::string module = line(at);  // two statements: argument evaluation order is unspecified
          global(module, line(at), at);
          break;
        }
        case 0x93: stack_global(at); break;
        case 'R': reduce(at); break;
        case 'b': build(at); break;
        case 'Q': persistent_id(at); break;
        case '0': pop(at); break;
        case '1': pop_mark(at); break;
        case '2': push(top(at), at); break;
        default: {
          char buf[64];
          std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x", op);
          fail(at, buf);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw FormatError("data.pkl: " + what + " at byte " + std::to_string(at));
  }

  const char* take(uint64_t n) {
    if (n > d_.size() - pos_) throw FormatError("data.pkl: truncated pickle (needs " + std::to_string(n) +
                                                " bytes at byte " + std::to_string(pos_) + ")");
    const char* p = d_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(int n) {
    const auto* p = reinterpret_cast<const uint8_t*>(take(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  int32_t i32(size_t) { return static_cast<int32_t>(u32()); }
  int64_t long1(size_t at) {
    const uint8_t n = u8();
    if (n > 8) fail(at, "integer of " + std::to_string(n) + " bytes is too large");
    uint64_t v = le(n);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  void push_float() {
    const auto* p = reinterpret_cast<const uint8_t*>(take(8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | p[i];  // big-endian
    auto v = make(Value::Kind::Float);
    std::memcpy(&v->f, &bits, 8);
    push(v);
  }
  void string(uint64_t n) {
    auto v = make(Value::Kind::String);
    v->s.assign(take(n), n);
    push(v);
  }
  std::string line(size_t at) {
    const size_t end = d_.find('\n', pos_);
    if (end == std::string_view::npos) fail(at, "unterminated GLOBAL");
    std::string s(d_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  // Every value pushed, mark and memo entry counts towards kMaxPickleObjects, which bounds the memory a
  // pickle can make the reader allocate (each opcode byte could otherwise create a value).
  void count_object(size_t at) {
    if (++objects_ > kMaxPickleObjects)
      fail(at, "more than " + std::to_string(kMaxPickleObjects) + " objects (not a state_dict)");
  }
  void push(ValuePtr v, size_t at) {
    count_object(at);
    stack_.push_back(std::move(v));
  }
  void push(ValuePtr v) { push(std::move(v), pos_); }
  void memo_put(uint32_t key, size_t at) {
    count_object(at);
    memo_[key] = top(at);
  }
  // Puts `child` into the container `parent`: the child is frozen from now on, and the parent's depth grows
  // to cover it. Refuses to change a frozen container or to put a container into itself, so no cycle can form
  // and depths stay exact.
  void adopt(Value& parent, const ValuePtr& child, size_t at) {
    if (child.get() == &parent) fail(at, std::string("a ") + kind_name(parent.kind) + " put into itself");
    child->contained = true;
    if (child->depth + 1 > parent.depth) parent.depth = child->depth + 1;
    if (parent.depth > kMaxPickleDepth)
      fail(at, "containers nested more than " + std::to_string(kMaxPickleDepth) + " deep (not a state_dict)");
  }
  void check_mutable(const Value& target, size_t at) const {
    if (target.contained)
      fail(at, std::string("a ") + kind_name(target.kind) + " changed after it was put into another container");
  }
  const ValuePtr& top(size_t at) const {
    if (stack_.size() <= floor()) fail(at, "stack underflow");
    return stack_.back();
  }
  ValuePtr pop(size_t at) {
    ValuePtr v = top(at);
    stack_.pop_back();
    return v;
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  size_t pop_mark_keep(size_t at) {  // removes the mark, returns where it was; the values stay on the stack
    if (marks_.empty()) fail(at, "no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  std::vector<ValuePtr> pop_mark(size_t at) {
    const size_t m = pop_mark_keep(at);
    std::vector<ValuePtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  std::vector<ValuePtr> pop_n(size_t n, size_t at) {
    if (stack_.size() < floor() + n) fail(at, "stack underflow");
    std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  void sequence(Value::Kind k, std::vector<ValuePtr> items, size_t at) {
    auto v = make(k);
    for (const auto& x : items) adopt(*v, x, at);
    v->items = std::move(items);
    push(v, at);
  }
  void dict_from(std::vector<ValuePtr> items, size_t at) {
    if (items.size() % 2) fail(at, "DICT with an odd number of values");
    auto v = make(Value::Kind::Dict);
    for (const auto& x : items) adopt(*v, x, at);
    for (size_t i = 0; i < items.size(); i += 2) v->entries.emplace_back(items[i], items[i + 1]);
    push(v, at);
  }
  // SETITEM(S): the `n` values above the target are key/value pairs.
  void set_items(size_t n, size_t at) {
    if (n % 2) fail(at, "SETITEMS with an odd number of values");
    if (stack_.size() < n + 1) fail(at, "stack underflow");
    const ValuePtr& target = stack_[stack_.size() - n - 1];
    if (target->kind != Value::Kind::Dict) fail(at, std::string("SETITEM on a ") + kind_name(target->kind));
    check_mutable(*target, at);
    for (size_t i = stack_.size() - n; i < stack_.size(); i += 2) {
      adopt(*target, stack_[i], at);
      adopt(*target, stack_[i + 1], at);
      target->entries.emplace_back(stack_[i], stack_[i + 1]);
    }
    stack_.resize(stack_.size() - n);
  }
  void append(size_t n, size_t at) {
    if (stack_.size() < n + 1) fail(at, "stack underflow");
    const ValuePtr& target = stack_[stack_.size() - n - 1];
    if (target->kind != Value::Kind::List) fail(at, std::string("APPEND on a ") + kind_name(target->kind));
    check_mutable(*target, at);
    for (auto it = stack_.end() - static_cast<std::ptrdiff_t>(n); it != stack_.end(); ++it) adopt(*target, *it, at);
    target->items.insert(target->items.end(), stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
  }
  void get(uint32_t index, size_t at) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(at, "memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }

  void global(const std::string& module, const std::string& name, size_t at) {
    if (!allowed_global(module, name))
      fail(at, "pickle refers to global '" + module + "." + name +
                   "', which is not allowed (a checkpoint may only hold tensors and plain containers)");
    auto v = make(Value::Kind::Global);
    v->s = module + "." + name;
    push(v);
  }
  void stack_global(size_t at) {
    ValuePtr name = pop(at), module = pop(at);
    if (module->kind != Value::Kind::String || name->kind != Value::Kind::String)
      fail(at, "STACK_GLOBAL needs two strings");
    global(module->s, name->s, at);
  }

  static int64_t as_int(const ValuePtr& v, const char* what, size_t at, const Unpickler& u) {
    if (v->kind != Value::Kind::Int) u.fail(at, std::string(what) + " is a " + kind_name(v->kind) + ", not an int");
    return v->i;
  }
  std::vector<int64_t> int_tuple(const ValuePtr& v, const char* what, size_t at) const {
    if (v->kind != Value::Kind::Tuple) fail(at, std::string(what) + " is a " + kind_name(v->kind) + ", not a tuple");
    std::vector<int64_t> out;
    for (const auto& x : v->items) out.push_back(as_int(x, what, at, *this));
    return out;
  }

  // Calls of allow-listed globals, interpreted instead of executed.
  void reduce(size_t at) {
    ValuePtr args = pop(at), fn = pop(at);
    if (fn->kind != Value::Kind::Global || args->kind != Value::Kind::Tuple)
      fail(at, std::string("REDUCE of a ") + kind_name(fn->kind));
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) fail(at, "OrderedDict called with arguments");
      push(make(Value::Kind::Dict), at);
    } else if (fn->s == "torch._utils._rebuild_tensor_v2") {
      if (a.size() < 4 || a[0]->kind != Value::Kind::Storage) fail(at, "malformed _rebuild_tensor_v2 call");
      auto t = make(Value::Kind::Tensor);
      t->tensor.storage = a[0]->storage;
      t->tensor.offset = as_int(a[1], "tensor storage offset", at, *this);
      t->tensor.size = int_tuple(a[2], "tensor size", at);
      t->tensor.stride = int_tuple(a[3], "tensor stride", at);
      if (t->tensor.size.size() != t->tensor.stride.size()) fail(at, "tensor size and stride differ in length");
      push(t);
    } else if (fn->s == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Value::Kind::Tensor) fail(at, "malformed _rebuild_parameter call");
      push(a[0]);
    } else {
      fail(at, "pickle calls '" + fn->s + "', which a checkpoint never needs");
    }
  }
  // BUILD sets object state; a state_dict's OrderedDict carries only version metadata, which is not needed.
  void build(size_t at) {
    pop(at);  // the state
    const ValuePtr& target = top(at);
    if (target->kind != Value::Kind::Dict && target->kind != Value::Kind::Tensor)
      fail(at, std::string("BUILD on a ") + kind_name(target->kind));
  }
  void persistent_id(size_t at) {
    ValuePtr pid = pop(at);
    const auto& a = pid->items;
    if (pid->kind != Value::Kind::Tuple || a.size() < 5 || a[0]->kind != Value::Kind::String ||
        a[0]->s != "storage" || a[1]->kind != Value::Kind::Global || a[2]->kind != Value::Kind::String)
      fail(at, "persistent id is not a ('storage', type, key, location, numel) tuple");
    auto v = make(Value::Kind::Storage);
    v->storage.type = a[1]->s.substr(a[1]->s.rfind('.') + 1);
    if (!storage_types().count(v->storage.type) || a[1]->s.rfind("torch.", 0) != 0)
      fail(at, "persistent id names '" + a[1]->s + "', not a storage type");
    v->storage.key = a[2]->s;
    v->storage.numel = as_int(a[4], "storage size", at, *this);
    push(v);
  }

  std::string_view d_;
  size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ValuePtr> memo_;
  size_t objects_ = 0;
};

}  // namespace

ValuePtr load_pickle(std::string_view data) { return Unpickler(data).run(); }

}  // namespace sammpa::sam::detail
