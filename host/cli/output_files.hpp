#pragma once
#include <string>
#include <vector>

namespace gradflow::cli {

/// Throws io_error naming `option` when no file can be written at `path` (checked before a run): a
/// directory, something that is not a regular file, or a folder where files cannot be created.
void require_writable(const std::string& path, const char* option);

/// Writes `content` beside `path` and renames it into place, so a reader never sees half a file;
/// nothing is left behind when the write fails (a full disk, say).
void write_atomically(const std::string& path, const std::string& content, const char* option);

/// Now, as ISO 8601 UTC (for sidecars).
std::string utc_now();

/// `out` with its extension (if any) replaced by `suffix`: s.csv, ".trace.csv" → s.trace.csv.
std::string derived_path(const std::string& out, const std::string& suffix);

/// A file that a sidecar names, looked for beside `file` (the table the sidecar describes), as the
/// run wrote it whichever folder it ran in: the folder of `file`, the file name of `named`.
std::string beside(const std::string& file, const std::string& named);

/// The JSON sidecar beside a table or solution: `out` with its extension replaced by .json, or,
/// where that would be `out` itself (an output named *.json), with .sidecar.json.
std::string sidecar_path(const std::string& out);

/// The files a run reads and writes, each with the option that names it. check() refuses, before
/// any work, an output that is the same file as an input or as another output — by filesystem
/// identity (device and inode where the file exists, else the canonical path), so links and other
/// spellings of one path are caught — and any output that cannot be written. A sidecar is an output
/// that check() also refuses to put in place of another file: one that is not a gradflow sidecar,
/// or the sidecar of another run's results that are still there (s.csv and s.jsonl share s.json),
/// where none of the files it describes is one of this run's outputs.
class run_files {
public:
  void input(const std::string& path, const std::string& option);
  void output(const std::string& path, const std::string& option);
  void sidecar(const std::string& path);
  void check() const;
  const std::vector<std::pair<std::string, std::string>>& outputs() const { return outputs_; }

private:
  void check_sidecar(const std::string& path) const;

  std::vector<std::pair<std::string, std::string>> inputs_, outputs_;  ///< (path, option)
  std::vector<std::string> sidecars_;
};

}  // namespace gradflow::cli
