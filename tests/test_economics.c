/* Economics: formulas against hand-computed figures, the catalog and its bad files, result reading,
 * the latency-target pick, instance detection, the price-list import, and every econ output.
 * Usage: test_economics DATA_DIR (tests/data). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "economics.h"
#include "ic_test.h"
#include "instance.h"

static const char *g_data;
static char g_tmp[256];

/* The catalog the CLI finds by default (here, the source tree's). */
static const char *default_catalog(void) {
    static char dir[1024];
    ic_catalog_origin origin;
    char err[512];
    if (ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return dir;
}

static int near(double a, double b, double tol) {
    return fabs(a - b) <= tol;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
}

static char *read_all(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) buf[0] = '\0';
    fclose(fp);
    return buf;
}

static void test_formulas(void) {
    /* The example: p5.48xlarge, $55.04/h, 8 GPUs x 1000 tok/s = 8000 tok/s. */
    double c = ic_usd_per_mtok(55.04, 8 * 1000.0);
    CHECK(near(c, 1.9111111, 1e-6), "55.04 $/h at 8000 tok/s: %.7f, want 1.911", c);
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f", c);
    CHECK(strcmp(buf, "1.911") == 0, "printed %s", buf);
    CHECK(near(ic_tok_per_usd(55.04, 8000), 8000 * 3600 / 55.04, 1e-6), "tok per usd");
    CHECK(near(ic_tok_per_usd(55.04, 8000) * c, 1e6, 1e-3), "tok/$ x $/Mtok = 1e6");
    CHECK(isnan(ic_usd_per_mtok(55.04, 0)), "zero throughput is not a price");
    CHECK(isnan(ic_usd_per_mtok(55.04, -1)), "negative throughput");
    CHECK(isnan(ic_usd_per_mtok(0, 10)), "zero price");
    /* c7i.large $0.08925/h at 20 tok/s: 0.08925 / 72000 * 1e6 = 1.2395833. */
    CHECK(near(ic_usd_per_mtok(0.08925, 20), 1.2395833, 1e-6), "c7i.large");

    /* Mix 3:1 of input $0.2 and output $1.8: (0.6 + 1.8) / 4 = 0.6. */
    CHECK(near(ic_blend(0.2, 1.8, 3, 1), 0.6, 1e-12), "blend 3:1");
    CHECK(near(ic_blend(0.2, 1.8, 0, 1), 1.8, 1e-12), "blend 0:1 is output only");
    CHECK(near(ic_blend(NAN, 1.8, 0, 1), 1.8, 1e-12), "a zero weight ignores a missing figure");
    CHECK(isnan(ic_blend(1, 1, 0, 0)), "0:0 mix");
    /* 3 tokens at 300/s and 1 at 20/s take 0.01 + 0.05 s: 4 / 0.06 = 66.67 tok/s. */
    CHECK(near(ic_blend_tok_per_s(300, 20, 3, 1), 4 / 0.06, 1e-9), "blended tok/s");
    /* The blended cost equals the cost at the blended throughput. */
    CHECK(near(ic_blend(ic_usd_per_mtok(1, 300), ic_usd_per_mtok(1, 20), 3, 1),
               ic_usd_per_mtok(1, ic_blend_tok_per_s(300, 20, 3, 1)), 1e-9),
          "blend consistency");
    double a, b;
    CHECK(ic_mix_parse("3:1", &a, &b) == 0 && a == 3 && b == 1, "mix 3:1");
    CHECK(ic_mix_parse("0.5:2", &a, &b) == 0 && a == 0.5 && b == 2, "mix 0.5:2");
    CHECK(ic_mix_parse("3", &a, &b) != 0, "mix 3");
    CHECK(ic_mix_parse("3:", &a, &b) != 0, "mix 3:");
    CHECK(ic_mix_parse("-1:2", &a, &b) != 0, "mix -1:2");
    CHECK(ic_mix_parse("0:0", &a, &b) != 0, "mix 0:0");
    CHECK(ic_mix_parse("1:2x", &a, &b) != 0, "mix 1:2x");
}

static void test_catalog(void) {
    ic_catalog cat;
    char err[512];
    int rc = ic_catalog_load(&cat, NULL, err, sizeof err);
    CHECK(rc == 0, "load the source tree's catalog: %s", err);
    if (rc) return;
    CHECK(cat.n_instances > 200 && cat.n_prices > 200 && cat.n_chips >= 11, "sizes %zu %zu %zu",
          cat.n_instances, cat.n_prices, cat.n_chips);
    ic_price p;
    rc = ic_price_lookup(&cat, "p5.48xlarge", "us-east-1", IC_PRICING_ON_DEMAND, &p, err,
                         sizeof err);
    CHECK(rc == 0 && p.usd_per_hour == 55.04, "p5 on-demand %g (%s)", p.usd_per_hour, err);
    CHECK(strcmp(p.date, "2026-07-20") == 0 && strstr(p.source, "karpenter"), "p5 source %s %s",
          p.source, p.date);
    /* Discounts from discounts.tsv: spot 0.65, savings-1y 0.28, savings-3y 0.50. */
    const struct {
        ic_pricing mode;
        double want;
    } modes[] = {{IC_PRICING_SPOT, 55.04 * 0.35},
                 {IC_PRICING_SAVINGS_1Y, 55.04 * 0.72},
                 {IC_PRICING_SAVINGS_3Y, 27.52}};
    for (size_t i = 0; i < 3; i++) {
        rc = ic_price_lookup(&cat, "p5.48xlarge", "us-east-1", modes[i].mode, &p, err, sizeof err);
        CHECK(rc == 0 && near(p.usd_per_hour, modes[i].want, 1e-9) &&
                  p.on_demand_usd_per_hour == 55.04,
              "%s: %g want %g", ic_pricing_name(modes[i].mode), p.usd_per_hour, modes[i].want);
        CHECK(strstr(p.discount_source, "assumption") && p.discount_date[0],
              "%s discount source '%s'", ic_pricing_name(modes[i].mode), p.discount_source);
    }
    CHECK(near(ic_usd_per_mtok(27.52, 8000), 0.9555556, 1e-6), "savings-3y p5 $/Mtok");
    rc = ic_price_lookup(&cat, "z9.huge", "us-east-1", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "unknown instance type 'z9.huge'"), "unknown type: %d %s", rc,
          err);
    rc = ic_price_lookup(&cat, "c7i.large", "eu-west-9", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "no price for region 'eu-west-9'"), "unknown region: %s", err);
    ic_pricing m;
    CHECK(ic_pricing_parse("savings-3y", &m) == 0 && m == IC_PRICING_SAVINGS_3Y,
          "parse savings-3y");
    CHECK(ic_pricing_parse("reserved", &m) != 0, "parse reserved");

    /* Instance facts and bandwidth shares. */
    const ic_instance_info *i48 = ic_catalog_instance(&cat, "c7i.48xlarge");
    const ic_instance_info *g = ic_catalog_instance(&cat, "c7g.large");
    const ic_instance_info *p5 = ic_catalog_instance(&cat, "p5.48xlarge");
    CHECK(i48 && i48->vcpus == 192 && i48->memory_gib == 384, "c7i.48xlarge facts");
    CHECK(g && g->vcpus == 2 && g->memory_gib == 4 && strcmp(g->chip, "graviton3") == 0,
          "c7g.large");
    CHECK(p5 && p5->accelerators == 8 && strcmp(p5->chip, "h100-sxm") == 0, "p5.48xlarge");
    if (i48 && g && p5) {
        CHECK(near(ic_instance_mem_bw_gbs(i48, ic_catalog_chip(&cat, i48->chip)), 614.4, 1e-9),
              "c7i.48xlarge: 2 sockets of 307.2 GB/s");
        CHECK(near(ic_instance_mem_bw_gbs(g, ic_catalog_chip(&cat, g->chip)), 9.6, 1e-9),
              "c7g.large: 2/64 of 307.2 GB/s");
        CHECK(near(ic_instance_mem_bw_gbs(p5, ic_catalog_chip(&cat, p5->chip)), 26800, 1e-9),
              "p5.48xlarge: 8 x 3350 GB/s");
        CHECK(near(ic_instance_peak_tflops(p5, ic_catalog_chip(&cat, p5->chip)), 7912, 1e-9),
              "p5 peak");
    }
    const ic_chip_info *gv = ic_catalog_chip(&cat, "graviton2");
    CHECK(gv && gv->device_mem_gib == 0, "CPU rows' note is not read as device memory");
    const ic_token_price *tp = ic_catalog_token_price(&cat, "claude-sonnet-4.5");
    CHECK(tp && tp->input_usd_per_mtok == 3 && tp->output_usd_per_mtok == 15, "sonnet list price");
    ic_catalog_free(&cat);
}

/* A catalog with one file replaced must fail with a message naming the file, line and field. */
static void bad_catalog(const char *file, const char *text, const char *want) {
    char dir[512], cmd[1200];
    snprintf(dir, sizeof dir, "%s/badcat", g_tmp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, default_catalog(), dir);
    if (system(cmd) != 0) {
        CHECK(0, "copy catalog");
        return;
    }
    write_file(dir, file, text);
    ic_catalog cat;
    char err[512] = "";
    int rc = ic_catalog_load(&cat, dir, err, sizeof err);
    CHECK(rc == 2 && strstr(err, want), "%s: rc %d, err '%s', want '%s'", file, rc, err, want);
    if (rc == 0) ic_catalog_free(&cat);
}

static void test_bad_catalogs(void) {
    const char *ph = "instance_type\tregion\tusd_per_hour\tsource\tdate\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t-0.5\tx\t2026-01-01\n", ph);
    bad_catalog("prices.tsv", buf, "prices.tsv:2: usd_per_hour -0.5 is below 1e-06");
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\tcheap\tx\t2026-01-01\n", ph);
    bad_catalog("prices.tsv", buf, "prices.tsv:2: usd_per_hour 'cheap' is not a number");
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t0\tx\t2026-01-01\n", ph);
    bad_catalog("prices.tsv", buf, "prices.tsv:2: usd_per_hour 0 is below 1e-06");
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t0.1\tx\n", ph);
    bad_catalog("prices.tsv", buf, "prices.tsv:2: 4 fields, the header has 5");
    snprintf(buf, sizeof buf, "%sc7i.large\tus-east-1\t0.1\t\t2026-01-01\n", ph);
    bad_catalog("prices.tsv", buf, "prices.tsv:2: source is empty");
    bad_catalog("prices.tsv", "# only a comment\ninstance_type\tregion\tprice\tsource\tdate\n",
                "prices.tsv:2: header has no column 'usd_per_hour'");
    bad_catalog("instances.tsv",
                "instance_type\tfamily\tvcpus\tmemory_gib\tchip\taccelerators\tbasis\n"
                "c7i.large\tc7i\ttwo\t4\txeon\t0\tnaming\n",
                "instances.tsv:2: vcpus 'two' is not a number");
    bad_catalog("discounts.tsv",
                "pricing\tdiscount\tsource\tdate\nspot\t1.2\tassumption\t2026-11-26\n",
                "discounts.tsv:2: discount 1.2 must be below 1");
    bad_catalog("discounts.tsv",
                "pricing\tdiscount\tsource\tdate\nreserved\t0.3\tassumption\t2026-11-26\n",
                "discounts.tsv:2: pricing 'reserved' is not one of");
    bad_catalog(
        "token-prices.tsv",
        "model\tinput_usd_per_mtok\toutput_usd_per_mtok\tsource\tdate\nm\t-3\t15\tx\t2026\n",
        "token-prices.tsv:2: input_usd_per_mtok -3 is below 0");
    bad_catalog("chips.tsv", "chip\tarch\n", "chips.tsv:1: header has no column 'families'");

    ic_catalog cat;
    char err[512];
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-dir", g_tmp);
    CHECK(ic_catalog_load(&cat, missing, err, sizeof err) == 2 && strstr(err, "does not exist"),
          "missing catalog dir: %s", err);
}

static void fake_dmi(const char *name, const char *sys_vendor, const char *board_vendor,
                     const char *product, char *root, size_t len) {
    snprintf(root, len, "%s/%s", g_tmp, name);
    char dir[700], cmd[800];
    snprintf(dir, sizeof dir, "%s/devices/virtual/dmi/id", root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return;
    if (sys_vendor) write_file(dir, "sys_vendor", sys_vendor);
    if (board_vendor) write_file(dir, "board_vendor", board_vendor);
    if (product) write_file(dir, "product_name", product);
}

static void test_instance(void) {
    char root[600], type[48], why[256];
    fake_dmi("ec2", "Amazon EC2\n", "Amazon EC2\n", "c7i.large\n", root, sizeof root);
    CHECK(ic_instance_detect(root, type, sizeof type, why, sizeof why) == 1 &&
              strcmp(type, "c7i.large") == 0,
          "EC2 c7i.large: '%s' %s", type, why);
    fake_dmi("ec2board", "", "Amazon EC2\n", "m8g.metal-24xl\n", root, sizeof root);
    CHECK(ic_instance_detect(root, type, sizeof type, why, sizeof why) == 1 &&
              strcmp(type, "m8g.metal-24xl") == 0,
          "board_vendor only: '%s' %s", type, why);
    fake_dmi("qemu", "QEMU\n", NULL, "Standard PC (Q35 + ICH9, 2009)\n", root, sizeof root);
    CHECK(ic_instance_detect(root, type, sizeof type, why, sizeof why) == 0 &&
              strstr(why, "not an EC2 instance") && strstr(why, "QEMU") && !type[0],
          "QEMU: %s", why);
    fake_dmi("xen", "Amazon EC2\n", NULL, "HVM domU\n", root, sizeof root);
    CHECK(ic_instance_detect(root, type, sizeof type, why, sizeof why) == 0 &&
              strstr(why, "not an instance type"),
          "EC2 with an odd product_name: %s", why);
    snprintf(root, sizeof root, "%s/empty", g_tmp);
    CHECK(ic_instance_detect(root, type, sizeof type, why, sizeof why) == 0 &&
              strstr(why, "not an EC2 instance"),
          "no DMI: %s", why);
    CHECK(ic_instance_type_valid("p6-b200.48xlarge"), "p6-b200.48xlarge");
    CHECK(!ic_instance_type_valid("c7i"), "c7i");
    CHECK(!ic_instance_type_valid("../etc.passwd"), "path");
    CHECK(!ic_instance_type_valid("C7I.LARGE"), "upper case");
}

static void test_import(void) {
    char dir[512], cmd[1200], path[600], err[512];
    snprintf(dir, sizeof dir, "%s/importcat", g_tmp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, default_catalog(), dir);
    if (system(cmd) != 0) {
        CHECK(0, "copy catalog");
        return;
    }
    ic_catalog cat;
    if (ic_catalog_load(&cat, dir, err, sizeof err) != 0) {
        CHECK(0, "load copy: %s", err);
        return;
    }
    size_t before = cat.n_prices;
    ic_import_report rep;
    snprintf(path, sizeof path, "%s/aws-offer-ec2.json", g_data);
    int rc = ic_prices_import(&cat, path, "us-east-1", &rep, err, sizeof err);
    CHECK(rc == 0, "import: %s", err);
    /* SKU1 c7i.large and SKU12 c8g.large (location only) update; SKU5 x9z.large is new. */
    CHECK(rep.updated == 2 && rep.added == 1 && rep.unknown_types == 1,
          "updated %zu added %zu unknown %zu", rep.updated, rep.added, rep.unknown_types);
    /* SKU2 Windows, SKU3 Dedicated, SKU4 reservation, SKU8 us-west-2, SKU10 Storage, SKU13 SQL. */
    CHECK(rep.skipped_not_matching == 6, "not matching %zu", rep.skipped_not_matching);
    /* SKU6 has no tenancy, SKU11 no on-demand term. */
    CHECK(rep.skipped_missing == 2 && strstr(rep.first_missing, "SKU6"), "missing %zu %s",
          rep.skipped_missing, rep.first_missing);
    CHECK(rep.skipped_non_usd == 1 && strstr(rep.first_non_usd, "SKU7"), "non-USD %zu",
          rep.skipped_non_usd);
    CHECK(rep.skipped_zero == 1, "zero %zu", rep.skipped_zero);
    CHECK(cat.n_prices == before + 1, "one row added");
    ic_price p;
    rc = ic_price_lookup(&cat, "c7i.large", "us-east-1", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 0 && p.usd_per_hour == 0.09 && strcmp(p.date, "2026-11-01") == 0 &&
              strstr(p.source, "aws-offer-ec2.json"),
          "c7i.large now %g %s %s", p.usd_per_hour, p.date, p.source);
    rc = ic_price_lookup(&cat, "r7g.large", "us-east-1", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 0 && p.usd_per_hour == 0.1071, "r7g.large kept its old price (non-USD skipped)");
    ic_catalog_free(&cat);

    /* The written file reads back the same. */
    rc = ic_catalog_load(&cat, dir, err, sizeof err);
    CHECK(rc == 0 && cat.n_prices == before + 1, "reload: %s", err);
    rc = ic_price_lookup(&cat, "x9z.large", "us-east-1", IC_PRICING_ON_DEMAND, &p, err, sizeof err);
    CHECK(rc == 0 && p.usd_per_hour == 1.5, "x9z.large after reload");
    rc = ic_price_lookup(&cat, "p5.48xlarge", "us-east-1", IC_PRICING_ON_DEMAND, &p, err,
                         sizeof err);
    CHECK(rc == 0 && p.usd_per_hour == 55.04, "p5 $0 entry skipped, old price kept");

    /* A bad price is an error and leaves the file and the catalog as they were. */
    char prices[600];
    snprintf(prices, sizeof prices, "%s/prices.tsv", dir);
    char *old = read_all(prices);
    size_t n_old = cat.n_prices;
    snprintf(path, sizeof path, "%s/aws-offer-bad-price.json", g_data);
    rc = ic_prices_import(&cat, path, "us-east-1", &rep, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "SKU1") && strstr(err, "pricePerUnit.USD") && strstr(err, "'abc'"),
          "bad price: %d %s", rc, err);
    char *now = read_all(prices);
    CHECK(old && now && strcmp(old, now) == 0 && cat.n_prices == n_old,
          "bad import changed nothing");
    free(now);
    snprintf(path, sizeof path, "%s/aws-offer-no-products.json", g_data);
    rc = ic_prices_import(&cat, path, "us-east-1", &rep, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "no 'products' object"), "no products: %s", err);
    snprintf(path, sizeof path, "%s/aws-offer-ec2.json", g_data);
    rc = ic_prices_import(&cat, path, "ap-south-9", &rep, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "region 'ap-south-9'"), "no rows for region: %s", err);
    now = read_all(prices);
    CHECK(old && now && strcmp(old, now) == 0, "failed imports changed nothing");
    free(now);
    free(old);
    /* No temporary files left behind. */
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    CHECK(system(cmd) != 0, "no temporary file left in the catalog");
    ic_catalog_free(&cat);
}

static ic_econ_inputs base_inputs(void) {
    ic_econ_inputs in = {0};
    in.price_in_usd_per_mtok = 3;
    in.price_out_usd_per_mtok = 15;
    in.cost_in_usd_per_mtok = 0.3;
    in.cost_out_usd_per_mtok = 2.7;
    in.mix_in = 3;
    in.mix_out = 1;
    in.utilization = 0.6;
    in.revenue_share = 0.1;
    in.pass_through = 1;
    in.have_tco = 1;
    in.capex_usd_per_server = 400000;
    in.amortization_years = 5;
    in.power_kw = 10;
    in.usd_per_kwh = 0.08;
    in.pue = 1.2;
    in.server_tok_per_s = 5000;
    return in;
}

static void test_econ(void) {
    ic_econ_inputs in = base_inputs();
    char err[256];
    CHECK(ic_econ_check(&in, err, sizeof err) == 0, "valid inputs: %s", err);
    ic_econ_outputs o;
    ic_econ_compute(&in, 1.0, &o);
    /* By hand: P = (3*3 + 15)/4 = 6; C = (3*0.3 + 2.7)/4 = 0.9; F = 0.9/0.6 = 1.5; S = 0.6;
     * vendor profit 3.9, margin 0.65; platform revenue 2.1; TCO/h = 400000/(5*8766) + 10*1.2*0.08
     * = 9.1256 + 0.96 = 10.0862; T = 10.0862 / (5000*3600*0.6) * 1e6 = 0.933905; platform profit
     * 1.166095, margin 0.555283. */
    CHECK(near(o.price_usd_per_mtok, 6, 1e-12), "P %g", o.price_usd_per_mtok);
    CHECK(near(o.cost_full_usd_per_mtok, 0.9, 1e-12), "C %g", o.cost_full_usd_per_mtok);
    CHECK(near(o.infra_fee_usd_per_mtok, 1.5, 1e-12), "F %g", o.infra_fee_usd_per_mtok);
    CHECK(near(o.revenue_share_usd_per_mtok, 0.6, 1e-12), "S %g", o.revenue_share_usd_per_mtok);
    CHECK(near(o.vendor_profit_usd_per_mtok, 3.9, 1e-12), "vendor profit");
    CHECK(near(o.vendor_gross_margin, 0.65, 1e-12), "vendor margin %g", o.vendor_gross_margin);
    CHECK(near(o.platform_revenue_usd_per_mtok, 2.1, 1e-12), "platform revenue");
    CHECK(near(o.tco_usd_per_server_hour, 400000 / (5 * 8766.0) + 0.96, 1e-9), "TCO/h %g",
          o.tco_usd_per_server_hour);
    CHECK(near(o.platform_cost_usd_per_mtok, 0.933905, 1e-6), "T %g", o.platform_cost_usd_per_mtok);
    CHECK(near(o.platform_profit_usd_per_mtok, 1.166095, 1e-6), "platform profit");
    CHECK(near(o.platform_margin, 0.555283, 1e-6), "platform margin %g", o.platform_margin);

    /* Ratio 1.30, full pass-through: F = 1.5/1.3 = 1.153846; vendor margin (6 - 1.753846)/6 =
     * 0.707692; platform revenue 1.753846; T = 0.933905/1.3 = 0.718389; margin 0.590392. */
    ic_econ_compute(&in, 1.3, &o);
    CHECK(near(o.cost_full_usd_per_mtok, 0.9 / 1.3, 1e-12), "C at 1.3");
    CHECK(near(o.infra_fee_usd_per_mtok, 1.153846, 1e-6), "F at 1.3: %g", o.infra_fee_usd_per_mtok);
    CHECK(near(o.vendor_gross_margin, 0.707692, 1e-6), "vendor margin at 1.3: %g",
          o.vendor_gross_margin);
    CHECK(near(o.platform_revenue_usd_per_mtok, 1.753846, 1e-6), "platform revenue at 1.3");
    CHECK(near(o.platform_cost_usd_per_mtok, 0.718389, 1e-6), "T at 1.3");
    CHECK(near(o.platform_margin, 0.590392, 1e-6), "platform margin at 1.3: %g", o.platform_margin);
    /* No pass-through: the vendor pays the old fee; the platform keeps the saving. */
    in.pass_through = 0;
    ic_econ_compute(&in, 1.3, &o);
    CHECK(near(o.vendor_gross_margin, 0.65, 1e-12), "vendor margin unchanged");
    CHECK(near(o.platform_revenue_usd_per_mtok, 2.1, 1e-12), "platform revenue unchanged");
    CHECK(near(o.platform_margin, (2.1 - 0.718389) / 2.1, 1e-6), "platform margin 0.657910: %g",
          o.platform_margin);
    /* Half pass-through: F = 1.5 * (1 - 0.5 * (1 - 1/1.3)) = 1.326923. */
    in.pass_through = 0.5;
    ic_econ_compute(&in, 1.3, &o);
    CHECK(near(o.infra_fee_usd_per_mtok, 1.326923, 1e-6), "F at half pass-through");
    /* Utilization 1, ratio 2 (a sensitivity cell): F = 0.45, margin (6 - 1.05)/6 = 0.825. */
    in = base_inputs();
    in.utilization = 1;
    ic_econ_compute(&in, 2, &o);
    CHECK(near(o.vendor_gross_margin, 0.825, 1e-12), "u=1 r=2 vendor %g", o.vendor_gross_margin);
    CHECK(near(o.platform_margin, (1.05 - 0.933905 * 0.6 / 2) / 1.05, 1e-6), "u=1 r=2 platform %g",
          o.platform_margin);
    /* A margin goes negative when the fee exceeds the price: the model must not clamp it. */
    in = base_inputs();
    in.cost_out_usd_per_mtok = 30;
    ic_econ_compute(&in, 1, &o);
    CHECK(o.vendor_gross_margin < 0, "negative margin %g", o.vendor_gross_margin);
}

#define BAD_INPUT(field_expr, want)                                                                \
    do {                                                                                           \
        ic_econ_inputs x = base_inputs();                                                          \
        field_expr;                                                                                \
        char e[256] = "";                                                                          \
        CHECK(ic_econ_check(&x, e, sizeof e) == 2 && strstr(e, want), "%s: '%s'", want, e);        \
    } while (0)

static void test_econ_bad(void) {
    BAD_INPUT(x.utilization = 0, "utilization: must be in (0, 1]");
    BAD_INPUT(x.utilization = 1.5, "utilization");
    BAD_INPUT(x.utilization = NAN, "utilization");
    BAD_INPUT(x.revenue_share = 1, "platform.revenue_share");
    BAD_INPUT(x.price_out_usd_per_mtok = -15, "selling_price.output_usd_per_mtok");
    BAD_INPUT(x.cost_in_usd_per_mtok = -1, "serving_cost.input_usd_per_mtok");
    BAD_INPUT(x.price_in_usd_per_mtok = 0; x.price_out_usd_per_mtok = 0, "selling_price");
    BAD_INPUT(x.mix_in = 0; x.mix_out = 0, "mix");
    BAD_INPUT(x.pass_through = 2, "price_performance.pass_through");
    BAD_INPUT(x.pue = 0.5, "tco.pue");
    BAD_INPUT(x.amortization_years = 0, "tco.amortization_years");
    BAD_INPUT(x.server_tok_per_s = 0, "tco.server_tok_per_s");
    BAD_INPUT(x.power_kw = -1, "tco.power_kw");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_economics DATA_DIR\n");
        return 2;
    }
    g_data = argv[1];
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ic_test_econ.XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_formulas();
    test_catalog();
    test_bad_catalogs();
    test_instance();
    test_import();
    test_econ();
    test_econ_bad();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return ic_test_finish("test_economics");
}
