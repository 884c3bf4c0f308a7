// Per-run overrides of hwdb numbers: --set ENTITY.FIELD=VALUE (repeatable), and the site inputs
// --electricity-usd-kwh, --pue and --utilization applied to every site. Validated like the hwdb.
#include "context.hpp"
#include "podperf/io/suggest.hpp"
#include "podperf/io/hwdb.hpp"

namespace podperf::cli {

void add_override_options(CLI::App& app, Context& ctx) {
  app.add_option("--set", ctx.sets, "set one hwdb number for this run, ENTITY.FIELD=VALUE (e.g. ascend-910c.price_usd=20000); repeatable");
  app.add_option("--electricity-usd-kwh", ctx.electricity_usd_kwh, "electricity price at every site (USD/kWh)");
  app.add_option("--pue", ctx.pue, "power usage effectiveness at every site (>= 1)");
  app.add_option("--utilization", ctx.utilization,
                 "fraction of hours under load at every site, in (0, 1] (idle power the rest of the time)");
}

void Context::apply_overrides(Hwdb& db) const {
  auto every_site = [&](const std::string& v, const char* field, const char* flag) {
    if (v.empty()) return;
    for (auto& [id, r] : db.sites) apply_set(db, id + ".specs." + field + "=" + v, flag, v);
  };
  every_site(electricity_usd_kwh, "electricity_usd_kwh", "--electricity-usd-kwh");
  every_site(pue, "pue", "--pue");
  every_site(utilization, "utilization", "--utilization");
  for (auto& s : sets) apply_set(db, s, "--set");
}

std::string with_stack_flag(const Hwdb& db, const std::string& system_id, const std::string& stack) {
  if (stack.empty()) return system_id;
  if (!db.stacks.count(stack)) {
    std::vector<std::string> ids;
    std::string known;
    for (auto& [id, r] : db.stacks) {
      ids.push_back(id);
      known += (known.empty() ? "" : ", ") + id;
    }
    const std::string hint = closest(stack, ids);
    throw InputError("flag --stack: unknown stack '" + stack + "'" + (hint.empty() ? "" : ": did you mean '" + hint + "'?") +
                     " (known: " + known + ")");
  }
  if (system_id.find('@') != std::string::npos)
    throw InputError("flag --stack: system '" + system_id + "' already names a stack");
  return system_id + "@" + stack;
}


}  // namespace podperf::cli
