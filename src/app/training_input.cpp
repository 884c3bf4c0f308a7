// Training input: the pipeline schedule a request runs, and a plan its schedule cannot run as bad
// input (one line naming the flag, with the nearest valid value; exit 2).
#include <cstdlib>
#include <string>

#include "podperf/app/scenario.hpp"
#include "podperf/io/error.hpp"
#include "podperf/core/plan.hpp"

namespace podperf {

namespace {
std::string id_of(const PipeSchedule& s) { return std::string(s.id.data()); }

// The multiple of `unit` nearest to x (ties up), at least one unit.
long long nearest_multiple(long long x, long long unit) {
  const long long lo = x / unit * unit, hi = lo + unit;
  return lo >= unit && x - lo < hi - x ? lo : hi;
}
}  // namespace

PipeSchedule resolve_schedule(const System& sys, const WorkloadInputs& f, int interleave) {
  const Stack& st = sys.train_stack;
  if (!f.schedule.empty()) {
    for (int i = 0; i < st.n_schedules; ++i)
      if (id_of(st.schedules[static_cast<std::size_t>(i)]) == f.schedule) return st.schedules[static_cast<std::size_t>(i)];
    if (f.db) return f.db->schedule(f.schedule);  // unknown ids: the hwdb's message (known ids)
    throw InputError("flag --schedule: unknown schedule '" + f.schedule + "'");
  }
  if (const PipeSchedule* s = stack_schedule(st, interleave)) return *s;
  std::string names;
  for (int i = 0; i < st.n_schedules; ++i) names += (names.empty() ? "" : ", ") + id_of(st.schedules[static_cast<std::size_t>(i)]);
  throw InputError("flag --interleave: training stack '" + st.id + "' runs no interleaved schedule up to v = " +
                   std::to_string(interleave) + " (it runs " + (names.empty() ? "1f1b" : names) +
                   "); nearest valid value --interleave 1, or name one with --schedule");
}

void reject_schedule(const Model& m, const WorkloadInputs& f, const TrainingSetup& t) {
  const Parallel& p = t.par;
  const long long per = 1LL * p.dp * t.micro_batch;
  if (p.pp <= 0 || per <= 0 || t.global_batch % per != 0) return;  // the batch check names that
  const long long micro = t.global_batch / per;
  const int v = t.interleave;
  const PipeSchedule& s = t.schedule;
  if (check_schedule(s, p.pp, v, micro, m.layers) == Reason::ok) return;
  const std::string name = id_of(s);
  const std::string plan = " (" + name + ", PP" + std::to_string(p.pp) + ", v " + std::to_string(v) + ", " +
                           std::to_string(micro) + " micro-batches per pipeline = batch " + std::to_string(t.global_batch) +
                           " / (DP " + std::to_string(p.dp) + " x micro-batch " + std::to_string(t.micro_batch) + "))";
  const char* batch_flag = f.batch ? "--batch" : "--global-batch-tokens";
  if (p.pp <= 1)
    throw InputError("flag --interleave: model chunks need a pipeline (PP > 1)" + plan + "; nearest valid value --interleave 1");
  if (v > 1 && (!s.interleaved || v > s.max_interleave))
    throw InputError("flag --interleave: schedule " + name + " runs at most v = " + std::to_string(s.interleaved ? s.max_interleave : 1) +
                     plan + "; nearest valid value --interleave " + std::to_string(s.interleaved ? s.max_interleave : 1));
  if (s.layers_divide && (m.layers + s.layer_pad) % (1LL * p.pp * v) != 0) {
    // The nearest v (1 when none) whose chunks split the layers evenly.
    int best = 1;
    for (int w = 2; w <= s.max_interleave; ++w)
      if ((m.layers + s.layer_pad) % (1LL * p.pp * w) == 0 && std::abs(w - v) < std::abs(best - v)) best = w;
    throw InputError("flag --interleave: " + std::to_string(m.layers) + (s.layer_pad ? " + " + std::to_string(s.layer_pad) : "") +
                     " layers do not divide into PP " + std::to_string(p.pp) + " x v " + std::to_string(v) + " chunks" + plan +
                     "; nearest valid value --interleave " + std::to_string(best));
  }
  if (s.pp_even && p.pp % 2 != 0)
    throw InputError("flag --pp: schedule " + name + " needs an even number of stages" + plan + "; nearest valid value --pp " +
                     std::to_string(p.pp + 1));
  long long need = s.micro_multiple_pp ? p.pp : 1;
  if (s.micro_even) need = need % 2 == 0 ? need : need * 2;
  const long long least = static_cast<long long>(s.min_micro_per_pp * p.pp + 0.999999);
  long long fix = std::max(nearest_multiple(micro, need), (least + need - 1) / need * need);
  const std::string why = s.micro_multiple_pp ? "a multiple of PP " + std::to_string(p.pp)
                          : s.micro_even      ? "even and at least " + std::to_string(least)
                                              : "at least " + std::to_string(least);
  throw InputError(std::string("flag ") + (s.interleaved && v > 1 ? "--interleave" : batch_flag) + ": schedule " + name +
                   " needs the micro-batches per pipeline to be " + why + plan + "; nearest valid value " + batch_flag + " " +
                   (f.batch ? std::to_string(fix * per) : std::to_string(fix * per * t.seq)) +
                   (s.interleaved && v > 1 ? " (or --interleave 1)" : ""));
}

}  // namespace podperf
