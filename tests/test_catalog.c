/* The catalog's TSV reader: small catalogs in a temporary directory with one file wrong (width,
 * header, range, repeated key, control byte) must fail naming the file, line and column; the
 * source tree's catalog loads; atomic writes go through a symbolic link and keep the file's mode.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "ic_test.h"
#include "tempfiles.h"

static char g_tmp[256];

static const char k_instances[] = "# a comment\n"
                                  "instance_type\tfamily\tvcpus\tmemory_gib\tchip\taccelerators\t"
                                  "basis\n"
                                  "c7i.large\tc7i\t2\t4\txeon\t0\tnaming\n"
                                  "p5.48xlarge\tp5\t192\t2048\th100\t8\tpublished\n";
static const char k_chips[] = "chip\tarch\tfamilies\tcores_per_socket\tvcpus_per_socket\tsimd\t"
                              "ml_isa\tmemory\tpeak_mem_bw_gbs\tpeak_bf16_tflops\tpeak_int8_tops\t"
                              "device_mem_gib\tnote\n"
                              "xeon\tx86_64\tc7i\t48\t96\tAVX-512\t\t8ch DDR5\t307.2\t\t\t\t\n"
                              "h100\tcuda\tp5\t\t\t\t\tHBM3\t3350\t989\t\t80\tdense bf16\n";
static const char k_prices[] = "instance_type\tregion\tusd_per_hour\tsource\tdate\n"
                               "c7i.large\tus-east-1\t0.089250\ta list\t2026-07-20\n"
                               "c7i.large\teu-west-1\t0.1\ta list\t2026-07-20\n"
                               "p5.48xlarge\tus-east-1\t55.04\ta list\t2026-07-20\n";
static const char k_discounts[] = "pricing\tdiscount\tsource\tdate\n"
                                  "on-demand\t0\tnone\t2026-11-26\n"
                                  "spot\t0.65\tassumption\t2026-11-26\n";
static const char k_token_prices[] =
    "model\tinput_usd_per_mtok\toutput_usd_per_mtok\tsource\tdate\n"
    "m-1\t3\t15\tlist\t2026\n";

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* A small valid catalog in g_tmp/cat, with file replaced by text when file is not NULL. */
static const char *small_catalog(const char *file, const char *text) {
    static char dir[300];
    snprintf(dir, sizeof dir, "%s/cat", g_tmp);
    mkdir(dir, 0755);
    write_file(dir, "instances.tsv", k_instances);
    write_file(dir, "chips.tsv", k_chips);
    write_file(dir, "prices.tsv", k_prices);
    write_file(dir, "discounts.tsv", k_discounts);
    write_file(dir, "token-prices.tsv", k_token_prices);
    if (file) write_file(dir, file, text);
    return dir;
}

/* Loading the small catalog with file replaced must fail (2) with want in the message. */
static void bad(const char *file, const char *text, const char *want) {
    ic_catalog cat;
    char err[512] = "";
    int rc = ic_catalog_load(&cat, small_catalog(file, text), err, sizeof err);
    CHECK(rc == 2 && strstr(err, want), "%s: rc %d, err '%s', want '%s'", file, rc, err, want);
    if (rc == 0) ic_catalog_free(&cat);
}

static void test_small(void) {
    ic_catalog cat;
    char err[512] = "";
    int rc = ic_catalog_load(&cat, small_catalog(NULL, NULL), err, sizeof err);
    CHECK(rc == 0, "small catalog: %s", err);
    if (rc) return;
    CHECK(cat.n_instances == 2 && cat.n_chips == 2 && cat.n_prices == 3 && cat.n_token_prices == 1,
          "sizes %zu %zu %zu %zu", cat.n_instances, cat.n_chips, cat.n_prices, cat.n_token_prices);
    const ic_instance_info *p5 = ic_catalog_instance(&cat, "p5.48xlarge");
    CHECK(p5 && p5->vcpus == 192 && p5->memory_gib == 2048 && p5->accelerators == 8 &&
              strcmp(p5->chip, "h100") == 0 && strcmp(p5->basis, "published") == 0,
          "p5 facts");
    const ic_chip_info *x = ic_catalog_chip(&cat, "xeon"), *h = ic_catalog_chip(&cat, "h100");
    CHECK(x && x->vcpus_per_socket == 96 && x->peak_mem_bw_gbs == 307.2 && x->device_mem_gib == 0,
          "xeon facts");
    CHECK(h && h->vcpus_per_socket == 0 && h->peak_bf16_tflops == 989 && h->device_mem_gib == 80,
          "h100 facts: empty fields read as 0");
    CHECK(cat.discounts[IC_PRICING_SPOT].present &&
              cat.discounts[IC_PRICING_SPOT].fraction == 0.65 &&
              !cat.discounts[IC_PRICING_SAVINGS_1Y].present,
          "discounts");
    ic_price p;
    rc = ic_price_lookup(&cat, "c7i.large", "eu-west-1", IC_PRICING_SPOT, &p, err, sizeof err);
    CHECK(rc == 0 && p.on_demand_usd_per_hour == 0.1 && strcmp(p.source, "a list") == 0,
          "same type, other region: %s", err);
    CHECK(strcmp(ic_catalog_shown_dir(&cat), cat.dir) == 0, "a given dir is shown as given");
    ic_catalog_free(&cat);

    /* Columns may come in any order. */
    rc = ic_catalog_load(&cat,
                         small_catalog("token-prices.tsv",
                                       "date\tmodel\tsource\toutput_usd_per_mtok\tinput_usd_per_"
                                       "mtok\n2026\tm-2\tlist\t15\t3\n"),
                         err, sizeof err);
    const ic_token_price *tp = rc ? NULL : ic_catalog_token_price(&cat, "m-2");
    CHECK(tp && tp->input_usd_per_mtok == 3 && tp->output_usd_per_mtok == 15 &&
              strcmp(tp->date, "2026") == 0,
          "columns by name: %s", err);
    if (rc == 0) ic_catalog_free(&cat);
}

static void test_width(void) {
    const char *h = "instance_type\tregion\tusd_per_hour\tsource\tdate\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t0.1\tx\t2026\n# c\n\nc7i.large\tx\t0.1\tx\n",
             h);
    bad("prices.tsv", buf, "prices.tsv:5: 4 fields, the header has 5");
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t0.1\tx\t2026\textra\n", h);
    bad("prices.tsv", buf, "prices.tsv:2: 6 fields, the header has 5");
    bad("chips.tsv",
        "chip\tarch\tfamilies\tcores_per_socket\tvcpus_per_socket\tsimd\tml_isa\tmemory\t"
        "peak_mem_bw_gbs\tpeak_bf16_tflops\tpeak_int8_tops\tdevice_mem_gib\tnote\n"
        "g2\taarch64\tc6g\t64\tNEON\tdotprod\tDDR4\t204.8\t\t\t\tnote under device_mem_gib\n",
        "chips.tsv:2: 12 fields, the header has 13");
    snprintf(buf, sizeof buf, "%s%s", h, "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\tm\tn\to\tp\tq\tr\n");
    bad("prices.tsv", buf, "prices.tsv:2: 18 fields, the header has 5");
}

static void test_header(void) {
    bad("prices.tsv", "# only a comment\n", "prices.tsv: no header row");
    bad("prices.tsv", "# c\ninstance_type\tregion\tprice\tsource\tdate\n",
        "prices.tsv:2: header has no column 'usd_per_hour'");
    bad("prices.tsv", "instance_type\tregion\tusd_per_hour\tsource\tdate\tnote\n",
        "prices.tsv:1: header field 6 'note' is not a column of prices.tsv");
    bad("discounts.tsv", "pricing\tdiscount\tsource\tdate\tsource\n",
        "discounts.tsv:1: header names column 'source' twice");
    bad("chips.tsv", "chip\tarch\n", "chips.tsv:1: header has no column 'families'");
}

static void test_numbers(void) {
    const char *h = "instance_type\tfamily\tvcpus\tmemory_gib\tchip\taccelerators\tbasis\n";
    const struct {
        const char *row, *want;
    } cases[] = {
        {"c7i.large\tc7i\t0\t4\txeon\t0\tnaming", "instances.tsv:2: vcpus 0 is below 1"},
        {"c7i.large\tc7i\t2.5\t4\txeon\t0\tnaming", "instances.tsv:2: vcpus '2.5' is not a whole"},
        {"c7i.large\tc7i\ttwo\t4\txeon\t0\tnaming", "instances.tsv:2: vcpus 'two' is not a number"},
        {"c7i.large\tc7i\t2\t4\txeon\t5000\tnaming", "accelerators 5000 is above 1000"},
        {"c7i.large\tc7i\t2\tnan\txeon\t0\tnaming", "memory_gib 'nan' is not a number"},
        {"c7i.large\tc7i\t2\t 4\txeon\t0\tnaming", "memory_gib ' 4' is not a number"},
        {"c7i.large\tc7i\t2\t0x10\txeon\t0\tnaming", "memory_gib '0x10' is not a number"},
        {"c7i.large\tc7i\t2\t\txeon\t0\tnaming", "instances.tsv:2: memory_gib is empty"},
        {"c7i.large\tc7i\t2\t4\txeon\t0\tguessed",
         "basis 'guessed' is not one of naming, published"},
        {"c7i large\tc7i\t2\t4\txeon\t0\tnaming", "instance_type 'c7i large' contains whitespace"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s\n", h, cases[i].row);
        bad("instances.tsv", buf, cases[i].want);
    }
    bad("prices.tsv",
        "instance_type\tregion\tusd_per_hour\tsource\tdate\nc7i.large\tus-east-1\t0."
        "0000004\tx\t1\n",
        "prices.tsv:2: usd_per_hour 0.0000004 is below 1e-06");
    bad("discounts.tsv", "pricing\tdiscount\tsource\tdate\nspot\t1\tassumption\t2026\n",
        "discounts.tsv:2: discount 1 must be below 1");
    bad("token-prices.tsv",
        "model\tinput_usd_per_mtok\toutput_usd_per_mtok\tsource\tdate\nm\t3\t1e9\tx\t2026\n",
        "token-prices.tsv:2: output_usd_per_mtok 1e9 is above 10000");
}

static void test_keys(void) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%sc7i.large\tc7i\t4\t8\txeon\t0\tnaming\n", k_instances);
    bad("instances.tsv", buf, "instances.tsv:5: instance_type 'c7i.large' repeats line 3");
    snprintf(buf, sizeof buf, "%sc7i.large\teu-west-1\t0.2\tanother list\t2026-08-01\n", k_prices);
    bad("prices.tsv", buf,
        "prices.tsv:5: instance_type 'c7i.large' and region 'eu-west-1' repeat line 3");
    snprintf(buf, sizeof buf, "%sh100\tcuda\tp5\t\t\t\t\tHBM3\t3350\t989\t\t80\t\n", k_chips);
    bad("chips.tsv", buf, "chips.tsv:4: chip 'h100' repeats line 3");
    snprintf(buf, sizeof buf, "%sspot\t0.7\tassumption\t2026\n", k_discounts);
    bad("discounts.tsv", buf, "discounts.tsv:4: pricing 'spot' repeats line 3");
    snprintf(buf, sizeof buf, "%sm-1\t1\t5\tlist\t2026\n", k_token_prices);
    bad("token-prices.tsv", buf, "token-prices.tsv:3: model 'm-1' repeats line 2");
}

static void test_control(void) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%sm-2\t1\t5\tli\x1b[2Jst\t2026\n", k_token_prices);
    bad("token-prices.tsv", buf,
        "token-prices.tsv:3: source has a control character (byte 0x1b at 3)");
    snprintf(buf, sizeof buf, "%sm-2\t1\t5\tlist\r\t2026\n", k_token_prices);
    bad("token-prices.tsv", buf, "token-prices.tsv:3: source has a control character (byte 0x0d");
    /* A carriage return ending a line is a Windows line end, not a control byte. */
    ic_catalog cat;
    char err[512] = "";
    snprintf(buf, sizeof buf, "%sm-2\t1\t5\tlist\t2026\r\n", k_token_prices);
    int rc = ic_catalog_load(&cat, small_catalog("token-prices.tsv", buf), err, sizeof err);
    CHECK(rc == 0, "CRLF line end: %s", err);
    if (rc == 0) ic_catalog_free(&cat);
}

static void test_source_tree(void) {
    ic_catalog cat;
    char err[512] = "";
    int rc = ic_catalog_load(&cat, NULL, err, sizeof err);
    CHECK(rc == 0, "the source tree's catalog: %s", err);
    if (rc) return;
    CHECK(cat.n_instances > 200 && cat.n_prices > 200 && cat.n_chips >= 11 &&
              cat.n_token_prices >= 3 && cat.discounts[IC_PRICING_SAVINGS_3Y].present,
          "sizes %zu %zu %zu %zu", cat.n_instances, cat.n_prices, cat.n_chips, cat.n_token_prices);
    /* Messages name the default catalog without the build machine's path. */
    CHECK(strcmp(ic_catalog_shown_dir(&cat), "platforms") == 0, "default dir shown as '%s'",
          ic_catalog_shown_dir(&cat));
    ic_price p;
    rc = ic_price_lookup(&cat, "z9.huge", "us-east-1", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "no price in platforms/prices.tsv"), "unknown type: %s", err);
    ic_catalog_free(&cat);
}

static char *read_all(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_write_atomic(void) {
    char dir[300], real[400], link[400], err[512] = "";
    snprintf(dir, sizeof dir, "%s/w", g_tmp);
    mkdir(dir, 0755);
    snprintf(real, sizeof real, "%s/real.tsv", dir);
    snprintf(link, sizeof link, "%s/link.tsv", dir);
    write_file(dir, "real.tsv", "old\n");
    chmod(real, 0640);
    CHECK(symlink("real.tsv", link) == 0, "symlink");
    int rc = ic_write_file_atomic(link, "new\n", 4, err, sizeof err);
    struct stat st;
    CHECK(rc == 0, "write through a link: %s", err);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link is still a link");
    const char *text = read_all(real);
    CHECK(text && strcmp(text, "new\n") == 0, "the target has the new text");
    CHECK(stat(real, &st) == 0 && (st.st_mode & 07777) == 0640, "mode kept: %o",
          (unsigned)(st.st_mode & 07777));
    snprintf(link, sizeof link, "%s/dangling.tsv", dir);
    CHECK(symlink("none/x.tsv", link) == 0, "dangling symlink");
    rc = ic_write_file_atomic(link, "x\n", 2, err, sizeof err);
    CHECK(rc == 1 && strstr(err, "cannot follow the symbolic link"), "dangling link: %d %s", rc,
          err);
    snprintf(link, sizeof link, "%s/new.tsv", dir);
    rc = ic_write_file_atomic(link, "x\n", 2, err, sizeof err);
    CHECK(rc == 0 && stat(link, &st) == 0 && (st.st_mode & 07777) == 0644, "a new file is 0644");
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ic_test_catalog.XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_small();
    test_width();
    test_header();
    test_numbers();
    test_keys();
    test_control();
    test_source_tree();
    test_write_atomic();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ic_test_finish("test_catalog");
}
