// Whole-file reads, atomic writes and directory creation, for every tool and format of Kiln.
//
// Writes go through a temporary file in the same directory and a rename, so a failure never
// leaves a half-written file at the final path. Errors are FileError with a message that names
// the file or directory.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::files {

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads a whole regular file; FileError naming the file when it cannot be read or is not a
/// regular file (a directory, FIFO, device or socket is refused without blocking on it).
std::vector<uint8_t> readFile(const std::string& path);
/// What a stat mode is, for messages: "a directory", "a FIFO (named pipe)", ...
std::string fileKindText(unsigned mode);
/// Reads a whole file as text.
std::string readText(const std::string& path);
/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
void writeFileAtomic(const std::string& path, const std::vector<uint8_t>& bytes);
/// writeFileAtomic of a string.
void writeTextAtomic(const std::string& path, const std::string& text);
/// Removes `path`; nothing when it does not exist. FileError naming it when it cannot be removed.
void removeFile(const std::string& path);
/// mkdir -p: creates `dir` and the directories leading to it; FileError naming the one that
/// cannot be created, or when `dir` exists and is not a directory.
void makeDirs(const std::string& dir);
/// Creates the directories leading to `path` (mkdir -p of its parent).
void makeParentDirs(const std::string& path);
/// The file name of `path` without its directory and its last extension ("a/b.onnx" -> "b").
std::string stem(const std::string& path);

}  // namespace kiln::files
