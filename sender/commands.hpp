// commands.hpp: the subcommands of the `sealpost` executable. Each takes the
// arguments after its name (argv[0] is the subcommand) and returns a
// sysexits exit code (errors.hpp). Commands that plugins offer
// (`collect`) are in plugin_commands.hpp.
#pragma once

namespace sealpost {

int run_send(int argc, char** argv);
int run_show(int argc, char** argv);
int run_certs(int argc, char** argv);
int run_serve(int argc, char** argv);
int run_store(int argc, char** argv);
int run_invite(int argc, char** argv);

}  // namespace sealpost
