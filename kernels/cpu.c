/* CPU feature detection: CPUID + XGETBV + AMX permission on x86, getauxval on aarch64. */
#define _GNU_SOURCE
#include "ic_cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(IC_ARCH_X86)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(IC_ARCH_ARM)
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

static ic_cpu_info g_cpu;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#if defined(IC_ARCH_X86)
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Linux refuses AMX tile data until the process asks for it (arch_prctl, since 5.16). */
static int request_amx(char *note, size_t len) {
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
        snprintf(note, len,
                 "arch_prctl(ARCH_REQ_XCOMP_PERM) refused: the kernel did not grant AMX");
        return 0;
    }
    return 1;
}

static void detect(ic_cpu_info *c) {
    uint32_t a, b, cx, d;
    __cpuid(0, a, b, cx, d);
    uint32_t max_leaf = a;
    memcpy(c->vendor + 0, &b, 4);
    memcpy(c->vendor + 4, &d, 4);
    memcpy(c->vendor + 8, &cx, 4);
    c->vendor[12] = '\0';

    uint32_t ext_max;
    __cpuid(0x80000000u, ext_max, b, cx, d);
    if (ext_max >= 0x80000004u) {
        uint32_t regs[12];
        for (uint32_t i = 0; i < 3; i++)
            __cpuid(0x80000002u + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2],
                    regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = '\0';
        const char *s = brand;
        while (*s == ' ') s++;
        snprintf(c->model_name, sizeof c->model_name, "%s", s);
        size_t n = strlen(c->model_name);
        while (n > 0 && c->model_name[n - 1] == ' ') c->model_name[--n] = '\0';
    } else {
        snprintf(c->model_name, sizeof c->model_name, "unknown");
    }

    uint64_t f = 0;
    __cpuid(1, a, b, cx, d);
    if (cx & (1u << 20)) f |= IC_F_SSE42;
    int osxsave = (cx >> 27) & 1;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;                /* XMM and YMM state */
    int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    int os_amx = (xcr0 & 0x60000) == 0x60000;        /* XTILECFG and XTILEDATA */
    if (os_avx) {
        if (cx & (1u << 12)) f |= IC_F_FMA;
        if (cx & (1u << 29)) f |= IC_F_F16C;
    }
    if (max_leaf >= 7) {
        uint32_t b7, c7, d7, a71 = 0;
        __cpuid_count(7, 0, a, b7, c7, d7);
        uint32_t max_sub = a;
        if (max_sub >= 1) __cpuid_count(7, 1, a71, b, cx, d);
        if (os_avx) {
            if (b7 & (1u << 5)) f |= IC_F_AVX2;
            if (a71 & (1u << 4)) f |= IC_F_AVXVNNI;
        }
        if (os_avx512) {
            if (b7 & (1u << 16)) f |= IC_F_AVX512F;
            if (b7 & (1u << 30)) f |= IC_F_AVX512BW;
            if (b7 & (1u << 31)) f |= IC_F_AVX512VL;
            if (c7 & (1u << 11)) f |= IC_F_AVX512VNNI;
            if (a71 & (1u << 5)) f |= IC_F_AVX512BF16;
        }
        int has_amx = (d7 >> 24) & 1;
        if (has_amx && !os_amx) {
            snprintf(c->amx_note, sizeof c->amx_note,
                     "the OS has not enabled AMX tile state (XCR0)");
        } else if (has_amx && request_amx(c->amx_note, sizeof c->amx_note)) {
            f |= IC_F_AMX_TILE;
            if (d7 & (1u << 25)) f |= IC_F_AMX_INT8;
            if (d7 & (1u << 22)) f |= IC_F_AMX_BF16;
        }
    }
    c->features = f;
}
#elif defined(IC_ARCH_ARM)
#ifndef PR_SVE_GET_VL
#define PR_SVE_GET_VL 51
#endif
static void detect(ic_cpu_info *c) {
    snprintf(c->vendor, sizeof c->vendor, "arm");
    snprintf(c->model_name, sizeof c->model_name, "unknown");
    FILE *fp = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "r");
    if (fp) {
        unsigned long long midr = 0;
        if (fscanf(fp, "%llx", &midr) == 1)
            snprintf(c->model_name, sizeof c->model_name, "implementer 0x%02llx part 0x%03llx",
                     (midr >> 24) & 0xff, (midr >> 4) & 0xfff);
        fclose(fp);
    }
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    uint64_t f = 0;
    if (hw & (1ul << 1)) f |= IC_F_ASIMD;
    if (hw & (1ul << 20)) f |= IC_F_DOTPROD;
    if (hw & (1ul << 22)) f |= IC_F_SVE;
    if (hw2 & (1ul << 1)) f |= IC_F_SVE2;
    if (hw2 & (1ul << 13)) f |= IC_F_I8MM;
    if (hw2 & (1ul << 14)) f |= IC_F_BF16;
    if (f & IC_F_SVE) {
        int vl = prctl(PR_SVE_GET_VL);
        if (vl > 0) c->sve_vl_bytes = (size_t)(vl & 0xffff);
        if (c->sve_vl_bytes >= 32) f |= IC_F_SVE_VL256;
    }
    c->features = f;
}
#else
static void detect(ic_cpu_info *c) {
    snprintf(c->vendor, sizeof c->vendor, "unknown");
    snprintf(c->model_name, sizeof c->model_name, "unknown");
}
#endif

static void detect_once(void) {
    detect(&g_cpu);
}

const ic_cpu_info *ic_cpu(void) {
    pthread_once(&g_once, detect_once);
    return &g_cpu;
}

static const char *const g_feature_names[] = {
#define IC_X(id, str) str,
    IC_FEATURE_LIST(IC_X)
#undef IC_X
};

const char *ic_feature_name(uint64_t bit) {
    for (int i = 0; i < IC_FEATURE_COUNT; i++)
        if (bit == (1ull << i)) return g_feature_names[i];
    return NULL;
}

static const char *const g_level_names[] = {
#define IC_X(id, str) str,
    IC_LEVEL_LIST(IC_X)
#undef IC_X
};

const char *ic_level_name(ic_level l) {
    return (l >= 0 && l < IC_LVL_COUNT) ? g_level_names[l] : NULL;
}

int ic_level_is_native(ic_level l) {
    if (l == IC_LVL_REF) return 1;
#if defined(IC_ARCH_X86)
    return l >= IC_LVL_AVX2 && l <= IC_LVL_AMX;
#elif defined(IC_ARCH_ARM)
    return l >= IC_LVL_NEON && l <= IC_LVL_SVE2;
#else
    return 0;
#endif
}

int ic_level_parse(const char *name, ic_level *out, char *err, size_t errlen) {
    for (int l = 0; l < IC_LVL_COUNT; l++) {
        if (ic_level_is_native((ic_level)l) && strcmp(name, g_level_names[l]) == 0) {
            *out = (ic_level)l;
            return 0;
        }
    }
    size_t used = (size_t)snprintf(err, errlen, "unknown ISA level '%s'; valid:", name);
    for (int l = 0; l < IC_LVL_COUNT && used < errlen; l++)
        if (ic_level_is_native((ic_level)l))
            used += (size_t)snprintf(err + used, errlen - used, " %s", g_level_names[l]);
    return -1;
}

const char *ic_isa_env(void) {
    const char *env = getenv("IC_ISA");
    return env != NULL && env[0] != '\0' ? env : NULL;
}

int ic_level_cap(ic_level *out, char *err, size_t errlen) {
    const char *env = ic_isa_env();
    if (env == NULL) {
        ic_level top = IC_LVL_REF;
        for (int l = 0; l < IC_LVL_COUNT; l++)
            if (ic_level_is_native((ic_level)l)) top = (ic_level)l;
        *out = top;
        return 0;
    }
    char inner[256];
    if (ic_level_parse(env, out, inner, sizeof inner) != 0) {
        snprintf(err, errlen, "IC_ISA: %s", inner);
        return -1;
    }
    return 0;
}

int ic_debug_enabled(void) {
    const char *env = getenv("IC_DEBUG");
    return env != NULL && env[0] != '\0' && strcmp(env, "0") != 0;
}

/* ---- cache sizes for the GEMM blocking ---- */

static struct {
    pthread_once_t once;
    size_t l1d, l2;
} g_caches = {PTHREAD_ONCE_INIT, 48 * 1024, 1024 * 1024};

static void read_caches(void) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1 >= 8 * 1024 && l1 <= 4 * 1024 * 1024) g_caches.l1d = (size_t)l1;
    if (l2 >= 64 * 1024 && l2 <= (1l << 30)) g_caches.l2 = (size_t)l2;
#endif
}

void ic_cpu_set_caches(size_t l1d_bytes, size_t l2_bytes) {
    pthread_once(&g_caches.once, read_caches);
    if (l1d_bytes >= 8 * 1024 && l1d_bytes <= 4 * 1024 * 1024) g_caches.l1d = l1d_bytes;
    if (l2_bytes >= 64 * 1024 && l2_bytes <= ((size_t)1 << 30)) g_caches.l2 = l2_bytes;
}

size_t ic_cpu_l1d_bytes(void) {
    pthread_once(&g_caches.once, read_caches);
    return g_caches.l1d;
}

size_t ic_cpu_l2_bytes(void) {
    pthread_once(&g_caches.once, read_caches);
    return g_caches.l2;
}
