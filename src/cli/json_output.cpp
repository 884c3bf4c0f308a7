#include "json_output.hpp"

namespace podperf::cli {

JsonOutput*& json_output() {
  thread_local JsonOutput* current = nullptr;
  return current;
}

void write_json(std::ostream& os, const Json& j) {
  JsonOutput* o = json_output();
  if (!o || o->form == JsonOutput::Form::text) {
    os << j.dump() << '\n';
    return;
  }
  ++o->documents;
  if (o->form == JsonOutput::Form::csv) {
    os << j.csv();
    return;
  }
  if (o->documents == 1) {
    o->tree = j;
  } else {
    if (o->documents == 2) {
      Json both = Json::array();
      both.push(o->tree);
      o->tree = both;
    }
    o->tree.push(j);
  }
}

}  // namespace podperf::cli
