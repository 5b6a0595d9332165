/* Modeled accelerator figures: the one rule by which infercost estimates what it cannot run on
 * GPUs (cuda) and AWS Neuron devices (Trainium, Inferentia), used by `run --device D --model-only`
 * and `compare-chips --project`. Every figure it returns is modeled, never measured.
 *
 *   placement  the weights (stored bytes) and the f16 KV cache of `batch` sequences at `context`
 *              positions must fit in IC_ACCEL_MEM_USABLE of a device's memory. A model that fits
 *              one device runs one replica per device; one that does not is split by tensor
 *              parallelism over the fewest devices t (a power of two dividing the instance's count)
 *              that hold it, with scaling efficiency tp_per_doubling^log2(t), and N/t replicas.
 *   decode     the roofline's bound (ic_roofline, the rule a measured figure is held to) for a
 *   prefill    replica that reads at t x HBM bandwidth x decode efficiency x scaling and computes
 *              at t x peak bf16 x prefill efficiency x scaling, times the replicas. So a step
 *              reads the weights once (an MoE model's: the experts its sequences pick between
 *              them) and, decoding, each sequence's KV cache (IC_ACCEL_KV) over the context + 1
 *              positions the token reads; its time is the larger of the read and the FLOP. Short
 *              prompts are memory-bound: llama-3.1-8b bf16, 64 tokens on one H100 at the default
 *              efficiencies, 7.5 ms for the read against 2.3 ms for the FLOP. (Until
 *              2026-12-07 the FLOP alone set a prefill, and this file took the larger of the two
 *              itself, over context positions of the cache rather than context + 1.)
 *
 * Efficiencies are per device class (cuda, neuron), default to the published figures below (each
 * with its source), and can be set by the user; never the CPU's measured efficiency. */
#ifndef IC_ACCEL_H
#define IC_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "model.h"

/* The share of a device's memory the weights and the KV cache may take: the rest is the runtime,
 * activations and workspace (an assumption, stated in every output). */
#define IC_ACCEL_MEM_USABLE 0.90

typedef enum ic_accel_class {
    IC_ACCEL_CUDA = 0,
    IC_ACCEL_NEURON,
    IC_ACCEL_CLASS_COUNT
} ic_accel_class;

typedef struct ic_accel_params {
    double decode_eff[IC_ACCEL_CLASS_COUNT];  /* achieved / peak HBM bandwidth in decode */
    double prefill_eff[IC_ACCEL_CLASS_COUNT]; /* achieved / peak bf16 compute */
    int decode_set[IC_ACCEL_CLASS_COUNT], prefill_set[IC_ACCEL_CLASS_COUNT]; /* given by the user */
    double tp_per_doubling; /* scaling efficiency per doubling of the tensor-parallel degree */
    int tp_set;
} ic_accel_params;

typedef enum ic_accel_status {
    IC_ACCEL_OK = 0,
    IC_ACCEL_NOT_ACCELERATOR, /* a CPU instance type */
    IC_ACCEL_NO_FACTS,        /* chips.tsv lacks the bandwidth, compute or memory figure */
    IC_ACCEL_DOES_NOT_FIT,    /* not even every device of the instance holds the model */
} ic_accel_status;

typedef struct ic_accel_estimate {
    ic_accel_status status;
    ic_accel_class cls;
    int devices;    /* on the instance */
    int tp;         /* devices per replica */
    int replicas;   /* devices / tp */
    double scaling; /* tp_per_doubling^log2(tp) */
    double decode_eff, prefill_eff;
    double bytes_per_step;       /* weights + KV read per decode step of one replica */
    double need_gib, usable_gib; /* per device: what the replica's share needs, what may be used */
    double decode_tok_s;         /* the instance, all replicas */
    const char *decode_limit;    /* the roofline's limit: "memory" or "compute" (NULL unless OK) */
    double prefill_tok_s;        /* the instance, all replicas */
    const char *prefill_limit;
    char placement[96]; /* "1 replica per device x 8", "tensor parallel over 2 devices x 4" */
} ic_accel_estimate;

/* getopt_long values and entries of the options every command that models accelerators takes. */
enum { IC_OPT_ACCEL_EFFICIENCY = 0x1100, IC_OPT_TP_SCALING };
#define IC_ACCEL_OPTION_EFFICIENCY                                                                 \
    { "accel-efficiency", required_argument, 0, IC_OPT_ACCEL_EFFICIENCY }
#define IC_ACCEL_OPTION_TP_SCALING                                                                 \
    { "tp-scaling", required_argument, 0, IC_OPT_TP_SCALING }
#define IC_ACCEL_USAGE                                                                             \
    "  --accel-efficiency CLASS=DECODE[,PREFILL]  modeled accelerators: the fraction of peak "     \
    "HBM\n"                                                                                        \
    "                      bandwidth (decode) and bf16 compute (prefill) a device class (cuda,\n"  \
    "                      neuron) reaches; defaults: cited figures, printed with every row\n"     \
    "  --tp-scaling F      modeled tensor parallelism: efficiency per doubling of the devices a\n" \
    "                      replica spans (default 0.85, cited)\n"

/* One of the options above: 1 when c was one of them (applied to p), 0 when not, -1 with err. */
int ic_accel_opts_parse(ic_accel_params *p, int c, const char *arg, char *err, size_t errlen);

/* The defaults: the published figures below. */
void ic_accel_params_default(ic_accel_params *p);

/* Where a default comes from, for the output (the user's value: "set by the user"). */
const char *ic_accel_decode_source(const ic_accel_params *p, ic_accel_class c);
const char *ic_accel_prefill_source(const ic_accel_params *p, ic_accel_class c);
const char *ic_accel_tp_source(const ic_accel_params *p);

/* "cuda" or "neuron"; parse returns -1 for another name. */
const char *ic_accel_class_name(ic_accel_class c);
int ic_accel_class_parse(const char *name, ic_accel_class *out);

/* The class of a chip ("cuda" or "neuron" in chips.tsv's arch column); -1 for a CPU. */
int ic_accel_class_of(const ic_chip_info *chip);

/* Parses an option value "CLASS=DECODE[,PREFILL]" (e.g. "cuda=0.6,0.4") into p; each figure in
 * (0, 1]. Returns 0, or -1 with err naming what was wrong. */
int ic_accel_parse_efficiency(ic_accel_params *p, const char *value, char *err, size_t errlen);
/* Parses --tp-scaling F, F in (0, 1]. */
int ic_accel_parse_tp_scaling(ic_accel_params *p, const char *value, char *err, size_t errlen);

/* The KV cache's type on accelerators: f16 keys and values, as serving engines keep them there. */
#define IC_ACCEL_KV IC_DT_F16

/* The estimate for model m (its dtype's stored weights) on instance ii with chip ch, decoding
 * batch sequences at context positions, prefilling prompts of prompt tokens. */
void ic_accel_estimate_for(const ic_instance_info *ii, const ic_chip_info *ch, const ic_model *m,
                           uint64_t batch, uint64_t context, uint64_t prompt,
                           const ic_accel_params *p, ic_accel_estimate *e);

#endif
