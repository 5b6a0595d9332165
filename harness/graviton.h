/* Which AWS Graviton generation a CPU looks like, inferred from its features and SVE vector length
 * (never from the part number alone, which a VM or an emulator may not show). */
#ifndef IC_GRAVITON_H
#define IC_GRAVITON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Returns "Graviton1" .. "Graviton4", or "none" when no generation has this feature set, and writes
 * the evidence ("sve2, 128-bit SVE") into basis. features are IC_F_* bits, sve_vl_bytes 0 without
 * SVE. Pure: it reads nothing but its arguments. The result is an inference, to be labelled so. */
const char *ic_graviton_infer(uint64_t features, size_t sve_vl_bytes, char *basis,
                              size_t basis_len);

/* On aarch64, adds "graviton_inferred": {"generation", "basis"} to a cpu JSON object; elsewhere
 * does nothing. For infercost list. */
void ic_graviton_add_json(json_t *cpu, uint64_t features, size_t sve_vl_bytes);

/* On aarch64, prints infercost list's "Graviton ... (inferred ...)" line to out; elsewhere nothing.
 */
void ic_graviton_print(FILE *out, uint64_t features, size_t sve_vl_bytes);

#endif
