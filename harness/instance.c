/* EC2 instance detection from DMI: Nitro instances report sys_vendor/board_vendor "Amazon EC2" and
 * the instance type as product_name. */
#include "instance.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one short sysfs attribute, trailing whitespace removed; "" when absent or unreadable. */
static void read_attr(const char *root, const char *name, char *out, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/devices/virtual/dmi/id/%s", root, name);
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    if (!fgets(out, (int)len, fp)) out[0] = '\0';
    fclose(fp);
    size_t n = strlen(out);
    while (n && isspace((unsigned char)out[n - 1])) out[--n] = '\0';
}

int ic_instance_type_valid(const char *s) {
    const char *dot = strchr(s, '.');
    size_t n = strlen(s);
    if (!dot || dot == s || !dot[1] || n > 40) return 0;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.'))
            return 0;
    return strchr(dot + 1, '.') == NULL;
}

int ic_instance_detect(const char *root, char *type, size_t typelen, char *why, size_t whylen) {
    if (!root) root = getenv("IC_SYSFS_ROOT");
    if (!root || !root[0]) root = "/sys";
    char sys_vendor[128], board_vendor[128], product[128];
    read_attr(root, "sys_vendor", sys_vendor, sizeof sys_vendor);
    read_attr(root, "board_vendor", board_vendor, sizeof board_vendor);
    read_attr(root, "product_name", product, sizeof product);
    type[0] = '\0';
    if (strcmp(sys_vendor, "Amazon EC2") != 0 && strcmp(board_vendor, "Amazon EC2") != 0) {
        snprintf(why, whylen, "not an EC2 instance (DMI sys_vendor '%s', board_vendor '%s')",
                 sys_vendor[0] ? sys_vendor : "unreadable",
                 board_vendor[0] ? board_vendor : "unreadable");
        return 0;
    }
    if (!ic_instance_type_valid(product) || strlen(product) >= typelen) {
        snprintf(why, whylen,
                 "EC2 instance, but DMI product_name '%s' is not an instance type; give --instance",
                 product);
        return 0;
    }
    snprintf(type, typelen, "%s", product);
    why[0] = '\0';
    return 1;
}
