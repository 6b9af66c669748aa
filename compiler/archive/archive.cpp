#include "compiler/archive/archive.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/sha256.h"
#include "compiler/archive/integrity.h"
#include "compiler/archive/json_text.h"
#include "compiler/archive/tar.h"
#include "compiler/ir/verifier.h"

#ifndef KILN_VERSION_STRING
#define KILN_VERSION_STRING "0.0.0"
#endif

namespace kiln {

using nlohmann::json;

const char* toolVersion() {
  return KILN_VERSION_STRING;
}

namespace {

json attrToJson(const AttrValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return *p;
  return std::get<std::vector<double>>(v);
}

AttrValue attrFromJson(const json& j, const std::string& where) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    bool anyFloat = false;
    for (const auto& e : j) {
      if (!e.is_number()) throw Error(where + ": attribute lists must hold numbers");
      anyFloat |= e.is_number_float();
    }
    if (anyFloat) return j.get<std::vector<double>>();
    return j.get<std::vector<int64_t>>();
  }
  throw Error(where + ": unsupported attribute value " + jsonText(j));
}

std::string refName(const Graph& g, ValueRef v) {
  return g.at(v.layer).name + (v.port ? ":" + std::to_string(v.port) : "");
}

std::string paramFile(const Layer& l, const std::string& role) {
  return "params/" + l.name + "." + role + ".npy";
}

std::string qparamFile(const Layer& l, const std::string& role) {
  return "qparams/" + l.name + "." + role + ".npy";
}

npy::ElemType storageType(const IntTensor& t) {
  if (t.bits <= 8) return t.isSigned ? npy::ElemType::i8 : npy::ElemType::u8;
  if (t.bits <= 16) return t.isSigned ? npy::ElemType::i16 : npy::ElemType::u16;
  if (t.bits <= 32) return t.isSigned ? npy::ElemType::i32 : npy::ElemType::u32;
  return npy::ElemType::i64;
}

npy::Array intToNpy(const IntTensor& t) {
  npy::Array a;
  a.type = storageType(t);
  a.shape = t.shape;
  const size_t es = npy::elemSize(a.type);
  a.data.resize(t.data.size() * es);
  for (size_t i = 0; i < t.data.size(); ++i) {
    const int64_t v = t.data[i];
    std::memcpy(a.data.data() + i * es, &v, es);  // little-endian: the low bytes
  }
  return a;
}

IntTensor intFromNpy(const npy::Array& a, int bits, bool isSigned) {
  IntTensor t;
  t.shape = a.shape;
  t.bits = bits;
  t.isSigned = isSigned;
  const size_t es = npy::elemSize(a.type);
  t.data.resize(a.data.size() / es);
  for (size_t i = 0; i < t.data.size(); ++i) {
    const uint8_t* p = a.data.data() + i * es;
    switch (a.type) {
      case npy::ElemType::i8:
        t.data[i] = int8_t(p[0]);
        break;
      case npy::ElemType::u8:
        t.data[i] = p[0];
        break;
      case npy::ElemType::i16: {
        int16_t v;
        std::memcpy(&v, p, 2);
        t.data[i] = v;
        break;
      }
      case npy::ElemType::u16: {
        uint16_t v;
        std::memcpy(&v, p, 2);
        t.data[i] = v;
        break;
      }
      case npy::ElemType::i32: {
        int32_t v;
        std::memcpy(&v, p, 4);
        t.data[i] = v;
        break;
      }
      case npy::ElemType::u32: {
        uint32_t v;
        std::memcpy(&v, p, 4);
        t.data[i] = v;
        break;
      }
      default: {
        int64_t v;
        std::memcpy(&v, p, 8);
        t.data[i] = v;
        break;
      }
    }
  }
  return t;
}

json quantJson(const Layer& l) {
  json outs = json::array();
  for (const QuantInfo& q : l.outputQuant)
    outs.push_back({{"bits", q.bits},
                    {"scale", q.scale},
                    {"zero_point", q.zeroPoint},
                    {"min", q.min},
                    {"max", q.max}});
  json qp = json::object();
  for (const auto& [role, t] : l.qparams)
    qp[role] = {{"file", qparamFile(l, role)},
                {"shape", t.shape},
                {"bits", t.bits},
                {"signed", t.isSigned}};
  return {{"precision", l.precision},
          {"precision_source", l.precisionSource},
          {"outputs", outs},
          {"qparams", qp}};
}

json networkJson(const Graph& g, bool withQuant = true) {
  json layers = json::array();
  for (const Layer& l : g.layers) {
    json j;
    j["name"] = l.name;
    j["type"] = typeWord(l.type);
    j["original_names"] = l.originalNames;
    json ins = json::array();
    for (const ValueRef& v : l.inputs) ins.push_back(refName(g, v));
    j["inputs"] = ins;
    j["output_shapes"] = l.outputShapes;
    json attrs = json::object();
    for (const auto& [k, v] : l.attrs) attrs[k] = attrToJson(v);
    j["attrs"] = attrs;
    if (l.activation.kind != ActKind::None)
      j["activation"] = {{"kind", actName(l.activation.kind)},
                         {"alpha", l.activation.alpha},
                         {"beta", l.activation.beta}};
    json params = json::object();
    for (const auto& [role, t] : l.params)
      params[role] = {{"file", paramFile(l, role)}, {"shape", t.shape}};
    j["params"] = params;
    if (withQuant && !l.outputQuant.empty()) j["quant"] = quantJson(l);
    layers.push_back(j);
  }
  return {{"name", g.name}, {"layers", layers}};
}

npy::Array toNpy(const Tensor& t) {
  return npy::fromFloat(t.data, t.shape);
}

}  // namespace

std::string graphHash(const Graph& g) {
  Sha256 h;
  // The float network only: an optimized archive keeps the hash of the graph it was made from.
  h.update(jsonText(networkJson(g, false)));
  for (const Layer& l : g.layers)
    for (const auto& [role, t] : l.params) h.update(t.data.data(), t.data.size() * sizeof(float));
  return h.hexDigest();
}

std::vector<uint8_t> serializeArchive(const Archive& a) {
  const json net = networkJson(a.graph);
  json meta = {{"format", "kiln-archive"},         {"format_version", kArchiveFormatVersion},
               {"tool_version", toolVersion()},    {"net_name", a.graph.name},
               {"graph_hash", graphHash(a.graph)}, {"stages", a.stages}};
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  std::vector<tar::Entry> entries;
  entries.emplace_back("kiln.json", std::vector<uint8_t>{});  // written last, over the others
  entries.emplace_back("network.json", bytes(jsonText(net, 1) + "\n"));
  for (const Layer& l : a.graph.layers)
    for (const auto& [role, t] : l.params)
      entries.emplace_back(paramFile(l, role), npy::serialize(toNpy(t)));
  for (const Layer& l : a.graph.layers)
    for (const auto& [role, t] : l.qparams)
      entries.emplace_back(qparamFile(l, role), npy::serialize(intToNpy(t)));
  for (const auto& [name, data] : a.extra) entries.emplace_back(name, data);
  archive::seal(meta, entries);
  entries.front().second = bytes(jsonText(meta, 2) + "\n");
  return tar::write(entries);
}

void writeArchive(const std::string& path, const Archive& a) {
  try {
    files::writeFileAtomic(path, serializeArchive(a));
  } catch (const npy::NpyError& e) {
    throw Error(e.what());
  }
}

Archive readArchive(const std::string& path) {
  std::vector<uint8_t> bytes;
  try {
    bytes = files::readFile(path);
  } catch (const npy::NpyError& e) {
    throw Error(e.what());
  }
  std::map<std::string, std::vector<uint8_t>> files;
  for (auto& [name, data] : tar::read(bytes, path)) files[name] = std::move(data);
  auto text = [&](const std::string& name) {
    auto it = files.find(name);
    if (it == files.end()) throw Error(path + ": not a Kiln archive: it has no " + name);
    try {
      return json::parse(it->second.begin(), it->second.end());
    } catch (const std::exception& e) {
      throw Error(path + ": " + name + " is not valid JSON: " + e.what());
    }
  };
  Archive a;
  const json meta = text("kiln.json");
  try {
    if (meta.at("format") != "kiln-archive") throw Error("wrong format tag");
    const int version = meta.at("format_version").get<int>();
    if (version > kArchiveFormatVersion)
      throw Error(
          "archive format version " + std::to_string(version) + " is newer than this Kiln reads (" +
          std::to_string(kArchiveFormatVersion) + "); upgrade Kiln (archive written by Kiln " +
          meta.value("tool_version", std::string("?")) + ", this is " + toolVersion() + ")");
    a.toolVersion = meta.at("tool_version").get<std::string>();
    a.graphHash = meta.at("graph_hash").get<std::string>();
    a.stages = meta.at("stages").get<std::vector<std::string>>();
    // From version 2 on, every entry's bytes and kiln.json's own fields are checked before
    // anything else is read; version 1 archives (no hashes) rely on the graph hash below.
    if (version >= archive::kFirstSealedVersion) archive::checkSeal(meta, files, path);
  } catch (const Error& e) {
    if (std::string(e.what()).rfind(path + ": ", 0) == 0) throw;
    throw Error(path + ": kiln.json: " + e.what());
  } catch (const std::exception& e) {
    throw Error(path + ": kiln.json: missing or malformed field: " + e.what());
  }
  const json net = text("network.json");
  Graph& g = a.graph;
  std::map<std::string, int> byName;
  try {
    g.name = net.at("name").get<std::string>();
    for (const json& j : net.at("layers")) {
      Layer l;
      l.name = j.at("name").get<std::string>();
      const std::string where = path + ": layer " + l.name;
      if (!layerTypeFromWord(j.at("type").get<std::string>(), l.type))
        throw Error(where + ": unknown layer type '" + j.at("type").get<std::string>() + "'");
      l.originalNames = j.at("original_names").get<std::vector<std::string>>();
      for (const auto& in : j.at("inputs")) {
        std::string s = in.get<std::string>();
        ValueRef v;
        const size_t colon = s.rfind(':');
        if (colon != std::string::npos) {
          v.port = std::atoi(s.c_str() + colon + 1);
          s = s.substr(0, colon);
        }
        auto it = byName.find(s);
        if (it == byName.end()) throw Error(where + ": input '" + s + "' is not an earlier layer");
        v.layer = it->second;
        l.inputs.push_back(v);
      }
      l.outputShapes = j.at("output_shapes").get<std::vector<Shape>>();
      for (const auto& [k, v] : j.at("attrs").items()) l.attrs[k] = attrFromJson(v, where);
      if (j.contains("activation")) {
        const json& act = j["activation"];
        if (!actFromName(act.at("kind").get<std::string>(), l.activation.kind))
          throw Error(where + ": unknown activation '" + act.at("kind").get<std::string>() + "'");
        l.activation.alpha = act.at("alpha").get<double>();
        l.activation.beta = act.at("beta").get<double>();
      }
      for (const auto& [role, p] : j.at("params").items()) {
        const std::string file = p.at("file").get<std::string>();
        auto it = files.find(file);
        if (it == files.end()) throw Error(where + ": parameter file " + file + " is missing");
        npy::Array arr;
        try {
          arr = npy::parse(it->second, path + ":" + file);
        } catch (const npy::NpyError& e) {
          throw Error(e.what());
        }
        if (arr.type != npy::ElemType::f32) throw Error(where + ": " + file + " is not float32");
        Tensor t;
        t.shape = arr.shape;
        t.data.resize(arr.data.size() / 4);
        std::memcpy(t.data.data(), arr.data.data(), arr.data.size());
        if (t.shape != p.at("shape").get<Shape>())
          throw Error(where + ": " + file + " has shape " + shapeStr(t.shape) +
                      ", network.json says " + shapeStr(p.at("shape").get<Shape>()));
        l.params[role] = std::move(t);
        files.erase(it);
      }
      if (j.contains("quant")) {
        const json& q = j["quant"];
        l.precision = q.at("precision").get<std::string>();
        l.precisionSource = q.at("precision_source").get<std::string>();
        for (const json& o : q.at("outputs")) {
          QuantInfo qi;
          qi.bits = o.at("bits").get<int>();
          qi.scale = o.at("scale").get<double>();
          qi.zeroPoint = o.at("zero_point").get<int64_t>();
          qi.min = o.at("min").get<double>();
          qi.max = o.at("max").get<double>();
          if ((qi.bits != 8 && qi.bits != 16) || !(qi.scale > 0) || qi.zeroPoint < 0 ||
              qi.zeroPoint > qi.qmax())
            throw Error(where + ": invalid quantization of an output (bits " +
                        std::to_string(qi.bits) + ", scale " + std::to_string(qi.scale) +
                        ", zero point " + std::to_string(qi.zeroPoint) + ")");
          l.outputQuant.push_back(qi);
        }
        for (const auto& [role, p] : q.at("qparams").items()) {
          const std::string file = p.at("file").get<std::string>();
          auto it = files.find(file);
          if (it == files.end())
            throw Error(where + ": integer parameter file " + file + " is missing");
          npy::Array arr;
          try {
            arr = npy::parse(it->second, path + ":" + file);
          } catch (const npy::NpyError& e) {
            throw Error(e.what());
          }
          IntTensor t = intFromNpy(arr, p.at("bits").get<int>(), p.at("signed").get<bool>());
          if (t.shape != p.at("shape").get<Shape>() || storageType(t) != arr.type)
            throw Error(where + ": " + file + " does not match its description in network.json");
          l.qparams[role] = std::move(t);
          files.erase(it);
        }
      }
      const std::string layerName = l.name;
      byName[layerName] = g.add(std::move(l));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": network.json: missing or malformed field: " + e.what());
  }
  try {
    verify(g);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  const std::string hash = graphHash(g);
  if (hash != a.graphHash)
    throw Error(path + ": the graph hash in kiln.json (" + a.graphHash.substr(0, 12) +
                "…) does not match the contents (" + hash.substr(0, 12) +
                "…): the archive was modified or corrupted");
  files.erase("kiln.json");
  files.erase("network.json");
  a.extra = std::move(files);
  return a;
}

}  // namespace kiln
