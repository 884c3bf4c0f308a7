// Where a command's --json document goes: JSON text (the default), a CSV table (--csv), or handed
// over as the tree itself (the Python module). run_cli() chooses for the one command it runs.
#pragma once
#include <ostream>

#include "podperf/io/json.hpp"

namespace podperf::cli {

struct JsonOutput {
  enum class Form { text, csv, tree } form = Form::text;
  Json tree;          // Form::tree: the document (an array of them if a command writes more than one)
  int documents = 0;  // how many the command wrote
};

// The output of the command being run on this thread (null: JSON text). Set by run_cli() only.
JsonOutput*& json_output();

// Writes the document in the current form: every command's --json goes through here.
void write_json(std::ostream& os, const Json& j);

}  // namespace podperf::cli
