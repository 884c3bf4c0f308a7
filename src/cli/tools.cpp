// podperf models list|show, podperf plot, the hidden `podperf docs man|bash-completion` (the man
// page and the completion script are generated from the command definitions), --csv and "did you
// mean" for command names.
#include "tools.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "podperf/io/json.hpp"
#include "podperf/io/suggest.hpp"
#include "table.hpp"
#include "json_output.hpp"

#ifndef PODPERF_PYTHON_EXECUTABLE
#define PODPERF_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

namespace podperf::cli {

namespace fs = std::filesystem;

namespace {
CLI::App* subcommand_named(CLI::App& app, const std::string& name) {
  for (CLI::App* s : app.get_subcommands({}))
    if (s->check_name(name)) return s;
  return nullptr;
}

std::vector<CLI::App*> visible_subcommands(CLI::App& app) {
  return app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); });
}

// Walks the command words of args (skipping options and their values); calls f(app, word, index)
// for each word that should name a subcommand of `app`, descending into known ones.
template <class F>
void walk_commands(CLI::App& app, const std::vector<std::string>& args, F f) {
  CLI::App* cur = &app;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& w = args[i];
    if (w == "--") return;
    if (w.size() > 1 && w[0] == '-') {
      if (w.find('=') != std::string::npos) continue;
      const CLI::Option* opt = nullptr;
      for (CLI::App* a = cur; a && !opt; a = a->get_parent()) opt = a->get_option_no_throw(w);
      if (opt && opt->get_type_size_min() > 0) ++i;  // the option's value
      continue;
    }
    if (cur->get_subcommands({}).empty()) return;  // a positional argument of a leaf command
    CLI::App* next = subcommand_named(*cur, w);
    if (!f(*cur, w, i) || !next) return;
    cur = next;
  }
}

const std::vector<std::vector<std::string>> kCsvCommands = {
    {"estimate"}, {"compare"}, {"validate"}, {"claims"}, {"hwdb", "list"}, {"models", "list"}};

std::string roff(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\\') o += "\\e";
    else if (c == '-') o += "\\-";
    else o += c;
  }
  if (!o.empty() && (o[0] == '.' || o[0] == '\'')) o = "\\&" + o;
  return o;
}

std::string option_words(const CLI::App& a) {
  std::string s;
  for (const CLI::Option* o : a.get_options()) {
    const std::string n = o->get_name();
    if (n.empty() || n[0] != '-') continue;
    s += (s.empty() ? "" : " ") + n;
  }
  return s;
}

void man_section(CLI::App& a, const std::string& path, std::ostream& os) {
  os << ".SS \"podperf " << roff(path) << "\"\n" << roff(a.get_description()) << "\n";
  for (const CLI::Option* o : a.get_options()) {
    const std::string n = o->get_name();
    if (n == "--help" || n.empty()) continue;
    os << ".TP\n.B " << roff(n[0] == '-' ? n : n) << (o->get_type_size_min() > 0 && n[0] == '-' ? " \\fIvalue\\fR" : "")
       << "\n" << roff(o->get_description().empty() ? (n[0] == '-' ? "" : "argument") : o->get_description()) << "\n";
  }
  for (CLI::App* s : visible_subcommands(a)) man_section(*s, path + " " + s->get_name(), os);
}

// Runs argv with the child's stdout copied to std::cout (so callers that redirect std::cout, such
// as the Python module, see it). Returns the exit code.
int run_program(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    std::fprintf(stderr, "podperf: cannot run %s\n", a[0]);
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) std::cout.write(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::string plot_script() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (const char* rel : {"../share/podperf/scripts/plot_sweep.py", "../scripts/plot_sweep.py"}) {
      const fs::path p = (exe.parent_path() / rel).lexically_normal();
      if (fs::is_regular_file(p)) return p.string();
    }
  return std::string(PODPERF_SOURCE_DIR) + "/scripts/plot_sweep.py";
}

void add_models_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* models = app.add_subcommand("models", "list and show the model architectures (configs/models)");
  models->require_subcommand(1);
  auto* l = models->add_subcommand("list", "every shipped model with its parameter counts");
  l->add_flag("--json", o->json, "machine-readable output");
  l->callback([&ctx, o] {
    const ModelDb& db = ctx.models();
    Json rows = Json::array();
    Table t({"id", "name", "total B params", "active B params", "architecture"});
    for (auto& [id, r] : db.records) {
      const Model m = db.model(id);
      const std::string arch = (m.moe() ? "MoE " + std::to_string(m.experts) + " experts, " +
                                              std::to_string(m.experts_per_token) + " per token"
                                        : std::string("dense")) +
                               ", " + std::to_string(m.layers) + " layers";
      Json j = Json::object();
      j["id"] = id;
      j["name"] = m.name;
      j["total_params_b"] = total_params(m) / 1e9;
      j["active_params_b"] = active_params(m) / 1e9;
      j["moe"] = m.moe();
      j["layers"] = m.layers;
      j["file"] = r.file;
      rows.push(j);
      t.row({id, m.name, num(total_params(m) / 1e9, 3), num(active_params(m) / 1e9, 3), arch});
    }
    if (o->json) {
      Json out = Json::object();
      out["models"] = rows;
      write_json(std::cout, out);
    } else {
      t.print(std::cout);
    }
  });
  auto* s = models->add_subcommand("show", "every field of one model: value, kind, source");
  s->add_option("id", o->id, "model id")->required();
  s->add_flag("--json", o->json, "machine-readable output");
  s->callback([&ctx, o] {
    const ModelDb& db = ctx.models();
    const Model m = db.model(o->id);  // unknown id: InputError with a suggestion
    const Record& r = db.records.at(o->id);
    if (o->json) {
      Json out = Json::object();
      out["id"] = r.id;
      out["file"] = r.file;
      for (auto& key : r.order) {
        if (auto t = r.text.find(key); t != r.text.end()) {
          out[key] = t->second;
          continue;
        }
        const Number& n = r.numbers.at(key);
        Json x = Json::object();
        x["value"] = n.value;
        if (n.has_range) {
          x["low"] = n.low;
          x["high"] = n.high;
        }
        x["kind"] = to_string(n.kind);
        x["source"] = n.source;
        out[key] = x;
      }
      out["total_params_b"] = total_params(m) / 1e9;
      out["active_params_b"] = active_params(m) / 1e9;
      write_json(std::cout, out);
      return;
    }
    std::cout << "model " << r.id << " (" << r.file << "): " << m.name << "\n  parameters: " << num(total_params(m) / 1e9, 4)
              << " B total, " << num(active_params(m) / 1e9, 4) << " B active per token\n";
    for (auto& key : r.order)
      if (auto t = r.text.find(key); t != r.text.end()) std::cout << "  " << key << ": " << t->second << '\n';
    Table t({"field", "value", "range", "kind", "source"});
    t.left_align_all();
    for (auto& key : r.order) {
      auto it = r.numbers.find(key);
      if (it == r.numbers.end()) continue;
      const Number& n = it->second;
      t.row({key, num(n.value, 6), n.has_range ? num(n.low, 6) + " - " + num(n.high, 6) : "", to_string(n.kind), n.source});
    }
    t.print(std::cout);
  });
}

void add_plot_command(CLI::App& app) {
  struct Opts {
    std::string h5, outdir = "plots";
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("plot", "plots of a sweep file (PNG): serving frontiers, cost against electricity price, training, facility power, supply");
  cmd->add_option("h5", o->h5, "sweep output (podperf sweep ... -o out.h5)")->required();
  cmd->add_option("--outdir", o->outdir, "directory for the PNG files")->capture_default_str();
  cmd->add_flag("--json", o->json, "list the files written as JSON");
  cmd->callback([o] {
    if (!fs::is_regular_file(o->h5)) throw InputError("flag h5: no such file '" + o->h5 + "'");
    {
      std::ifstream in(o->h5, std::ios::binary);
      char sig[8] = {};
      in.read(sig, 8);
      if (!in || std::string(sig, 8) != std::string("\x89HDF\r\n\x1a\n", 8))
        throw InputError(o->h5 + ": not an HDF5 file (podperf sweep ... -o out.h5 writes one)");
    }
    if (std::error_code ec; fs::exists(o->outdir, ec) && !fs::is_directory(o->outdir, ec))
      throw InputError("flag --outdir: '" + o->outdir + "' exists and is not a directory");
    std::vector<std::string> argv = {PODPERF_PYTHON_EXECUTABLE, plot_script(), o->h5, "--outdir", o->outdir};
    if (o->json) argv.push_back("--json");
    const int rc = run_program(argv);
    if (rc != 0) throw ExitCode{rc == 2 ? 2 : 1};
  });
}

void add_docs_command(CLI::App& app) {
  struct Opts {
    std::string what, out;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("docs", "write the man page or the bash completion (generated from the commands)");
  cmd->group("");  // hidden
  cmd->add_option("what", o->what, "man | bash-completion")->required()->check(CLI::IsMember({"man", "bash-completion"}));
  cmd->add_option("-o,--output", o->out, "output file (default: stdout)");
  cmd->callback([&app, o] {
    std::ostringstream s;
    if (o->what == "man") write_man_page(app, s);
    else write_bash_completion(app, s);
    if (o->out.empty()) std::cout << s.str();
    else write_file_atomic(o->out, s.str(), "--output");
  });
}
}  // namespace

void add_tool_commands(CLI::App& app, Context& ctx) {
  add_models_command(app, ctx);
  add_report_command(app, ctx);
  add_plot_command(app);
  add_docs_command(app);
}

bool take_csv_flag(CLI::App& app, std::vector<std::string>& args) {
  for (auto& path : kCsvCommands) {
    CLI::App* a = &app;
    for (auto& w : path) a = a ? subcommand_named(*a, w) : nullptr;
    if (a && !a->get_option_no_throw("--csv")) a->add_flag("--csv")->description("comma-separated values (the --json content as a table)");
  }
  std::vector<std::string> path;
  std::size_t last = 0;
  walk_commands(app, args, [&](CLI::App&, const std::string& w, std::size_t i) {
    path.push_back(w);
    last = i;
    return true;
  });
  if (std::find(kCsvCommands.begin(), kCsvCommands.end(), path) == kCsvCommands.end()) return false;
  bool csv = false;
  for (std::size_t i = last + 1; i < args.size(); ++i)
    if (args[i] == "--csv") {
      if (csv) {  // given twice: drop the repeat
        args.erase(args.begin() + static_cast<long>(i--));
        continue;
      }
      args[i] = "--json";
      csv = true;
    }
  if (csv)
    for (std::size_t i = last + 1, seen = 0; i < args.size(); ++i)
      if (args[i] == "--json" && seen++ > 0) args.erase(args.begin() + static_cast<long>(i--));
  return csv;
}

std::string unknown_command(CLI::App& app, const std::vector<std::string>& args) {
  std::string msg;
  walk_commands(app, args, [&](CLI::App& parent, const std::string& w, std::size_t) {
    if (subcommand_named(parent, w)) return true;
    std::vector<std::string> names;
    for (CLI::App* s : visible_subcommands(parent)) names.push_back(s->get_name());
    const std::string where = parent.get_parent() ? parent.get_name() + " " : "";
    std::string known;
    for (auto& n : names) known += (known.empty() ? "" : ", ") + n;
    const std::string hint = closest(w, names);
    msg = "podperf: unknown command '" + where + w + "'" + (hint.empty() ? "" : ": did you mean '" + hint + "'?") +
          " (commands: " + known + ")";
    return false;
  });
  return msg;
}

std::string unknown_flag(CLI::App& app, const std::vector<std::string>& args) {
  // The command the words name (the deepest known subcommand), then every long flag of args checked
  // against that command's options and those of the commands above it (global options fall through).
  CLI::App* cur = &app;
  std::string path;
  walk_commands(app, args, [&](CLI::App& parent, const std::string& w, std::size_t) {
    if (CLI::App* next = subcommand_named(parent, w)) {
      cur = next;
      path += (path.empty() ? "" : " ") + next->get_name();
      return true;
    }
    return false;
  });
  if (cur->get_allow_extras()) return "";  // a command that hands its other flags on checks them there
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) continue;
    const std::string flag = a.substr(0, a.find('='));
    bool known = false;
    std::vector<std::string> names;
    for (CLI::App* c = cur; c && !known; c = c->get_parent()) {
      if (c->get_option_no_throw(flag)) known = true;
      for (const CLI::Option* o : c->get_options())
        for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
    }
    if (known) continue;
    const std::string hint = closest(flag, names);
    return "podperf: " + (path.empty() ? std::string() : path + ": ") + "unknown flag '" + flag + "'" +
           (hint.empty() ? "" : ": did you mean '" + hint + "'?") + " (see --help)";
  }
  return "";
}

void write_man_page(CLI::App& app, std::ostream& os) {
  os << ".TH PODPERF 1 \"\" \"podperf " PODPERF_VERSION "\" \"User Commands\"\n"
     << ".SH NAME\npodperf \\- performance, power and cost model of AI supernodes\n"
     << ".SH SYNOPSIS\n.B podperf\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR]\n"
     << ".SH DESCRIPTION\n" << roff(app.get_description()) << "\n"
     << ".SH GLOBAL OPTIONS\n";
  for (const CLI::Option* o : app.get_options()) {
    const std::string n = o->get_name();
    if (n.empty()) continue;
    os << ".TP\n.B " << roff(n) << "\n" << roff(o->get_description()) << "\n";
  }
  os << ".SH COMMANDS\n";
  for (CLI::App* s : visible_subcommands(app)) man_section(*s, s->get_name(), os);
  os << ".SH EXIT STATUS\n0 success; 1 a failed check (e.g. a validation case outside its tolerance) or an internal "
        "error; 2 bad input, reported in one line naming the file, line and field, or the flag.\n"
     << ".SH FILES\n.TP\n.I share/podperf/hwdb\nthe hardware database (next to the binary's prefix; "
        "\\fB\\-\\-hwdb\\fR or \\fBPODPERF_HWDB\\fR override it)\n.TP\n.I share/podperf/configs\nmodels, sweeps and claims\n";
}

void write_bash_completion(CLI::App& app, std::ostream& os) {
  os << "# bash completion for podperf (generated by 'podperf docs bash-completion')\n"
        "_podperf() {\n"
        "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" key=\"\" i w n=0\n"
        "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "    w=\"${COMP_WORDS[i]}\"\n"
        "    [[ $w == -* ]] && continue\n"
        "    case \"$key\" in\n"
        "      \"\") key=\"$w\" ;;\n";
  std::string nested;
  for (CLI::App* s : visible_subcommands(app))
    if (!visible_subcommands(*s).empty()) nested += (nested.empty() ? "" : "|") + s->get_name();
  os << "      " << (nested.empty() ? "__none" : nested) << ") ((n == 0)) && key=\"$key $w\" && n=1 ;;\n"
     << "    esac\n  done\n  local words\n  case \"$key\" in\n";
  std::string top = option_words(app);
  for (CLI::App* s : visible_subcommands(app)) top += " " + s->get_name();
  os << "    \"\") words=\"" << top << "\" ;;\n";
  for (CLI::App* s : visible_subcommands(app)) {
    std::string w = option_words(*s);
    for (CLI::App* t : visible_subcommands(*s)) {
      w += " " + t->get_name();
      os << "    \"" << s->get_name() << " " << t->get_name() << "\") words=\"" << option_words(*t) << "\" ;;\n";
    }
    os << "    \"" << s->get_name() << "\") words=\"" << w << "\" ;;\n";
  }
  // Ids come from the hwdb and models the podperf being completed sees (its --hwdb and --configs defaults):
  // after an id-taking flag, and for the positional system ids of the commands that compare systems.
  os << "    *) words=\"\" ;;\n  esac\n"
        "  local prev=\"${COMP_WORDS[COMP_CWORD-1]}\" kind=\"\"\n"
        "  case \"$prev\" in\n"
        "    --system|--systems) kind=systems ;;\n    --chip) kind=chips ;;\n    --stack) kind=stacks ;;\n"
        "    --site|--sites) kind=sites ;;\n    --model) kind=models ;;\n"
        "  esac\n"
        "  if [[ -z $kind && $cur != -* && $prev != -* ]]; then\n"
        "    case \"$key\" in specs|power|compare|breakeven|report) kind=systems ;; \"hwdb show\") kind=any ;; esac\n"
        "  fi\n"
        "  if [[ -n $kind ]]; then\n"
        "    if [[ $kind == models ]]; then\n"
        "      words=$(\"${COMP_WORDS[0]}\" models list --csv 2>/dev/null | tail -n +2 | cut -d, -f1)\n"
        "    elif [[ $kind == any ]]; then\n"
        "      words=$(\"${COMP_WORDS[0]}\" hwdb list --csv 2>/dev/null | tail -n +2 | cut -d, -f2)\n"
        "    else\n"
        "      words=$(\"${COMP_WORDS[0]}\" hwdb list --kind \"$kind\" --csv 2>/dev/null | tail -n +2 | cut -d, -f2)\n"
        "    fi\n"
        "  fi\n"
        "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
        "  [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- \"$cur\"))\n"
        "}\ncomplete -F _podperf podperf\n";
}

}  // namespace podperf::cli
