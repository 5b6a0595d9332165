/* Pricing: shared options, price resolution, $/Mtok, and the "measured on / priced as" label. */
#define _GNU_SOURCE
#include "pricing.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "instance.h"

void ic_price_opts_init(ic_price_opts *o) {
    memset(o, 0, sizeof *o);
    o->region = "us-east-1";
    o->pricing = IC_PRICING_ON_DEMAND;
}

/* A finite number in (0, hi], the whole argument. */
static int parse_positive(const char *s, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || !(v > 0) || v > hi) return -1;
    *out = v;
    return 0;
}

static int region_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 31) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

int ic_price_opts_parse(ic_price_opts *o, int c, const char *arg, char *err, size_t errlen) {
    switch (c) {
    case IC_OPT_INSTANCE:
        if (!ic_instance_type_valid(arg)) {
            snprintf(err, errlen, "--instance '%s': not an instance type name (e.g. c7i.large)",
                     arg);
            return -1;
        }
        o->instance = arg;
        return 1;
    case IC_OPT_REGION:
        if (!region_valid(arg)) {
            snprintf(err, errlen, "--region '%s': not a region name (e.g. us-east-1)", arg);
            return -1;
        }
        o->region = arg;
        return 1;
    case IC_OPT_PRICING:
        if (ic_pricing_parse(arg, &o->pricing)) {
            snprintf(err, errlen,
                     "--pricing '%s': expected on-demand, spot, savings-1y or savings-3y", arg);
            return -1;
        }
        o->pricing_given = 1;
        return 1;
    case IC_OPT_CATALOG:
        if (arg[0] == '\0') {
            snprintf(err, errlen, "--catalog '': expected a directory");
            return -1;
        }
        o->catalog_dir = arg;
        return 1;
    case IC_OPT_USD_PER_HOUR:
        if (parse_positive(arg, IC_MAX_USD_PER_HOUR, &o->usd_per_hour)) {
            snprintf(err, errlen,
                     "--usd-per-hour '%s': expected a price in USD per hour, above 0 "
                     "and at most 1e6",
                     arg);
            return -1;
        }
        return 1;
    case IC_OPT_TPOT_MS:
        if (parse_positive(arg, IC_MAX_TPOT_MS, &o->tpot_ms)) {
            snprintf(err, errlen,
                     "--tpot-ms '%s': expected milliseconds per token, above 0 and at most 1e7",
                     arg);
            return -1;
        }
        return 1;
    }
    return 0;
}

int ic_price_opts_check(const ic_price_opts *o, char *err, size_t errlen) {
    if (o->usd_per_hour > 0 && o->pricing_given && o->pricing != IC_PRICING_ON_DEMAND) {
        snprintf(err, errlen,
                 "--usd-per-hour and --pricing %s cannot be combined: a given price "
                 "is the price paid",
                 ic_pricing_name(o->pricing));
        return -1;
    }
    return 0;
}

double ic_usd_per_mtok(double usd_per_hour, double tok_per_s) {
    if (!(usd_per_hour > 0) || !(tok_per_s > 0) || !isfinite(usd_per_hour) || !isfinite(tok_per_s))
        return NAN;
    return usd_per_hour / (tok_per_s * 3600.0) * 1e6;
}

double ic_tok_per_usd(double usd_per_hour, double tok_per_s) {
    if (!(usd_per_hour > 0) || !(tok_per_s > 0) || !isfinite(usd_per_hour) || !isfinite(tok_per_s))
        return NAN;
    return tok_per_s * 3600.0 / usd_per_hour;
}

static void today_utc(char *buf, size_t len) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

static void given_price(const ic_price_opts *o, ic_priced *out) {
    out->origin = IC_PRICE_GIVEN;
    ic_price *p = &out->price;
    snprintf(p->instance_type, sizeof p->instance_type, "%s", o->instance ? o->instance : "");
    snprintf(p->region, sizeof p->region, "%s", o->instance ? o->region : "");
    p->pricing = IC_PRICING_ON_DEMAND;
    p->usd_per_hour = p->on_demand_usd_per_hour = o->usd_per_hour;
    snprintf(p->source, sizeof p->source, "price given on the command line (--usd-per-hour)");
    today_utc(p->date, sizeof p->date);
    snprintf(out->basis, sizeof out->basis, "%s", o->instance ? "--instance" : "no type");
}

int ic_price_resolve(const ic_price_opts *o, const ic_catalog *cat, const char *measured_on,
                     const ic_result_pricing *recorded, ic_priced *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (o->usd_per_hour > 0) {
        given_price(o, out);
        return 0;
    }
    const char *type =
        o->instance ? o->instance : (measured_on && measured_on[0] ? measured_on : NULL);
    if (type) {
        char why[400] = "no catalog loaded";
        int rc =
            cat ? ic_price_lookup(cat, type, o->region, o->pricing, &out->price, why, sizeof why)
                : 2;
        if (rc == 0) {
            out->origin = IC_PRICE_CATALOG;
            snprintf(out->basis, sizeof out->basis, "%s",
                     o->instance ? "--instance" : "measured on it (DMI)");
            return 0;
        }
        if (o->instance) {
            snprintf(err, errlen, "%s", why);
            return 2;
        }
        snprintf(out->note, sizeof out->note, "no price for %s (measured on it, from DMI): %s",
                 type, why);
    }
    if (recorded && recorded->present && !o->pricing_given) {
        out->origin = IC_PRICE_RECORDED;
        out->price = recorded->price;
        snprintf(out->basis, sizeof out->basis, "the price the run recorded");
        return 0;
    }
    if (out->note[0] == '\0')
        snprintf(out->note, sizeof out->note,
                 "no price: not measured on an EC2 instance%s; add --instance TYPE (catalog "
                 "price) or --usd-per-hour X",
                 recorded && recorded->present && o->pricing_given
                     ? " and the recorded price has no pricing mode"
                     : "");
    return 0;
}

void ic_priced_to_record(const ic_priced *p, const char *today, ic_result_pricing *out) {
    memset(out, 0, sizeof *out);
    if (p->origin == IC_PRICE_NONE) return;
    out->present = 1;
    out->price = p->price;
    out->given = p->origin == IC_PRICE_GIVEN && p->price.instance_type[0] == '\0';
    if (p->origin == IC_PRICE_GIVEN && today)
        snprintf(out->price.date, sizeof out->price.date, "%s", today);
}

void ic_priced_describe(const ic_priced *p, char *out, size_t len) {
    const ic_price *q = &p->price;
    int n = 0;
    switch (p->origin) {
    case IC_PRICE_NONE:
        snprintf(out, len, "%s", p->note);
        return;
    case IC_PRICE_GIVEN:
        n = snprintf(out, len, "price given on the command line, $%.4f/h (--usd-per-hour)%s%s",
                     q->usd_per_hour, q->instance_type[0] ? ", priced as " : "", q->instance_type);
        return;
    case IC_PRICE_RECORDED:
        n = snprintf(out, len, "$%.4f/h, the price the run recorded (%s, %s)", q->usd_per_hour,
                     q->source, q->date);
        return;
    case IC_PRICE_CATALOG:
        n = snprintf(out, len, "%s %s %s at $%.4f/h (catalog: %s, %s)", q->instance_type,
                     ic_pricing_name(q->pricing), q->region, q->usd_per_hour, q->source, q->date);
        break;
    }
    if (q->discount > 0 && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "; %.0f%% off on-demand $%.4f/h (%s, %s)",
                 100 * q->discount, q->on_demand_usd_per_hour, q->discount_source,
                 q->discount_date);
}

int ic_priced_elsewhere(const char *measured_on, const ic_priced *p) {
    if (p->origin == IC_PRICE_NONE || p->price.instance_type[0] == '\0') return 0;
    return !measured_on || strcmp(measured_on, p->price.instance_type) != 0;
}

void ic_priced_label(ic_provenance prov, const char *measured_on, const ic_priced *p, char *out,
                     size_t len) {
    if (!ic_priced_elsewhere(measured_on, p)) {
        snprintf(out, len, "%s", ic_provenance_name(prov));
        return;
    }
    char where[64];
    if (measured_on && measured_on[0])
        snprintf(where, sizeof where, "%s", measured_on);
    else
        snprintf(where, sizeof where, "a non-EC2 host");
    if (prov == IC_PROV_MEASURED)
        snprintf(out, len, "measured on %s, priced as %s", where, p->price.instance_type);
    else
        snprintf(out, len, "%s: measured on %s, priced as %s", ic_provenance_name(prov), where,
                 p->price.instance_type);
}

int ic_chip_contradicts(const ic_chip_info *chip, const ic_host_id *host, char *why, size_t len) {
    /* An accelerator instance's host CPU is not the chip the catalog names: nothing to compare. */
    if (chip == NULL || strcmp(chip->arch, "cuda") == 0 || strcmp(chip->arch, "neuron") == 0)
        return 0;
    if (host->arch[0] && strcmp(chip->arch, host->arch) != 0) {
        snprintf(why, len, "the result's CPU is %s, but %s is %s", host->arch, chip->name,
                 chip->arch);
        return 1;
    }
    /* x86 chips are named by family; the CPUID vendor string says whose the host's CPU is. */
    const char *vendor = strncmp(chip->name, "xeon", 4) == 0   ? "GenuineIntel"
                         : strncmp(chip->name, "epyc", 4) == 0 ? "AuthenticAMD"
                                                               : NULL;
    if (vendor && host->cpu_vendor[0] && strcmp(host->cpu_vendor, vendor) != 0) {
        snprintf(why, len, "the result's CPU is %s (%s), not %s's %s", host->cpu_model,
                 host->cpu_vendor, chip->name, vendor);
        return 1;
    }
    return 0;
}
