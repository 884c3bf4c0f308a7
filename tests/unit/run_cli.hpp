// Runs the podperf binary from tests and captures stdout, stderr and the exit code.
#pragma once
#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

struct CliResult {
  int rc = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is a shell-quoted argument string; `cwd` the directory to run in ("" = current).
inline CliResult run_podperf(const std::string& args, const std::string& cwd = "") {
  static int counter = 0;
  const std::string tag = "/tmp/podperf_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + std::string(PODPERF_BINARY) + " " + args +
                    " >" + tag + ".out 2>" + tag + ".err";
  CliResult r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(tag + ".out");
  r.err = slurp(tag + ".err");
  std::remove((tag + ".out").c_str());
  std::remove((tag + ".err").c_str());
  return r;
}

// Writes `text` to `path` (bytes as given).
inline void put(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}
// A file's bytes ("" when it cannot be read).
inline std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
// Runs a shell command line in `dir`: its exit status (-1 for a signal), stdout and stderr.
inline CliResult sh(const std::string& dir, const std::string& cmd) {
  const std::string err = dir + "/.stderr", out = dir + "/.stdout";
  const int st = std::system(("cd '" + dir + "' && " + cmd + " >" + out + " 2>" + err).c_str());
  CliResult r;
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}
