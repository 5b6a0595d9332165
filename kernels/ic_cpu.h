/* CPU feature detection and ISA levels. Detection runs once; everything after reads a cached mask.
 */
#ifndef IC_CPU_H
#define IC_CPU_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#define IC_ARCH_X86 1
#elif defined(__aarch64__)
#define IC_ARCH_ARM 1
#endif

/* One bit per feature. A bit is set only when the CPU has the feature and the OS enabled it
 * (XGETBV on x86; the AMX tile permission granted by arch_prctl). sve_vl256 is synthetic: SVE with
 * a vector of at least 256 bits (cpu.c sets it from the vector length). Every SVE variant is
 * correct at any length; the bit only lets the list keep an SVE variant from being chosen where
 * it executes more instructions than the NEON variants (at 128 bits), see kernels/list_arm.inc. */
#define IC_FEATURE_LIST(X)                                                                         \
    X(SSE42, "sse4.2")                                                                             \
    X(AVX2, "avx2")                                                                                \
    X(FMA, "fma")                                                                                  \
    X(F16C, "f16c")                                                                                \
    X(AVX512F, "avx512f")                                                                          \
    X(AVX512BW, "avx512bw")                                                                        \
    X(AVX512VL, "avx512vl")                                                                        \
    X(AVX512VNNI, "avx512_vnni")                                                                   \
    X(AVXVNNI, "avx_vnni")                                                                         \
    X(AVX512BF16, "avx512_bf16")                                                                   \
    X(AMX_TILE, "amx_tile")                                                                        \
    X(AMX_INT8, "amx_int8")                                                                        \
    X(AMX_BF16, "amx_bf16")                                                                        \
    X(ASIMD, "asimd")                                                                              \
    X(DOTPROD, "asimddp")                                                                          \
    X(I8MM, "i8mm")                                                                                \
    X(BF16, "bf16")                                                                                \
    X(SVE, "sve")                                                                                  \
    X(SVE2, "sve2")                                                                                \
    X(SVE_VL256, "sve_vl256")

enum {
#define IC_X(id, str) IC_FEATURE_BIT_##id,
    IC_FEATURE_LIST(IC_X)
#undef IC_X
        IC_FEATURE_COUNT
};

#define IC_X(id, str) static const uint64_t IC_F_##id = 1ull << IC_FEATURE_BIT_##id;
IC_FEATURE_LIST(IC_X)
#undef IC_X

/* The synthetic vector-length bits: they say where a variant pays off, not what it needs to run. */
static const uint64_t IC_F_SVE_VL_BITS = 1ull << IC_FEATURE_BIT_SVE_VL256;

/* features with every vector-length bit added where SVE is present: the mask under which a
 * variant runs correctly, for tests and counters that run every variant the CPU can execute, the
 * ones dispatch passes over at this vector length included. */
static inline uint64_t ic_features_runnable(uint64_t features) {
    return (features & IC_F_SVE) ? features | IC_F_SVE_VL_BITS : features;
}

/* ISA levels in increasing order of preference. IC_ISA=<name> caps selection at a level; a
 * variant's level is the highest ISA it needs. Levels of the other architecture never match. */
#define IC_LEVEL_LIST(X)                                                                           \
    X(REF, "ref")                                                                                  \
    X(AVX2, "avx2")                                                                                \
    X(AVXVNNI, "avxvnni")                                                                          \
    X(AVX512, "avx512")                                                                            \
    X(AVX512VNNI, "avx512vnni")                                                                    \
    X(AVX512BF16, "avx512bf16")                                                                    \
    X(AMX, "amx")                                                                                  \
    X(NEON, "neon")                                                                                \
    X(DOTPROD, "dotprod")                                                                          \
    X(I8MM, "i8mm")                                                                                \
    X(BF16, "bf16")                                                                                \
    X(SVE, "sve")                                                                                  \
    X(SVE2, "sve2")

typedef enum ic_level {
#define IC_X(id, str) IC_LVL_##id,
    IC_LEVEL_LIST(IC_X)
#undef IC_X
        IC_LVL_COUNT
} ic_level;

typedef struct ic_cpu_info {
    char vendor[16];      /* "GenuineIntel", "AuthenticAMD", or "arm" */
    char model_name[128]; /* brand string (x86) or "implementer:part" (aarch64) */
    uint64_t features;    /* IC_F_* bits the OS lets us use */
    size_t sve_vl_bytes;  /* SVE vector length in bytes, 0 without SVE */
    char amx_note[96];    /* why AMX is off when the CPU has it, else empty */
} ic_cpu_info;

/* The host CPU, detected on the first call and cached (thread-safe). */
const ic_cpu_info *ic_cpu(void);

/* Per-core data cache sizes the GEMM kernels block for: L1 data and L2, in bytes. Until a caller
 * sets them they are the C library's (sysconf; 48 KiB and 1 MiB when it does not know); the
 * harness passes what hwloc reports (ic_cpu_set_caches), so the blocking follows the topology the
 * run prints. Set before kernels run; a 0 keeps the current value. */
void ic_cpu_set_caches(size_t l1d_bytes, size_t l2_bytes);
size_t ic_cpu_l1d_bytes(void);
size_t ic_cpu_l2_bytes(void);

/* The feature name ("avx512_vnni") for one IC_F_* bit, or NULL. */
const char *ic_feature_name(uint64_t bit);

/* The level's name ("avx512vnni"), or NULL for an invalid level. */
const char *ic_level_name(ic_level l);

/* True when the level belongs to the architecture this binary was built for (ref always does). */
int ic_level_is_native(ic_level l);

/* IC_ISA's value, or NULL when it is unset or empty: no cap. */
const char *ic_isa_env(void);

/* The highest level that selection may use: IC_ISA from the environment when set and valid,
 * otherwise the top level. Returns 0, or -1 with a message in err (listing the valid names) when
 * IC_ISA names no level of this architecture. */
int ic_level_cap(ic_level *out, char *err, size_t errlen);

/* Parses a level name for this architecture, as IC_ISA does; 0 or -1 with a message. */
int ic_level_parse(const char *name, ic_level *out, char *err, size_t errlen);

/* True when IC_DEBUG is set to a non-empty value other than "0". */
int ic_debug_enabled(void);

#endif
