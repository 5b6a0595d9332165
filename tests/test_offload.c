/* The offload registry (kernels/offload/ic_offload.h) and the Neuron stub's dlopen seam: on this
 * machine the runtime is absent (unavailable, with dlopen's reason); with a stand-in library
 * (tests/nrt_stub.c) it is found, its NeuronCores counted, and still unavailable because nothing
 * can run without a NEFF; a library lacking an entry point is named as such.
 * Usage: test_offload [STUB.so STUB_NO_EXECUTE.so] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ic_offload.h"
#include "ic_test.h"

static void registry(void) {
    const ic_offload_ops *cuda = ic_offload_find("cuda"), *neuron = ic_offload_find("neuron");
    CHECK(cuda && neuron, "both backends are known");
    CHECK(ic_offload_backend(0) == cuda && ic_offload_backend(1) == neuron &&
              ic_offload_backend(2) == NULL,
          "the fixed order, NULL past the end");
    CHECK(ic_offload_find("tpu") == NULL, "an unknown backend");
    for (size_t i = 0; ic_offload_backend(i); i++) {
        const ic_offload_ops *b = ic_offload_backend(i);
        ic_offload_info info;
        b->probe(&info);
        CHECK(info.state == IC_OFFLOAD_USABLE || info.why[0], "%s: not usable says why", b->name);
        printf("%s: %s%s%s\n", b->name, ic_offload_state_name(info.state), info.why[0] ? ": " : "",
               info.why);
    }
    CHECK(strcmp(ic_offload_state_name(IC_OFFLOAD_NOT_BUILT), "not built") == 0, "state names");
}

static void neuron_absent(void) {
    const ic_offload_ops *n = ic_offload_find("neuron");
    ic_offload_info info;
    setenv("IC_NRT_LIBRARY", "/nonexistent/libnrt.so.1", 1);
    n->probe(&info);
    CHECK(info.state == IC_OFFLOAD_UNAVAILABLE, "state %d", info.state);
    CHECK(strncmp(info.why, "Neuron runtime not found (", 26) == 0 &&
              strstr(info.why, "/nonexistent/libnrt.so.1"),
          "why: %s", info.why);
    ic_offload_ctx *c = (ic_offload_ctx *)&info;
    char err[400];
    CHECK(n->init(0, &c, err, sizeof err) == -1 && c == NULL, "init fails");
    CHECK(strncmp(err, "unavailable: Neuron runtime not found", 37) == 0, "init says: %s", err);
    unsetenv("IC_NRT_LIBRARY");
}

static void neuron_stub(const char *stub, const char *stub_no_exec) {
    const ic_offload_ops *n = ic_offload_find("neuron");
    ic_offload_info info;
    setenv("IC_NRT_LIBRARY", stub, 1);
    n->probe(&info);
    CHECK(info.state == IC_OFFLOAD_UNAVAILABLE && info.n_devices == 2, "stub: state %d, %d cores",
          info.state, info.n_devices);
    CHECK(strstr(info.why, "answers (2 NeuronCores)") && strstr(info.why, "needs a NEFF"),
          "stub why: %s", info.why);
    setenv("IC_NRT_LIBRARY", stub_no_exec, 1);
    n->probe(&info);
    CHECK(info.state == IC_OFFLOAD_UNAVAILABLE && strstr(info.why, "lacks nrt_execute"),
          "missing entry point: %s", info.why);
    unsetenv("IC_NRT_LIBRARY");
}

int main(int argc, char **argv) {
    registry();
    neuron_absent();
    if (argc == 3) neuron_stub(argv[1], argv[2]);
    return ic_test_finish("test_offload");
}
