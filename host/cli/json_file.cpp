#include "json_file.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "../number_text.hpp"
#include "gradflow/error.hpp"

namespace gradflow::cli {
namespace {

/// The deepest nesting of arrays and objects in `text`, brackets inside strings not counted.
int nesting_depth(const std::string& text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

/// nlohmann's own document builder, refusing a number no double holds: nlohmann reads 1e-400 as 0
/// (1e999 it refuses itself). Its SAX parser calls number_float on this type, so this one runs.
class double_checking_builder : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
public:
  double_checking_builder(nlohmann::json& result, const std::string& source)
      : json_sax_dom_parser(result), source_(source) {}

  bool number_float(double value, const std::string& text) {
    const std::string beyond = detail::beyond_double(text);
    if (!beyond.empty())
      throw invalid_argument("cannot parse " + source_ + ": '" + text + "' " + beyond);
    return json_sax_dom_parser::number_float(value, text);
  }

private:
  const std::string& source_;
};

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  if (nesting_depth(text) > max_json_depth)
    throw invalid_argument("cannot parse " + source + ": nested deeper than " +
                           std::to_string(max_json_depth) + " levels");
  nlohmann::json result;
  double_checking_builder builder(result, source);
  try {
    nlohmann::json::sax_parse(text, &builder);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw invalid_argument("cannot parse " + source + ": " + e.what());
  }
  return result;
}

nlohmann::json read_json_file(const std::string& path, const std::string& option) {
  const std::string source = option + " '" + path + "'";
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw io_error("cannot read " + source + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("cannot read " + source + ": no such file or not readable");
  std::string text(max_json_bytes + 1, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (in.bad()) throw io_error("cannot read " + source + ": read error");
  text.resize(std::size_t(in.gcount()));
  if (text.size() > max_json_bytes)
    throw io_error("cannot read " + source + ": larger than " +
                   std::to_string(max_json_bytes >> 20) + " MiB");
  return parse_json_text(text, source);
}

}  // namespace gradflow::cli
