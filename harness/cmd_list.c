/* infercost list: the CPU, its features, the build's dependencies, and every kernel variant. */
#define _GNU_SOURCE
#include "cli.h"
#include "ic_config.h"

#include <getopt.h>
#include <jansson.h>

#include "catalog.h"
#include "graviton.h"
#include "ic_dispatch.h"
#include "ic_offload.h"
#include "report.h"
#include "topology.h"

static const char g_usage[] = "usage: infercost list [--json]\n"
                              "  --json   print the same information as one JSON object\n";

/* Features that belong to this architecture, so x86 hosts do not list Arm bits and vice versa. */
static int feature_is_native(int bit) {
#if defined(IC_ARCH_X86)
    return bit <= IC_FEATURE_BIT_AMX_BF16;
#elif defined(IC_ARCH_ARM)
    return bit >= IC_FEATURE_BIT_ASIMD;
#else
    return 0;
#endif
}

/* The optional libraries. unused: set for one that this build finds but has no code for, so that
 * finding it does not read as being able to use it. The accelerators are offload backends, listed
 * apart (a toolkit found is not a device that runs). */
static const struct {
    const char *name;
    int have;
    const char *why;
    const char *unused;
} g_deps[] = {
    {"benchmark", IC_HAVE_BENCHMARK, IC_WHY_NO_BENCHMARK, NULL},
    {"hwloc", IC_HAVE_HWLOC, IC_WHY_NO_HWLOC, NULL},
    {"papi", IC_HAVE_PAPI, IC_WHY_NO_PAPI, NULL},
    {"openblas", IC_HAVE_OPENBLAS, IC_WHY_NO_OPENBLAS, NULL},
    {"sqlite3", IC_HAVE_SQLITE3, IC_WHY_NO_SQLITE3, NULL},
};

/* Each offload backend: built or not, usable or not, why, and what it has been run on. */
static json_t *backends_json(void) {
    json_t *all = json_object();
    for (size_t i = 0; ic_offload_backend(i); i++) {
        const ic_offload_ops *b = ic_offload_backend(i);
        ic_offload_info info;
        b->probe(&info);
        json_t *j = json_pack(
            "{s:s, s:s, s:b, s:b}", "label", b->label, "state", ic_offload_state_name(info.state),
            "built", info.state != IC_OFFLOAD_NOT_BUILT, "usable", info.state == IC_OFFLOAD_USABLE);
        json_object_set_new(j, "why", info.why[0] ? json_string(info.why) : json_null());
        if (info.device[0]) json_object_set_new(j, "device", json_string(info.device));
        if (info.n_devices) json_object_set_new(j, "devices", json_integer(info.n_devices));
        if (b->note) json_object_set_new(j, "note", json_string(b->note));
        json_object_set_new(all, b->name, j);
    }
    return all;
}

static void backends_text(void) {
    printf("\noffload backends   (run --device NAME; --model-only models them from chips.tsv)\n");
    for (size_t i = 0; ic_offload_backend(i); i++) {
        const ic_offload_ops *b = ic_offload_backend(i);
        ic_offload_info info;
        b->probe(&info);
        printf("  %-10s %s", b->name, ic_offload_state_name(info.state));
        if (info.state == IC_OFFLOAD_USABLE)
            printf(": %d x %s (%s)", info.n_devices, info.device, info.runtime);
        else
            printf(": %s", info.why);
        printf("\n");
        if (b->note) printf("  %-10s note: %s\n", "", b->note);
    }
}

/* "available", or "unavailable: <why>". */
static void dep_status(size_t i, char *out, size_t len) {
    if (!g_deps[i].have)
        snprintf(out, len, "unavailable: %s", g_deps[i].why);
    else if (g_deps[i].unused)
        snprintf(out, len, "unavailable: %s", g_deps[i].unused);
    else
        snprintf(out, len, "available");
}

/* The platform catalog the price commands would use, and how it was found (ic_catalog_find). */
static json_t *catalog_json(void) {
    char dir[1024], err[1400];
    ic_catalog_origin origin;
    json_t *j = json_object();
    if (ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err) == 0) {
        json_object_set_new(j, "dir", json_string(dir));
        json_object_set_new(j, "found_by", json_string(ic_catalog_origin_name(origin)));
    } else {
        json_object_set_new(j, "error", json_string(err));
    }
    return j;
}

static void catalog_text(void) {
    char dir[1024], err[1400], shown[4 * sizeof err];
    ic_catalog_origin origin;
    if (ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err) == 0) {
        ic_escape_controls(dir, shown, sizeof shown);
        printf("\ncatalog    %s (%s)\n", shown, ic_catalog_origin_name(origin));
    } else {
        ic_escape_controls(err, shown, sizeof shown);
        printf("\ncatalog    none: %s\n", shown);
    }
}

static json_t *list_json(const ic_cpu_info *cpu, ic_level cap) {
    json_t *root = json_object();
    json_object_set_new(root, "version", json_string(IC_VERSION));
    json_object_set_new(root, "git_commit", json_string(IC_GIT_COMMIT));
    json_t *jcpu = json_object();
    json_object_set_new(jcpu, "vendor", json_string(cpu->vendor));
    json_object_set_new(jcpu, "model_name", json_string(cpu->model_name));
    json_t *present = json_array(), *absent = json_array();
    for (int b = 0; b < IC_FEATURE_COUNT; b++) {
        if (!feature_is_native(b)) continue;
        json_array_append_new((cpu->features >> b) & 1 ? present : absent,
                              json_string(ic_feature_name(1ull << b)));
    }
    json_object_set_new(jcpu, "features", present);
    json_object_set_new(jcpu, "features_absent", absent);
    if (cpu->sve_vl_bytes)
        json_object_set_new(jcpu, "sve_vl_bits", json_integer((json_int_t)cpu->sve_vl_bytes * 8));
    if (cpu->amx_note[0]) json_object_set_new(jcpu, "amx_note", json_string(cpu->amx_note));
    ic_graviton_add_json(jcpu, cpu->features, cpu->sve_vl_bytes);
    json_object_set_new(root, "cpu", jcpu);
    json_object_set_new(root, "isa_cap",
                        ic_isa_env() ? json_string(ic_level_name(cap)) : json_null());
    json_object_set_new(root, "best_level",
                        json_string(ic_level_name(ic_best_level(cpu->features))));
    json_object_set_new(root, "topology", ic_topology_json(ic_topology_get()));

    json_t *deps = json_object();
    for (size_t i = 0; i < sizeof g_deps / sizeof g_deps[0]; i++) {
        char status[256];
        dep_status(i, status, sizeof status);
        json_object_set_new(deps, g_deps[i].name, json_string(status));
    }
    json_object_set_new(root, "dependencies", deps);
    json_object_set_new(root, "backends", backends_json());
    json_object_set_new(root, "catalog", catalog_json());

    json_t *kernels = json_array();
    size_t n;
    const ic_kernel *table = ic_kernel_table(&n);
    for (size_t i = 0; i < n; i++) {
        const ic_kernel *k = &table[i];
        if (!ic_level_is_native(k->level)) continue;
        json_t *jk = json_object();
        json_object_set_new(jk, "op", json_string(ic_op_name(k->op)));
        if (ic_op_is_typed(k->op))
            json_object_set_new(jk, "type", json_string(ic_dtype_name(k->wtype)));
        json_object_set_new(jk, "name", json_string(k->name));
        json_object_set_new(jk, "isa", json_string(k->isa));
        char buf[160];
        const char *why = ic_kernel_why_unusable(k, cpu->features, cap, buf, sizeof buf);
        json_object_set_new(jk, "available", json_boolean(why == NULL));
        if (why) json_object_set_new(jk, "why", json_string(why));
        json_object_set_new(jk, "chosen", json_boolean(ic_select(k->op, k->wtype) == k));
        json_array_append_new(kernels, jk);
    }
    json_object_set_new(root, "kernels", kernels);
    return root;
}

static void list_text(const ic_cpu_info *cpu, ic_level cap) {
    printf("infercost %s (commit %s)\n\n", IC_VERSION, IC_GIT_COMMIT);
    printf("CPU        %s, %s\n", cpu->vendor, cpu->model_name);
    printf("features   (detected on this host; a feature counts only if the OS enabled it)\n");
    printf("  present ");
    for (int b = 0; b < IC_FEATURE_COUNT; b++)
        if (feature_is_native(b) && ((cpu->features >> b) & 1))
            printf(" %s", ic_feature_name(1ull << b));
    printf("\n  absent  ");
    for (int b = 0; b < IC_FEATURE_COUNT; b++)
        if (feature_is_native(b) && !((cpu->features >> b) & 1))
            printf(" %s", ic_feature_name(1ull << b));
    printf("\n");
    if (cpu->amx_note[0]) printf("  note: AMX unusable: %s\n", cpu->amx_note);
    if (cpu->sve_vl_bytes) printf("  SVE vector length: %zu bits\n", cpu->sve_vl_bytes * 8);
    ic_graviton_print(stdout, cpu->features, cpu->sve_vl_bytes);
    char cap_text[160];
    ic_isa_cap_describe(cpu->features, cap_text, sizeof cap_text);
    printf("ISA cap    %s\n", cap_text);

    ic_topology_print(stdout, ic_topology_get());
    printf("\nbuild dependencies\n");
    for (size_t i = 0; i < sizeof g_deps / sizeof g_deps[0]; i++) {
        char status[256];
        dep_status(i, status, sizeof status);
        printf("  %-10s %s\n", g_deps[i].name, status);
    }
    backends_text();
    catalog_text();

    printf("\nkernels    (* = chosen for this op and type)\n");
    printf("  %-10s %-5s %-26s %s\n", "op", "type", "variant", "status");
    size_t n;
    const ic_kernel *table = ic_kernel_table(&n);
    for (size_t i = 0; i < n; i++) {
        const ic_kernel *k = &table[i];
        if (!ic_level_is_native(k->level)) continue;
        char buf[160];
        const char *why = ic_kernel_why_unusable(k, cpu->features, cap, buf, sizeof buf);
        printf("%c %-10s %-5s %-26s %s%s\n", ic_select(k->op, k->wtype) == k ? '*' : ' ',
               ic_op_name(k->op), ic_op_is_typed(k->op) ? ic_dtype_name(k->wtype) : "-", k->name,
               why ? "unavailable: " : "available", why ? why : "");
    }
}

int ic_cmd_list(int argc, char **argv) {
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int as_json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            as_json = 1;
            break;
        case 'h':
            fputs(g_usage, stdout);
            return IC_EXIT_OK;
        default:
            return ic_option_error("list", g_usage, opts, argv, optind);
        }
    }
    if (optind < argc)
        return ic_usage_error("list", g_usage, "unexpected argument '%s'", argv[optind]);
    int rc = ic_cli_check_isa();
    if (rc) return rc;
    const ic_cpu_info *cpu = ic_cpu();
    ic_level cap;
    char err[256];
    ic_level_cap(&cap, err, sizeof err);
    if (as_json) {
        json_t *root = list_json(cpu, cap);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
    } else {
        list_text(cpu, cap);
    }
    return IC_EXIT_OK;
}
