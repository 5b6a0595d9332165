/* Which EC2 instance type this host is, from the DMI strings the hypervisor exposes in sysfs. It
 * never asks the network metadata service. */
#ifndef IC_INSTANCE_H
#define IC_INSTANCE_H

#include <stddef.h>

/* Reads <root>/devices/virtual/dmi/id/{sys_vendor,board_vendor,product_name}; root NULL means
 * $IC_SYSFS_ROOT if set (for tests), else "/sys". Returns 1 and copies the instance type (e.g.
 * "c7i.large") to type when a vendor string is "Amazon EC2" and product_name looks like a type;
 * returns 0 otherwise, with a reason in why ("not an EC2 instance (sys_vendor 'QEMU')"). */
int ic_instance_detect(const char *root, char *type, size_t typelen, char *why, size_t whylen);

/* 1 when s has the shape of an instance type name ("family.size", letters, digits, '-'), else 0. */
int ic_instance_type_valid(const char *s);

#endif
