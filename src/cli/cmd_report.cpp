// podperf report A B [compare's flags] -o report.html: the HTML report (src/app/report.cpp) of the
// comparison compare's flags ask for, with the sensitivity tornado; --json prints the report's figures.
#include <algorithm>
#include <iostream>
#include <memory>

#include "compare_cli.hpp"
#include "podperf/app/report.hpp"
#include "table.hpp"
#include "tools.hpp"
#include "json_output.hpp"

namespace podperf::cli {

void add_report_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::shared_ptr<CompareSetup> setup = default_compare_setup();
    std::string out;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("report", "a self-contained HTML report of A against B (compare's flags after the two systems)");
  add_compare_flags(cmd, *o->setup);
  cmd->add_option("-o,--output", o->out, "HTML file to write")->required();
  cmd->callback([&ctx, o] {
    check_output_target(o->out, "--output");  // before any work: a device, FIFO or link is refused
    ReportRequest req;
    ReportViewSpec view;
    view.title = "As asked";
    view.spec = comparison_spec(ctx, *o->setup);
    view.spec.sensitivity = true;  // the page always draws the tornado
    req.views.push_back(view);
    // Systems of very different sizes: the page also offers the comparison at equal chip counts (the
    // smaller side scaled to whole systems, as --match chips), where totals would hide one side.
    if (view.spec.match.empty()) {
      const double ca = ctx.db().system(view.spec.a).chips, cb = ctx.db().system(view.spec.b).chips;
      if (std::max(ca, cb) > 2 * std::min(ca, cb)) {
        ReportViewSpec matched = view;
        matched.spec.match = "chips";
        matched.spec.sensitivity = false;
        matched.title = "Matched on chips";
        matched.note = "the smaller side scaled to the whole number of its systems nearest the other side's chip count";
        req.views.push_back(matched);
      }
    }
    req.cases = load_cases(default_cases_dir(ctx));
    req.residuals = load_residuals(residuals_file(default_cases_dir(ctx)));
    const Report rep = build_report(ctx.scenario_data(), req);
    const std::string html = report_html(rep);
    write_file_atomic(o->out, html, "--output");
    if (o->setup->json) {
      Json j = report_json(rep);
      j["output"] = o->out;
      j["bytes"] = static_cast<double>(html.size());
      write_json(std::cout, j);
    } else {
      std::cout << "wrote " << o->out << " (" << group_digits(std::to_string(html.size())) << " bytes)\n";
    }
  });
}

}  // namespace podperf::cli
