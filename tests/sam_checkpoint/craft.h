#pragma once
// Builds checkpoint files byte by byte inside a test: a stored (uncompressed) zip archive, and the pickle of
// a state_dict in the shape torch.save writes it. Used to make hostile and inconsistent checkpoints that
// torch itself would never write.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sammpa::test {

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A zip archive of stored entries (CRCs are left at 0: the reader does not check them).
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, central;
  for (const auto& [name, data] : entries) {
    const uint64_t local = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);  // version needed
    put_le(out, 0, 2);   // flags
    put_le(out, 0, 2);   // stored
    put_le(out, 0, 4);   // time, date
    put_le(out, 0, 4);   // crc
    put_le(out, data.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out += name;
    out += data;
    put_le(central, 0x02014b50, 4);
    put_le(central, 20, 2);
    put_le(central, 20, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 2);
    put_le(central, 0, 4);
    put_le(central, 0, 4);
    put_le(central, data.size(), 4);
    put_le(central, data.size(), 4);
    put_le(central, name.size(), 2);
    put_le(central, 0, 2);  // extra
    put_le(central, 0, 2);  // comment
    put_le(central, 0, 2);  // disk
    put_le(central, 0, 2);  // internal attributes
    put_le(central, 0, 4);  // external attributes
    put_le(central, local, 4);
    central += name;
  }
  const uint64_t dir_offset = out.size();
  out += central;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, central.size(), 4);
  put_le(out, dir_offset, 4);
  put_le(out, 0, 2);
  return out;
}

// A checkpoint whose archive/data.pkl is `pickle` (plus any storages).
inline void write_checkpoint(const std::filesystem::path& file, const std::string& pickle,
                             const std::vector<std::pair<std::string, std::string>>& storages = {}) {
  std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", pickle}};
  for (const auto& [key, bytes] : storages) entries.emplace_back("archive/data/" + key, bytes);
  entries.emplace_back("archive/version", "3\n");
  const std::string zip = make_zip(entries);
  std::ofstream(file, std::ios::binary).write(zip.data(), static_cast<std::streamsize>(zip.size()));
}

// Pickle pieces (protocol 2).
inline std::string pkl_str(const std::string& s) {
  std::string out = "X";
  put_le(out, s.size(), 4);
  return out + s;
}
inline std::string pkl_int(int32_t v) {
  std::string out = "J";
  put_le(out, static_cast<uint32_t>(v), 4);
  return out;
}

// A state_dict of float32 tensors {key: (shape, values)} as torch.save writes it: one storage per tensor.
struct CraftedTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major, as many as the shape holds
};
inline void write_state_dict(const std::filesystem::path& file, const std::map<std::string, CraftedTensor>& sd) {
  std::string p = "\x80\x02}(";
  std::vector<std::pair<std::string, std::string>> storages;
  for (const auto& [key, t] : sd) {
    const std::string id = std::to_string(storages.size());
    p += pkl_str(key);
    p += "ctorch._utils\n_rebuild_tensor_v2\n(";
    p += '(';  // the persistent id: ('storage', FloatStorage, key, location, numel)
    p += pkl_str("storage");
    p += "ctorch\nFloatStorage\n";
    p += pkl_str(id);
    p += pkl_str("cpu");
    p += pkl_int(static_cast<int32_t>(t.values.size()));
    p += "tQ";
    p += pkl_int(0);
    std::string size = "(", stride = "(";
    int64_t step = 1;
    std::vector<int64_t> strides(t.shape.size());
    for (size_t i = t.shape.size(); i-- > 0;) {
      strides[i] = step;
      step *= t.shape[i];
    }
    for (size_t i = 0; i < t.shape.size(); ++i) {
      size += pkl_int(static_cast<int32_t>(t.shape[i]));
      stride += pkl_int(static_cast<int32_t>(strides[i]));
    }
    p += size + "t" + stride + "t";
    p += "\x89" "ccollections\nOrderedDict\n)R";  // requires_grad, backward hooks
    p += "tR";
    storages.emplace_back(id, std::string(reinterpret_cast<const char*>(t.values.data()),
                                          t.values.size() * sizeof(float)));
  }
  p += "u.";
  write_checkpoint(file, p, storages);
}

}  // namespace sammpa::test
