// The podperf command line as a function: argv (args[0] is the program) in, the command's output on
// `out`, messages on `err`, the exit code back (0 ok, 1 failure or bug, 2 bad input).
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace podperf::cli {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace podperf::cli
