#!/usr/bin/env python3
"""The peak probes must run the independent chains they count.

A peak loop reports ops_per_iter for N accumulator chains. If the chains start equal and take
the same inputs, the compiler may merge them into one (GCC 12 does, at -O2), and the loop then
times one latency-bound chain while reporting N chains' work: a "peak" that is neither. No
functional test sees it (the sums are the same), so this reads the machine code: in each probe's
loop (the body a backward branch closes), the instruction that does the work must write at least
N distinct registers (and where the work is several instructions, as AVX2's int8 product, each
is in the loop N times).

usage: probe_chains_test.py BINARY [BUILD_TYPE]
exit 0 pass, 1 fail, 77 skip: no objdump, no x86 probes, or a Debug build (unoptimized loops keep
every chain in memory: not what a measuring build runs)
"""
import re
import shutil
import subprocess
import sys

# function: the chains its ops_per_iter counts, the instruction that ends a chain's step (one
# destination register per chain), and the others each step executes once
PROBES = {
    "ic_probe_fma_f32_avx2": (12, "vfmadd", []),
    "ic_probe_fma_f32_avx512": (16, "vfmadd", []),
    "ic_probe_dot_int8_avx2": (8, "vpaddd", ["vpmaddubsw", "vpmaddwd"]),
    "ic_probe_dot_int8_avxvnni": (12, "vpdpbusd", []),
    "ic_probe_dot_int8_avx512vnni": (16, "vpdpbusd", []),
    "ic_probe_dot_bf16_avx512bf16": (16, "vdpbf16ps", []),
    "ic_probe_dot_int8_amx": (4, "tdpbusd", []),
    "ic_probe_dot_bf16_amx": (4, "tdpbf16ps", []),
}

LINE = re.compile(r"^\s*([0-9a-f]+):\s+(?:\{vex\}\s+)?(\S+)\s*(.*)$")


def functions(binary):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], check=True,
                         capture_output=True, text=True).stdout
    funcs, name = {}, None
    for line in out.splitlines():
        head = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if head:
            name = head.group(1)
            funcs[name] = []
            continue
        m = LINE.match(line)
        if name is not None and m:
            funcs[name].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def loop_body(insns, mnemonic):
    """The loop (from a backward conditional branch's target to the branch) that holds the most
    instructions starting with mnemonic."""
    best, most = [], -1
    for i, (addr, op, args) in enumerate(insns):
        if not op.startswith("j") or op == "jmp":
            continue
        target = re.match(r"([0-9a-f]+)\s", args + " ")
        if not target:
            continue
        t = int(target.group(1), 16)
        if t >= addr:
            continue
        body = [x for x in insns[: i + 1] if x[0] >= t]
        n = sum(op.startswith(mnemonic) for _, op, _ in body)
        if n > most:
            best, most = body, n
    return best


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__[__doc__.index("usage:"):].strip(), file=sys.stderr)
        return 2
    if len(sys.argv) == 3 and sys.argv[2] == "Debug":
        print("SKIP: a Debug build's probes are not optimized")
        return 77
    if shutil.which("objdump") is None:
        print("SKIP: no objdump")
        return 77
    funcs = functions(sys.argv[1])
    present = [f for f in PROBES if f in funcs]
    if not present:
        print("SKIP: no x86 peak probes in this binary")
        return 77
    failed = 0
    for f in present:
        chains, mnemonic, steps = PROBES[f]
        body = loop_body(funcs[f], mnemonic)
        dests = {args.split(",")[-1].strip() for _, op, args in body if op.startswith(mnemonic)}
        counts = {m: sum(op.startswith(m) for _, op, _ in body) for m in steps}
        ok = len(dests) >= chains and all(n >= chains for n in counts.values())
        failed += not ok
        extra = "".join(f", {m} {n} times" for m, n in counts.items())
        print(f"{'ok  ' if ok else 'FAIL'} {f}: {mnemonic} writes {len(dests)} registers in its "
              f"loop{extra}; {chains} chains counted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
