// The `ustack` command line: one function per subcommand, registered on CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "ustack/host.h"

namespace ustack::tools {

/// The options that attach a command to a device (`--tap`, `--addr`, ...).
void add_attach_options(CLI::App& cmd, HostOptions& o);

void register_up(CLI::App& app);
void register_ping(CLI::App& app);
void register_nc(CLI::App& app);
void register_demo(CLI::App& app);
void register_script(CLI::App& app);
void register_ss(CLI::App& app);       // tools/ss.cc
void register_netstat(CLI::App& app);  // tools/show.cc, as the three below
void register_neigh(CLI::App& app);
void register_route(CLI::App& app);
void register_addr(CLI::App& app);
void register_capture(CLI::App& app);  // tools/capture.cc
void register_bench(CLI::App& app);    // tools/bench.cc
void register_bridge(CLI::App& app);   // tools/bridge.cc

/// Blocks SIGINT and SIGTERM in this thread and those it creates from now on;
/// wait_for_stop_signal() then returns the signal when one arrives.
void block_stop_signals();
int wait_for_stop_signal();
/// True if SIGINT or SIGTERM arrived (after block_stop_signals()); does not wait.
bool stop_requested();

}  // namespace ustack::tools
