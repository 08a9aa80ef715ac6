// crash_point.hpp: failure injection for crash-consistency tests. Code that
// must survive a crash at any moment calls crash_point::hit() between the
// steps of its commit protocol (atomic_file.cpp, cert_store_files.cpp put).
// Disarmed -- always, outside tests -- a hit costs one relaxed atomic load.
// A test forks a child, arms it with arm(n), runs the operation, and the
// n-th hit ends the child with _exit(kExitCode): exactly as a kill -9 at
// that point (no destructors, no flush, locks released by the kernel). The
// parent then reopens what the child wrote and checks it; stepping n from
// 1 until the operation completes visits every window, including the ones a
// later change adds.
#pragma once

#include <string>
#include <vector>

namespace sealpost::crash_point {

inline constexpr int kExitCode = 86;

// The n-th hit() from now on _exit()s the process; 0 disarms.
void arm(int n);

// One step of a commit protocol is done; `where` (a string literal) names
// the window that starts here.
void hit(const char* where);

// The names of the hits since the last arm() (recorded only while armed):
// a test arms a large n in-process to learn the windows it will step
// through, and names the window in its failure messages.
std::vector<std::string> trail();

}  // namespace sealpost::crash_point
