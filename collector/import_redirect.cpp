// import_redirect.cpp: the GOT slot rewrite (see import_redirect.hpp).
#include "import_redirect.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sealpost {
namespace {

#if defined(__x86_64__)
constexpr unsigned kJumpSlot = R_X86_64_JUMP_SLOT, kGlobDat = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr unsigned kJumpSlot = R_AARCH64_JUMP_SLOT, kGlobDat = R_AARCH64_GLOB_DAT;
#else
constexpr unsigned kJumpSlot = ~0u, kGlobDat = ~0u;  // no slot ever matches: refused
#endif

// What the loaded library's dynamic section tells about its imports.
struct DynamicInfo {
    const ElfW(Sym)* symtab = nullptr;
    const char* strtab = nullptr;
    const ElfW(Rela)* jmprel = nullptr;
    std::size_t jmprel_bytes = 0;
    bool jmprel_is_rela = true;
    const ElfW(Rela)* rela = nullptr;
    std::size_t rela_bytes = 0;
};

DynamicInfo read_dynamic(ElfW(Addr) base, const ElfW(Dyn)* dyn) {
    // glibc relocates these addresses in place on most targets; an
    // unrelocated one is an offset from the load address.
    auto at = [base](ElfW(Addr) p) { return p < base ? p + base : p; };
    DynamicInfo d;
    for (; dyn->d_tag != DT_NULL; ++dyn) {
        switch (dyn->d_tag) {
            case DT_SYMTAB: d.symtab = reinterpret_cast<const ElfW(Sym)*>(at(dyn->d_un.d_ptr)); break;
            case DT_STRTAB: d.strtab = reinterpret_cast<const char*>(at(dyn->d_un.d_ptr)); break;
            case DT_JMPREL: d.jmprel = reinterpret_cast<const ElfW(Rela)*>(at(dyn->d_un.d_ptr)); break;
            case DT_PLTRELSZ: d.jmprel_bytes = dyn->d_un.d_val; break;
            case DT_PLTREL: d.jmprel_is_rela = dyn->d_un.d_val == DT_RELA; break;
            case DT_RELA: d.rela = reinterpret_cast<const ElfW(Rela)*>(at(dyn->d_un.d_ptr)); break;
            case DT_RELASZ: d.rela_bytes = dyn->d_un.d_val; break;
            default: break;
        }
    }
    return d;
}

struct Search {
    const link_map* library;
    const char* symbol;
    void* expected;
    void* replacement;
    bool seen = false;
    ImportRedirect result;
};

// The loaded object holding `function`, and whether it could be pinned
// (never unloaded: dlclose of it, or of what loaded it, leaves it mapped).
const link_map* pinned_object_of(const void* function) {
    Dl_info info{};
    link_map* map = nullptr;
    if (!dladdr1(function, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) || !map || !info.dli_fname)
        return nullptr;
    if (map->l_name == nullptr || map->l_name[0] == '\0') return map;  // the main program: never unloaded
    // glibc's handle is the link map: the same object, not a namesake in
    // another namespace. The reference dlopen took is never released.
    void* handle = dlopen(map->l_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    return handle == static_cast<void*>(map) ? map : nullptr;
}

// The slots of `symbol` in one relocation table.
void collect_slots(const DynamicInfo& d, ElfW(Addr) base, const ElfW(Rela)* table, std::size_t bytes,
                   const char* symbol, std::vector<void**>& out) {
    if (!table) return;
    for (std::size_t i = 0; i < bytes / sizeof(ElfW(Rela)); ++i) {
        unsigned type = ELF64_R_TYPE(table[i].r_info);
        if (type != kJumpSlot && type != kGlobDat) continue;
        const ElfW(Sym)& sym = d.symtab[ELF64_R_SYM(table[i].r_info)];
        if (std::strcmp(d.strtab + sym.st_name, symbol) == 0)
            out.push_back(reinterpret_cast<void**>(base + table[i].r_offset));
    }
}

// glibc's RELRO rule: the pages wholly inside PT_GNU_RELRO are read-only.
bool in_relro(const dl_phdr_info* info, const void* slot) {
    auto page = static_cast<ElfW(Addr)>(::sysconf(_SC_PAGESIZE));
    auto addr = reinterpret_cast<ElfW(Addr)>(slot);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_GNU_RELRO) continue;
        ElfW(Addr) begin = (info->dlpi_addr + ph.p_vaddr) & ~(page - 1);
        ElfW(Addr) end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz) & ~(page - 1);
        if (addr >= begin && addr < end) return true;
    }
    return false;
}

// Writes one slot; false when it cannot. `warning` is set when a RELRO
// page could not be made read-only again.
bool write_slot(const dl_phdr_info* info, void** slot, void* value, std::string& warning) {
    bool relro = in_relro(info, slot);
    auto page_size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    void* page = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(slot) & ~(page_size - 1));
    if (relro && ::mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) return false;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro && ::mprotect(page, page_size, PROT_READ) != 0)
        warning = "its import table page stays writable (mprotect failed)";
    return true;
}

int visit(dl_phdr_info* info, std::size_t, void* data) {
    auto* s = static_cast<Search*>(data);
    const char* name = info->dlpi_name ? info->dlpi_name : "";
    if (info->dlpi_addr != s->library->l_addr || std::strcmp(name, s->library->l_name) != 0) return 0;
    const char* slash = std::strrchr(name, '/');
    const char* file = slash ? slash + 1 : name;
    s->seen = true;
    const ElfW(Dyn)* dyn = nullptr;
    for (int i = 0; i < info->dlpi_phnum; ++i)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn) return s->result.reason = std::string(file) + " has no dynamic section", 1;
    DynamicInfo d = read_dynamic(info->dlpi_addr, dyn);
    if (!d.symtab || !d.strtab || !d.jmprel_is_rela)
        return s->result.reason = std::string(file) + ": unexpected dynamic section", 1;
    std::vector<void**> slots;
    collect_slots(d, info->dlpi_addr, d.jmprel, d.jmprel_bytes, s->symbol, slots);
    collect_slots(d, info->dlpi_addr, d.rela, d.rela_bytes, s->symbol, slots);
    std::sort(slots.begin(), slots.end());  // DT_RELA may cover DT_JMPREL too
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    if (slots.empty()) return s->result.reason = std::string(file) + " does not import " + s->symbol, 1;
    for (void** slot : slots)
        if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) != s->expected)
            return s->result.reason = std::string(file) + "'s " + s->symbol + " is not the expected function", 1;
    for (void** slot : slots) {
        if (!write_slot(info, slot, s->replacement, s->result.reason))
            return s->result.reason = std::string("cannot write ") + file + "'s import table", 1;
        ++s->result.slots;
    }
    s->result.done = true;
    return 1;
}

}  // namespace

ImportRedirect redirect_import(const void* function_of_library, const char* symbol, void* expected,
                               void* replacement) {
    if (kJumpSlot == ~0u) return {false, 0, "not supported on this architecture"};
    if (!expected || !replacement) return {false, 0, "no function to redirect"};
    const link_map* library = pinned_object_of(function_of_library);
    if (!library) return {false, 0, "the library is not a loaded shared object that can be pinned"};
    if (!pinned_object_of(replacement)) return {false, 0, "the replacement's library cannot be pinned"};
    Search s{library, symbol, expected, replacement};
    dl_iterate_phdr(visit, &s);
    if (!s.seen) s.result.reason = std::string(library->l_name) + " is not among the loaded objects";
    return s.result;
}

}  // namespace sealpost
