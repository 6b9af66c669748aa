// loadCalibSet: works out what PATH is (image/npy directory, per-input subdirectories, .npy,
// .npz or a single image) and assembles the samples.
#include "calib/calib_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "calib/image_decode.h"
#include "calib/image_layout.h"
#include "calib/npy_samples.h"
#include "calib/npz_reader.h"

namespace fs = std::filesystem;

namespace kiln::calib {
namespace {

enum class FileKind { image, npy, npz, other };

std::string lowerExt(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

FileKind kindOf(const fs::path& p) {
  const std::string e = lowerExt(p);
  if (e == ".jpg" || e == ".jpeg" || e == ".png") return FileKind::image;
  if (e == ".npy") return FileKind::npy;
  if (e == ".npz") return FileKind::npz;
  return FileKind::other;
}

std::string joinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string listNames(const std::vector<std::string>& names, size_t max = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < max; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > max) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}

std::string inputNames(const std::vector<InputSpec>& inputs) {
  std::vector<std::string> n;
  for (const auto& in : inputs) n.push_back(in.name);
  return listNames(n, 16);
}

std::vector<uint8_t> readBytes(const std::string& path) {
  try {
    return files::readFile(path);
  } catch (const npy::NpyError& e) {
    throw CalibError(e.what());
  }
}

std::vector<float> loadImageSample(const std::string& file, const InputSpec& input) {
  ImageLayout layout;
  try {
    layout = imageLayoutFor(input);
  } catch (const CalibError& e) {
    throw CalibError(file + ": " + e.what());
  }
  const Image img = decodeImage(readBytes(file), file);
  return imageToTensor(img, layout);
}

// The samples one directory provides for one input.
struct DirSamples {
  std::vector<std::vector<float>> samples;
  size_t available = 0, images = 0, npys = 0;
};

DirSamples loadDirForInput(const std::string& dir, const InputSpec& input, size_t maxSamples,
                           std::vector<std::string>& warnings) {
  std::vector<std::string> files, other, subdirs;
  std::set<std::string> otherExts;
  size_t images = 0, npys = 0;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw CalibError(dir + ": cannot read directory: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw CalibError(dir + ": cannot read directory: " + ec.message());
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden files, .DS_Store, ...
    std::error_code sec;
    if (it->is_directory(sec)) {
      subdirs.push_back(name);
      continue;
    }
    if (!it->is_regular_file(sec)) continue;
    switch (kindOf(it->path())) {
      case FileKind::image:
        ++images;
        files.push_back(name);
        break;
      case FileKind::npy:
        ++npys;
        files.push_back(name);
        break;
      default:
        other.push_back(name);
        otherExts.insert(lowerExt(it->path()).empty() ? "no extension" : lowerExt(it->path()));
    }
  }
  std::sort(files.begin(), files.end());
  std::sort(other.begin(), other.end());
  std::sort(subdirs.begin(), subdirs.end());
  const std::string types(otherExts.empty() ? "" : [&] {
    std::string t;
    for (const auto& e : otherExts) t += (t.empty() ? "" : ", ") + e;
    return t;
  }());
  if (files.empty()) {
    if (other.empty() && subdirs.empty())
      throw CalibError(dir +
                       ": the calibration directory is empty; expected JPEG/PNG images "
                       "(.jpg, .jpeg, .png) or .npy files");
    std::string found;
    if (!other.empty()) found = "files of unsupported types (" + types + "): " + listNames(other);
    if (!subdirs.empty())
      found += (found.empty() ? "" : "; ") + std::string("subdirectories: ") + listNames(subdirs) +
               " (files must be directly in the directory)";
    throw CalibError(dir +
                     ": no calibration files; expected JPEG/PNG images (.jpg, .jpeg, .png) "
                     "or .npy files, found " +
                     found);
  }
  if (!other.empty())
    warnings.push_back(dir + ": ignored " + std::to_string(other.size()) +
                       " file(s) of unsupported types (" + types + "): " + listNames(other));
  if (images > 0 && npys > 0)
    warnings.push_back(dir + ": the directory mixes " + std::to_string(images) + " images and " +
                       std::to_string(npys) +
                       " .npy files; both are used in file-name order, images as RGB values "
                       "0..255 and .npy data as stored");
  DirSamples out;
  out.available = files.size();
  const size_t take = maxSamples == 0 ? files.size() : std::min(files.size(), maxSamples);
  for (size_t i = 0; i < take; ++i) {
    const std::string file = joinPath(dir, files[i]);
    if (kindOf(files[i]) == FileKind::image) {
      out.samples.push_back(loadImageSample(file, input));
      ++out.images;
    } else {
      auto s = arrayToSamples(loadNpy(file), input, ArrayForm::oneSample, 1, file, nullptr);
      out.samples.push_back(std::move(s.at(0)));
      ++out.npys;
    }
  }
  return out;
}

std::string dirKindText(const DirSamples& d) {
  const bool one = d.images + d.npys == 1;
  if (d.npys == 0) return one ? "image" : "images";
  if (d.images == 0) return one ? ".npy sample" : ".npy samples";
  return "samples (" + std::to_string(d.images) + " images, " + std::to_string(d.npys) + " .npy)";
}

std::string imageNote(const InputSpec& in) {
  try {
    const ImageLayout l = imageLayoutFor(in);
    return "; images decoded to RGB, bilinear-resized to " + std::to_string(l.width) + "x" +
           std::to_string(l.height) + ", values 0..255, " + (l.nchw ? "NCHW" : "NHWC");
  } catch (const CalibError&) {
    return "";
  }
}

// Directory for one input, or one subdirectory per input.
void loadDirectory(const std::string& path, const std::vector<InputSpec>& inputs, size_t maxSamples,
                   CalibSet& set, size_t& available) {
  if (inputs.size() == 1) {
    DirSamples d = loadDirForInput(path, inputs[0], maxSamples, set.warnings);
    available = d.available;
    for (auto& s : d.samples) set.samples.push_back({std::move(s)});
    set.description = std::to_string(set.samples.size()) + " " + dirKindText(d) + " from " + path +
                      (d.images ? imageNote(inputs[0]) : "");
    return;
  }
  std::vector<DirSamples> per;
  for (const InputSpec& in : inputs) {
    const std::string sub = joinPath(path, in.name);
    std::error_code ec;
    if (!fs::is_directory(sub, ec))
      throw CalibError(path + ": the network has " + std::to_string(inputs.size()) + " inputs (" +
                       inputNames(inputs) +
                       "); a calibration directory must hold one subdirectory per input, named "
                       "after it; " +
                       sub + " is missing");
    per.push_back(loadDirForInput(sub, in, maxSamples, set.warnings));
  }
  for (size_t i = 1; i < per.size(); ++i)
    if (per[i].available != per[0].available)
      throw CalibError(path + ": every input needs the same number of samples, but " +
                       joinPath(path, inputs[0].name) + " has " + std::to_string(per[0].available) +
                       " and " + joinPath(path, inputs[i].name) + " has " +
                       std::to_string(per[i].available));
  available = per[0].available;
  for (size_t s = 0; s < per[0].samples.size(); ++s) {
    std::vector<std::vector<float>> sample;
    for (auto& p : per) sample.push_back(std::move(p.samples[s]));
    set.samples.push_back(std::move(sample));
  }
  set.description = std::to_string(set.samples.size()) + " samples from " + path +
                    " (one subdirectory per input)";
}

void loadNpyFile(const std::string& path, const std::vector<InputSpec>& inputs, size_t maxSamples,
                 CalibSet& set, size_t& available) {
  if (inputs.size() != 1)
    throw CalibError(path + ": a .npy file holds one array but the network has " +
                     std::to_string(inputs.size()) + " inputs (" + inputNames(inputs) +
                     "); use an .npz with one array per input, or a directory with one "
                     "subdirectory per input");
  for (auto& s :
       arrayToSamples(loadNpy(path), inputs[0], ArrayForm::stacked, maxSamples, path, &available))
    set.samples.push_back({std::move(s)});
  set.description = std::to_string(set.samples.size()) + " samples from " + path;
}

// Splits arrays[i] (labels[i] names it, after `path:`) into the samples of inputs[i]; every
// input needs the same number of samples. Returns the "label -> 'input'" mapping text.
std::string assembleSamples(const std::vector<npy::Array>& arrays,
                            const std::vector<std::string>& labels,
                            const std::vector<InputSpec>& inputs, size_t maxSamples,
                            const std::string& path, CalibSet& set, size_t& available) {
  std::vector<std::vector<std::vector<float>>> per;
  std::vector<size_t> counts;
  std::string mapping;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string what = path + ":" + labels[i];
    size_t n = 0;
    per.push_back(arrayToSamples(arrays[i], inputs[i], ArrayForm::stacked, maxSamples, what, &n));
    counts.push_back(n);
    mapping += (i ? ", " : "") + labels[i] + " -> '" + inputs[i].name + "'";
  }
  for (size_t i = 1; i < counts.size(); ++i)
    if (counts[i] != counts[0])
      throw CalibError(path + ": every input needs the same number of samples, but array '" +
                       labels[0] + "' holds " + std::to_string(counts[0]) + " and '" + labels[i] +
                       "' holds " + std::to_string(counts[i]));
  available = counts[0];
  for (size_t s = 0; s < per[0].size(); ++s) {
    std::vector<std::vector<float>> sample;
    for (auto& p : per) sample.push_back(std::move(p[s]));
    set.samples.push_back(std::move(sample));
  }
  return mapping;
}

void loadNpzFile(const std::string& path, const std::vector<InputSpec>& inputs, size_t maxSamples,
                 CalibSet& set, size_t& available) {
  std::vector<ZipMember> members = readZip(readBytes(path), path);
  std::vector<ZipMember*> arrays;
  std::vector<std::string> arrayNames;
  for (ZipMember& m : members)
    if (m.name.size() > 4 && lowerExt(m.name) == ".npy") {
      arrays.push_back(&m);
      arrayNames.push_back(m.name.substr(0, m.name.size() - 4));
    }
  if (arrays.empty())
    throw CalibError(path + ": the .npz holds no .npy arrays (" + std::to_string(members.size()) +
                     " other members)");
  // Match inputs to arrays by name when every input has one, else in order.
  std::vector<size_t> chosen;
  for (const InputSpec& in : inputs) {
    auto f = std::find(arrayNames.begin(), arrayNames.end(), in.name);
    if (f == arrayNames.end()) break;
    chosen.push_back(size_t(f - arrayNames.begin()));
  }
  if (chosen.size() != inputs.size()) {
    chosen.clear();
    if (arrays.size() < inputs.size())
      throw CalibError(path + ": the .npz holds " + std::to_string(arrays.size()) + " array(s) (" +
                       listNames(arrayNames) + ") but the network has " +
                       std::to_string(inputs.size()) + " inputs (" + inputNames(inputs) + ")");
    for (size_t i = 0; i < inputs.size(); ++i) chosen.push_back(i);
    if (inputs.size() > 1)
      set.warnings.push_back(path + ": array names (" + listNames(arrayNames) +
                             ") do not match the input names (" + inputNames(inputs) +
                             "); using the arrays in order");
  }
  std::vector<npy::Array> parsed;
  std::vector<std::string> labels;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ZipMember& m = *arrays[chosen[i]];
    labels.push_back(m.name);
    parsed.push_back(parseNpy(m.data, path + ":" + m.name));
    std::vector<uint8_t>().swap(m.data);  // release the raw bytes early
  }
  const std::string mapping =
      assembleSamples(parsed, labels, inputs, maxSamples, path, set, available);
  set.description =
      std::to_string(set.samples.size()) + " samples from " + path + " (" + mapping + ")";
}

// The checks and notes every calibration set gets: not empty, "(the first N of M)", a warning
// when it holds fewer samples than asked for.
void finish(const std::string& path, size_t maxSamples, size_t available, CalibSet& set) {
  if (set.samples.empty()) throw CalibError(path + ": the calibration set holds no samples");
  if (available > set.samples.size())
    set.description += " (the first " + std::to_string(set.samples.size()) + " of " +
                       std::to_string(available) + ")";
  if (maxSamples != 0 && set.samples.size() < maxSamples)
    set.warnings.push_back("only " + std::to_string(set.samples.size()) +
                           " calibration samples, fewer than the " + std::to_string(maxSamples) +
                           " requested; small calibration sets give poor ranges");
}

}  // namespace

CalibSet loadCalibSet(const std::string& path, const std::vector<InputSpec>& inputs,
                      size_t maxSamples) {
  checkInputs(inputs);
  CalibSet set;
  size_t available = 0;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw CalibError(path + ": calibration set not found (no such file or directory)");
  if (fs::is_directory(st)) {
    loadDirectory(path, inputs, maxSamples, set, available);
  } else {
    switch (kindOf(path)) {
      case FileKind::npy:
        loadNpyFile(path, inputs, maxSamples, set, available);
        break;
      case FileKind::npz:
        loadNpzFile(path, inputs, maxSamples, set, available);
        break;
      case FileKind::image:
        if (inputs.size() != 1)
          throw CalibError(path + ": a single image cannot feed a network with " +
                           std::to_string(inputs.size()) + " inputs (" + inputNames(inputs) + ")");
        set.samples.push_back({loadImageSample(path, inputs[0])});
        available = 1;
        set.description = "1 image from " + path + imageNote(inputs[0]);
        break;
      case FileKind::other:
        throw CalibError(path + ": unsupported calibration file type '" +
                         fs::path(path).extension().string() +
                         "'; expected a directory of JPEG/PNG images or .npy files, a .npy file, "
                         "an .npz file or a single .jpg/.jpeg/.png image");
    }
  }
  finish(path, maxSamples, available, set);
  return set;
}

CalibSet calibSetFromArrays(const std::vector<npy::Array>& arrays,
                            const std::vector<InputSpec>& inputs, size_t maxSamples,
                            const std::string& what) {
  checkInputs(inputs);
  if (arrays.size() != inputs.size())
    throw CalibError(what + ": " + std::to_string(arrays.size()) + " array(s) for a network with " +
                     std::to_string(inputs.size()) + " input(s) (" + inputNames(inputs) + ")");
  std::vector<std::string> labels;
  for (const InputSpec& in : inputs) labels.push_back(in.name);
  CalibSet set;
  size_t available = 0;
  assembleSamples(arrays, labels, inputs, maxSamples, what, set, available);
  set.description = std::to_string(set.samples.size()) + " samples from " + what;
  finish(what, maxSamples, available, set);
  return set;
}

}  // namespace kiln::calib
