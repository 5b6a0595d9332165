#!/usr/bin/env python3
"""Instructions executed per output element by each x86 kernel variant, under valgrind's callgrind.

tests/insn_driver runs one variant once at a fixed shape; callgrind starts with collection off and
--toggle-collect=ic_<variant> turns it on only inside the variant's entry point, so the count is
that function and everything it calls (the reference GEMM's calls into the reference GEMV, libm in
RoPE's angles, memcpy), and none of the driver's set-up. The count is exact for this binary and
shape: a change in an inner loop shows as a changed number, whatever else the machine is doing.

Valgrind 3.19 decodes x86-64 up to AVX2 (with FMA and F16C): the ref and avx2 variants are counted.
It decodes neither EVEX (AVX-512) nor VEX-encoded VNNI (AVX-VNNI), and valgrind's CPUID hides those
features; variants of those ISAs are listed as not covered and never run under it. A variant that
does run and stops on SIGILL (an instruction valgrind cannot decode), or that valgrind's CPUID on
this host does not allow, is listed as not covered too (and fails the gate if it has a baseline).
dequantize is left out, as in the Arm gate: its only variants are the references the tests
dequantize with. The driver runs with LD_BIND_NOW=1, so no count includes the dynamic linker
binding a libc or libm symbol on its first call.

usage: x86_insn_count.py DRIVER [--baseline FILE] [--write-baseline FILE] [--only V1,V2,...]
Exit 0; 1 when a counted variant executes more than 5% above its baseline, a baselined variant is
not covered now, or a variant failed to run; 2 for bad usage.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

LIMIT = 0.05  # a rise above this fraction of the baseline fails
COVERED_ISAS = ("ref", "avx2")  # what valgrind 3.19 executes
WHY_NOT = {
    "avxvnni": "AVX-VNNI (VEX vpdpbusd): valgrind 3.19 cannot decode it",
    "avx512": "AVX-512 (EVEX): valgrind 3.19 cannot decode it",
    "avx512vnni": "AVX-512 VNNI (EVEX): valgrind 3.19 cannot decode it",
    "avx512bf16": "AVX-512 BF16 (EVEX): valgrind 3.19 cannot decode it",
    "amx": "AMX (tile instructions): valgrind 3.19 cannot decode it",
}


def variants(driver):
    """(name, op, isa) of every variant in the driver's table, less dequantize."""
    out = subprocess.run([driver, "--list"], check=True, capture_output=True, text=True).stdout
    rows = [tuple(line.split()) for line in out.splitlines() if line.strip()]
    return [r for r in rows if len(r) == 3 and r[1] != "dequantize"]


class NotCovered(Exception):
    """valgrind cannot run the variant on this host: a SIGILL, or its CPUID lacks the features."""


def count(driver, name, tmp):
    """(instructions per output element, shape) of one run of the variant under callgrind."""
    out = os.path.join(tmp, name + ".cg")
    # Symbols bound at start-up: a first call into libc or libm from inside the variant would
    # otherwise count the dynamic linker's lookup, which depends on what the driver called before.
    env = dict(os.environ, LD_BIND_NOW="1")
    run = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                          "--toggle-collect=ic_" + name, "--callgrind-out-file=" + out, driver,
                          name], capture_output=True, text=True, env=env)
    if run.returncode in (-4, 128 + 4) or "unhandled instruction bytes" in run.stderr:
        im = re.search(r"unhandled instruction bytes: ((?:0x[0-9A-Fa-f]+ ?){1,8})", run.stderr)
        raise NotCovered("SIGILL under valgrind (%s)" % (im.group(1).strip() if im else
                                                         "an instruction it cannot decode"))
    if run.returncode == 1 and "not usable on this CPU" in run.stderr:
        raise NotCovered("valgrind's CPUID on this host lacks the features it needs")
    if run.returncode != 0:
        raise RuntimeError("exit %d: %s" % (run.returncode, run.stderr.strip().splitlines()[-1:]))
    m = re.search(r"outputs=(\d+) shape=(\S+)", run.stdout)
    with open(out) as f:
        tm = re.search(r"^(?:totals|summary):\s+(\d+)", f.read(), re.M)
    if not m or not tm or int(tm.group(1)) == 0:
        raise RuntimeError("no instructions collected inside ic_%s (symbol missing?)" % name)
    return int(tm.group(1)) / int(m.group(1)), m.group(2)


def read_baseline(path):
    base = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            p = line.rstrip("\n").split("\t")
            base[p[0]] = float(p[2])
    return base


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    driver, baseline, write, only = args[0], None, None, None
    try:
        if "--baseline" in args:
            baseline = args[args.index("--baseline") + 1]
        if "--write-baseline" in args:
            write = args[args.index("--write-baseline") + 1]
        if "--only" in args:
            only = set(args[args.index("--only") + 1].split(","))
    except IndexError:
        print(__doc__, file=sys.stderr)
        return 2
    allv = variants(driver)
    if only:
        allv = [v for v in allv if v[0] in only]
    covered = [v for v in allv if v[2] in COVERED_ISAS]
    uncovered = [(v[0], WHY_NOT.get(v[2], v[2] + ": not run under valgrind")) for v in allv
                 if v[2] not in COVERED_ISAS]

    results, broken, failed = {}, set(), 0
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(
            os.cpu_count() or 2) as pool:
        futures = {v[0]: pool.submit(count, driver, v[0], tmp) for v in covered}
        for name, fut in futures.items():
            try:
                results[name] = fut.result()
            except NotCovered as e:
                results[name] = None
                uncovered.append((name, str(e)))
            except RuntimeError as e:
                results[name] = None
                print("FAIL: %s did not run under callgrind: %s" % (name, e))
                broken.add(name)
                failed += 1

    base = read_baseline(baseline) if baseline else {}
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout
    print("instructions executed per output element, counted by %s callgrind, the variant and what"
          " it calls" % version.strip())
    print("%-24s %-14s %12s %12s  %s" % ("variant", "shape", "insns/out", "baseline",
                                         "vs baseline"))
    for name, _, _ in covered:
        if results[name] is None:
            continue
        per, shape = results[name]
        note, b = "", base.get(name)
        if b is not None:
            rise = per / b - 1.0 if b > 0 else 0.0
            note = "%+.1f%%" % (100 * rise)
            if rise > LIMIT:
                note += "  REGRESSION (> 5% more instructions)"
                failed += 1
            elif rise < -LIMIT:
                note += "  (fewer: refresh with --write-baseline)"
        elif base:
            note = "new (not in the baseline)"
        print("%-24s %-14s %12.2f %12s  %s" % (name, shape, per,
                                               "%.2f" % b if b is not None else "-", note))
    names = {v[0] for v in allv}
    counted = {n for n, r in results.items() if r is not None}
    for name in sorted(set(base) - counted - broken):
        if only and name not in only:
            continue
        why = "is no longer in the table" if name not in names else "is not covered now"
        print("FAIL: %s is in the baseline but %s" % (name, why))
        failed += 1
    print("counted: %d variants; not covered: %d" % (len(counted), len(uncovered)))
    for name, why in uncovered:
        print("  not covered: %-24s %s" % (name, why))

    if write:
        tmpf = write + ".tmp"
        with open(tmpf, "w") as f:
            f.write("# variant\tshape\tinsns/output (ci/x86_insn_count.py, callgrind; "
                    "RelWithDebInfo build)\n")
            for name, _, _ in covered:
                if results.get(name):
                    f.write("%s\t%s\t%.4f\n" % (name, results[name][1], results[name][0]))
        os.replace(tmpf, write)
        print("wrote %s" % write)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
