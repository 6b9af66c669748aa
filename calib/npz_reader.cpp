#include "calib/npz_reader.h"

#include <algorithm>
#include <cstring>

#include <zlib.h>

#include "calib/calib_set.h"

namespace kiln::calib {
namespace {

constexpr uint32_t kEocdSig = 0x06054b50, kZip64EocdSig = 0x06064b50, kZip64LocatorSig = 0x07064b50,
                   kCentralSig = 0x02014b50, kLocalSig = 0x04034b50;

class Reader {
 public:
  Reader(const std::vector<uint8_t>& b, const std::string& what) : b_(b), what_(what) {}
  CalibError fail(const std::string& msg) const {
    return CalibError(what_ + ": corrupt .npz/zip archive: " + msg);
  }
  void need(uint64_t off, uint64_t n, const char* what) const {
    if (off > b_.size() || n > b_.size() - off)
      throw fail(std::string(what) + " lies outside the file (truncated?)");
  }
  uint16_t u16(uint64_t off) const {
    need(off, 2, "a header field");
    return uint16_t(b_[off] | (b_[off + 1] << 8));
  }
  uint32_t u32(uint64_t off) const {
    need(off, 4, "a header field");
    return uint32_t(b_[off]) | (uint32_t(b_[off + 1]) << 8) | (uint32_t(b_[off + 2]) << 16) |
           (uint32_t(b_[off + 3]) << 24);
  }
  uint64_t u64(uint64_t off) const { return uint64_t(u32(off)) | (uint64_t(u32(off + 4)) << 32); }
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  const std::vector<uint8_t>& b_;
  const std::string& what_;
};

std::vector<uint8_t> inflateRaw(const Reader& r, const uint8_t* src, uint64_t srcSize,
                                uint64_t outSize, const std::string& name) {
  // One spare byte detects data that inflates to more than the declared size. The buffer grows
  // with what zlib produces (from 1 MiB, doubling) instead of taking the declared size on trust:
  // a few hundred bytes declaring 4 GiB must not allocate 4 GiB.
  const uint64_t limit = outSize + 1;
  std::vector<uint8_t> out(size_t(std::min<uint64_t>(limit, uint64_t(1) << 20)));
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw r.fail("cannot initialise zlib");
  // zlib counts in uInt; feed and drain in chunks so that large members never truncate.
  const uint64_t chunk = uint64_t(1) << 30;
  uint64_t inGiven = 0, outGiven = 0;
  int ret = Z_OK;
  std::string problem;
  for (;;) {
    if (zs.avail_in == 0 && inGiven < srcSize) {
      const uint64_t n = std::min(chunk, srcSize - inGiven);
      zs.next_in = const_cast<Bytef*>(src + inGiven);
      zs.avail_in = uInt(n);
      inGiven += n;
    }
    if (zs.avail_out == 0) {
      if (outGiven == out.size()) {  // everything given so far is filled
        if (out.size() == limit) {
          problem = "inflates to more than the declared " + std::to_string(outSize) + " bytes";
          break;
        }
        out.resize(size_t(std::min<uint64_t>(limit, uint64_t(out.size()) * 2)));
      }
      const uint64_t n = std::min<uint64_t>(chunk, out.size() - outGiven);
      zs.next_out = out.data() + outGiven;
      zs.avail_out = uInt(n);
      outGiven += n;
    }
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) break;
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && zs.avail_out == 0) continue;  // needs more output space
    if (ret == Z_BUF_ERROR && zs.avail_in == 0 && inGiven == srcSize) {
      problem = "deflate data ends early (truncated)";
      break;
    }
    problem = std::string("deflate data is corrupt (") + (zs.msg ? zs.msg : "zlib error") + ")";
    break;
  }
  const uint64_t produced = zs.total_out;
  inflateEnd(&zs);
  if (problem.empty() && produced != outSize)
    problem = "inflates to " + std::to_string(produced) + " bytes, the directory says " +
              std::to_string(outSize);
  if (!problem.empty()) throw r.fail("member '" + name + "': " + problem);
  out.resize(size_t(outSize));
  return out;
}

}  // namespace

std::vector<ZipMember> readZip(const std::vector<uint8_t>& bytes, const std::string& what) {
  Reader r(bytes, what);
  if (bytes.size() < 22) throw r.fail("file is too short to be a zip archive");
  // The end-of-central-directory record is in the last 22 + 65535 bytes.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  for (uint64_t p = bytes.size() - 22 + 1; p-- > lowest;) {
    if (r.u32(p) == kEocdSig && p + 22 + r.u16(p + 20) == bytes.size()) {
      eocd = p;
      break;
    }
  }
  if (eocd == UINT64_MAX) throw r.fail("no end-of-central-directory record (truncated?)");
  uint64_t count = r.u16(eocd + 10), cdSize = r.u32(eocd + 12), cdOffset = r.u32(eocd + 16);
  if (count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
    if (eocd < 20 || r.u32(eocd - 20) != kZip64LocatorSig)
      throw r.fail("ZIP64 fields without a ZIP64 locator");
    const uint64_t z = r.u64(eocd - 20 + 8);
    if (r.u32(z) != kZip64EocdSig) throw r.fail("bad ZIP64 end-of-central-directory record");
    count = r.u64(z + 32);
    cdSize = r.u64(z + 40);
    cdOffset = r.u64(z + 48);
  }
  r.need(cdOffset, cdSize, "the central directory");
  // Each central entry takes at least 46 bytes, which bounds the count.
  if (count > cdSize / 46) throw r.fail("central directory too small for its entry count");

  std::vector<ZipMember> members;
  uint64_t p = cdOffset;
  for (uint64_t i = 0; i < count; ++i) {
    if (r.u32(p) != kCentralSig) throw r.fail("bad central directory entry signature");
    const uint16_t flags = r.u16(p + 8), method = r.u16(p + 10);
    const uint32_t crc = r.u32(p + 16);
    uint64_t csize = r.u32(p + 20), usize = r.u32(p + 24);
    const uint16_t nameLen = r.u16(p + 28), extraLen = r.u16(p + 30), commentLen = r.u16(p + 32);
    uint64_t localOff = r.u32(p + 42);
    r.need(p + 46, uint64_t(nameLen) + extraLen + commentLen, "a central directory entry");
    std::string name(reinterpret_cast<const char*>(bytes.data() + p + 46), nameLen);
    // ZIP64 extended information: the 0xFFFFFFFF fields, in order, are 64-bit here.
    for (uint64_t e = p + 46 + nameLen, end = e + extraLen; e + 4 <= end;) {
      const uint16_t id = r.u16(e), len = r.u16(e + 2);
      if (e + 4 + len > end) throw r.fail("bad extra field in entry '" + name + "'");
      if (id == 0x0001) {
        uint64_t f = e + 4, fend = f + len;
        auto take = [&](uint64_t& v) {
          if (v != 0xFFFFFFFF) return;
          if (f + 8 > fend) throw r.fail("short ZIP64 extra field in entry '" + name + "'");
          v = r.u64(f);
          f += 8;
        };
        take(usize);
        take(csize);
        take(localOff);
      }
      e += 4 + len;
    }
    p += 46 + uint64_t(nameLen) + extraLen + commentLen;
    if (!name.empty() && name.back() == '/') continue;  // directory entry
    if (flags & 1) throw r.fail("member '" + name + "' is encrypted");
    if (method != 0 && method != 8)
      throw r.fail("member '" + name + "' uses compression method " + std::to_string(method) +
                   "; only stored (0) and deflate (8) are supported");
    if (usize > kMaxZipMemberSize)
      throw r.fail("member '" + name + "' is " + std::to_string(usize) +
                   " bytes uncompressed, more than the supported " +
                   std::to_string(kMaxZipMemberSize));
    if (r.u32(localOff) != kLocalSig)
      throw r.fail("member '" + name + "': bad local header signature");
    const uint64_t dataOff = localOff + 30 + r.u16(localOff + 26) + r.u16(localOff + 28);
    r.need(dataOff, csize, ("member '" + name + "' data").c_str());
    const uint8_t* src = bytes.data() + dataOff;
    ZipMember m;
    m.name = name;
    if (method == 0) {
      if (csize != usize)
        throw r.fail("stored member '" + name + "' has different compressed and plain sizes");
      m.data.assign(src, src + csize);
    } else {
      m.data = inflateRaw(r, src, csize, usize, name);
    }
    // zlib's crc32 takes uInt lengths; go in chunks.
    uLong c = crc32(0L, Z_NULL, 0);
    for (uint64_t off = 0; off < m.data.size();) {
      const uint64_t n = std::min<uint64_t>(uint64_t(1) << 30, m.data.size() - off);
      c = crc32(c, m.data.data() + off, uInt(n));
      off += n;
    }
    if (uint32_t(c) != crc) throw r.fail("member '" + name + "' fails its CRC-32 check");
    members.push_back(std::move(m));
  }
  return members;
}

}  // namespace kiln::calib
