/* EC2 instance detection from DMI: Nitro instances report sys_vendor/board_vendor "Amazon EC2" and
 * the instance type as product_name. */
#define _GNU_SOURCE
#include "instance.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

/* Reads one short sysfs attribute, trailing whitespace removed; "" when absent or unreadable.
 * Only a regular file is read (sysfs attributes are): the open does not wait for a FIFO's writer,
 * and a FIFO, device or directory reads as absent. */
static void read_attr(const char *root, const char *name, char *out, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/devices/virtual/dmi/id/%s", root, name);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = read(fd, out, len - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0'; /* the first line, as fgets read it */
    size_t k = strlen(out);
    while (k && isspace((unsigned char)out[k - 1])) out[--k] = '\0';
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
    /* The strings go into messages and result files: control characters are escaped there. */
    char esc_sys[4 * sizeof sys_vendor], esc_board[4 * sizeof board_vendor],
        esc_product[4 * sizeof product];
    ic_escape_controls(sys_vendor[0] ? sys_vendor : "unreadable", esc_sys, sizeof esc_sys);
    ic_escape_controls(board_vendor[0] ? board_vendor : "unreadable", esc_board, sizeof esc_board);
    ic_escape_controls(product, esc_product, sizeof esc_product);
    if (strcmp(sys_vendor, "Amazon EC2") != 0 && strcmp(board_vendor, "Amazon EC2") != 0) {
        snprintf(why, whylen, "not an EC2 instance (DMI sys_vendor '%s', board_vendor '%s')",
                 esc_sys, esc_board);
        return 0;
    }
    if (!ic_instance_type_valid(product) || strlen(product) >= typelen) {
        snprintf(why, whylen,
                 "EC2 instance, but DMI product_name '%s' is not an instance type; give --instance",
                 esc_product);
        return 0;
    }
    snprintf(type, typelen, "%s", product);
    why[0] = '\0';
    return 1;
}
