// import_redirect.hpp: point one loaded shared library's import of a
// function at another function, by rewriting that library's GOT slot.
//
// For a library that calls a costly function we cannot pass a better
// argument to, and that has no hook of its own (libopendkim decoding the
// same DKIM key for every message: dkim_key_decode_cache.hpp). Only the
// named library's calls change; the rest of the process, and the function
// itself, are untouched.
//
// Refuses (returns the reason, changes nothing) unless the library is
// loaded, imports the symbol through a JUMP_SLOT or GLOB_DAT relocation, and
// every such slot still holds `expected` (the real function, as the
// dynamic linker resolved it). x86-64 and AArch64 only. Call it before other
// threads use the library; the slot is written with one aligned store, and a
// RELRO page is made writable only for that store.
#pragma once

#include <string>

namespace sealpost {

struct ImportRedirect {
    bool done = false;
    int slots = 0;       // how many GOT slots now hold the replacement
    std::string reason;  // why not, when !done
};

// `library`: the start of the loaded file's name ("libopendkim.so").
ImportRedirect redirect_import(const char* library, const char* symbol, void* expected, void* replacement);

}  // namespace sealpost
