// `ustack script FILE.pkt`: runs a packetdrill-style scenario script against one
// ustack Stack on a virtual clock. Exit 0 when every line holds, 1 on the first
// line that does not (file:line, expected and actual), 2 on a syntax error.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.h"
#include "script/parser.h"
#include "script/runner.h"

namespace ustack::tools {
namespace {

struct ScriptOptions {
  std::string file;
  std::optional<std::int64_t> tolerance_usecs;
  int wscale = 7;
  bool verbose = false;
  bool pacing = false;
};

int run_script(const ScriptOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    std::cerr << o.file << ": cannot open the script\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = script::parse(text.str(), o.file);
  if (!parsed) {
    std::cerr << o.file << ":" << parsed.error().line << ": syntax error: " << parsed.error().message << "\n";
    return 2;
  }
  for (const auto& note : parsed->notes) std::cerr << o.file << ": " << note << "\n";
  script::RunOptions ro;
  if (o.tolerance_usecs) ro.tolerance_usecs = *o.tolerance_usecs;
  ro.window_shift = o.wscale;
  ro.pacing = o.pacing;
  if (o.verbose) ro.trace = &std::cerr;
  const auto result = script::run(*parsed, ro);
  if (!result.ok) {
    std::cerr << result.message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void register_script(CLI::App& app) {
  auto o = std::make_shared<ScriptOptions>();
  auto* cmd = app.add_subcommand("script", "Run a packetdrill-style script against a ustack stack in virtual time");
  cmd->add_option("file", o->file, "The script (.pkt)")->required();
  cmd->add_option("--wscale", o->wscale,
                  "Window scale the stack offers (default 7, as Linux's default tcp_rmem; packetdrill's "
                  "defaults.sh gives 8)")
      ->check(CLI::Range(0, 14));
  cmd->add_option("--tolerance_usecs", o->tolerance_usecs,
                  "Timing tolerance in microseconds (default 4000; the script's own option line wins)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--pacing", o->pacing, "Pace data as ustack does by default (off: as Linux without the fq qdisc)");
  cmd->add_flag("-v,--verbose", o->verbose, "Print each event and packet as it happens");
  cmd->callback([o] { std::exit(run_script(*o)); });
}

}  // namespace ustack::tools
