// The podperf command line as a function: argv (args[0] is the program) in, the command's output on
// `out`, messages on `err`, the exit code back (0 ok, 1 failure or bug, 2 bad input, 3 no result).
// Given `tree`, a command run with --json leaves its document there instead of writing its text to
// `out` (the Python module reads the tree; nothing parses the text back).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "podperf/io/json.hpp"

namespace podperf::cli {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, Json* tree = nullptr);

}  // namespace podperf::cli
