// The kernel versions the kernel-tuner policy writes for samples/kernel-tuning: each is a
// KernelConfig (loop order, tiling, register blocking, restrict, vectorisation hint,
// unrolling, hoisting), rendered as the complete C source of kernel.c.
//
// Everything here is pure and deterministic. The source of a config carries its key on
// its first line ("/* variant: ikj-t32-r4-restrict */"), so that a file read back from the
// workspace says which version it holds; the plain naive config renders exactly the
// workspace's original kernel.c.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapedeck::model {

struct KernelConfig {
    bool ikj = false;          // i-k-j loop order (rows of B and C inner) instead of i-j-k
    int tile = 0;              // 0, or the block size of the k and j loops (i-k-j only)
    int rows = 1;              // rows of C computed together (1, 2, 4; i-k-j only)
    bool restrictPointers = false;
    bool ivdep = false;        // #pragma GCC ivdep on the inner loop (i-k-j only)
    int unroll = 1;            // 1 or 4: the inner loop unrolled by hand
    bool hoist = false;        // row pointers and invariant loads hoisted out of inner loops

    // "ijk" for the naive kernel; otherwise the order followed by one token per change:
    // "ikj-t32-r4-restrict-ivdep-u4-hoist" (tokens in that order, absent ones left out).
    std::string key() const;
    // The inverse of key(); nullopt when `key` is not one.
    static std::optional<KernelConfig> fromKey(std::string_view key);
    // In words, for the model's messages: "i-k-j order, 32x32 blocks, 4 rows at a time".
    std::string describe() const;

    bool operator==(const KernelConfig &) const = default;
};

// The complete kernel.c for `config`.
std::string kernelSource(const KernelConfig &config);

// The key a kernel.c source says it holds: its "variant:" line, "ijk" for the original
// naive file, nullopt for anything else.
std::optional<std::string> keyOfSource(std::string_view source);

// One change to try from a starting config.
struct Idea {
    KernelConfig config;
    std::string what;          // "block the k and j loops by 32"
    int priority = 0;          // lower first: the changes an engineer tries first
};

// The single changes that make sense from `from`, each leading to a different valid config.
std::vector<Idea> ideasFrom(const KernelConfig &from);

// A slip made while writing a kernel: `bad` replaces the one occurrence of `good` in the
// correct source (neither contains the other, so each says which version a file holds). Compile errors break the build; a wrong result compiles and runs but
// leaves part of C unwritten (caught by the benchmark's check when n is not a multiple of
// the tile).
struct Slip {
    enum class Kind { MissingSemicolon, UndeclaredName, LastBlockDropped };
    Kind kind = Kind::MissingSemicolon;
    std::string good;
    std::string bad;
    bool breaksBuild() const { return kind != Kind::LastBlockDropped; }
};

// The slips that can be made in the source of `config` (LastBlockDropped only when tiled).
std::vector<Slip> slipsFor(const KernelConfig &config);

} // namespace tapedeck::model
