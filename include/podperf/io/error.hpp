// Input errors: one line naming file, line and field, e.g.
//   hwdb/chips/x.toml:12: field 'hbm_tb_s': must be > 0 (got -3)
// Every loader throws InputError; the CLI prints what() and exits with code 2.
#pragma once
#include <stdexcept>
#include <string>

namespace podperf {

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, int line, const std::string& field, const std::string& msg)
      : std::runtime_error(format(file, line, field, msg)) {}
  explicit InputError(const std::string& msg) : std::runtime_error(msg) {}

 private:
  static std::string format(const std::string& file, int line, const std::string& field,
                            const std::string& msg) {
    std::string s;
    s.append(file);
    if (line > 0) s.append(":").append(std::to_string(line));
    if (!s.empty()) s.append(": ");
    if (!field.empty()) s.append("field '").append(field).append("': ");
    s.append(msg);
    return s;
  }
};

}  // namespace podperf
