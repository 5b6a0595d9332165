/* A stand-in for the Neuron runtime library, for test_offload only: it exports the entry points
 * the Neuron stub looks up (nrt.h's names), reports 2 NeuronCores, and fails
 * everything that would run. Built twice: complete, and without nrt_execute
 * (-DIC_NRT_STUB_NO_EXECUTE), to test the check of the runtime's entry points. Never installed. */
#include <stdint.h>

#define FAIL 1 /* NRT_FAILURE */

int nrt_init(int framework, const char *fw_version, const char *fal_version) {
    (void)framework, (void)fw_version, (void)fal_version;
    return 0;
}
void nrt_close(void) {}
int nrt_get_total_nc_count(uint32_t *nc_count) {
    *nc_count = 2;
    return 0;
}
int nrt_load(const void *neff, uint64_t size, int32_t start_nc, int32_t nc_count, void **model) {
    (void)neff, (void)size, (void)start_nc, (void)nc_count, (void)model;
    return FAIL;
}
int nrt_unload(void *model) {
    (void)model;
    return FAIL;
}
#ifndef IC_NRT_STUB_NO_EXECUTE
int nrt_execute(void *model, const void *in, void *out) {
    (void)model, (void)in, (void)out;
    return FAIL;
}
#endif
int nrt_allocate_tensor_set(void **set) {
    (void)set;
    return FAIL;
}
int nrt_tensor_allocate(int placement, int nc, uint64_t size, const char *name, void **t) {
    (void)placement, (void)nc, (void)size, (void)name, (void)t;
    return FAIL;
}
int nrt_add_tensor_to_tensor_set(void *set, const char *name, void *t) {
    (void)set, (void)name, (void)t;
    return FAIL;
}
