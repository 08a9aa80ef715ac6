// import_redirect.hpp: point one loaded shared library's import of a
// function at another function, by rewriting that library's GOT slot.
//
// For a library that calls a costly function we cannot pass a better
// argument to, and that has no hook of its own (libopendkim decoding the
// same DKIM key for every message: dkim_key_decode_cache.hpp). Only the
// named library's calls change; the rest of the process, and the function
// itself, are untouched.
//
// The library is named by one of its own functions (the very object the
// caller links against, not another copy of the same file). Refuses
// (returns the reason, changes nothing) unless it imports the symbol
// through a JUMP_SLOT or GLOB_DAT relocation and every such slot still
// holds `expected` (the real function, as the dynamic linker resolved it).
// x86-64 and AArch64 only. Call it before other threads use the library;
// the slot is written with one aligned store, and a RELRO page is made
// writable only for that store. The library, and the one holding the
// replacement, are made never to unload first (RTLD_NODELETE): a slot must
// never point into unmapped code.
#pragma once

#include <string>

namespace sealpost {

struct ImportRedirect {
    bool done = false;
    int slots = 0;       // how many GOT slots now hold the replacement
    std::string reason;  // why not, when !done; a warning when done
};

ImportRedirect redirect_import(const void* function_of_library, const char* symbol, void* expected,
                               void* replacement);

}  // namespace sealpost
