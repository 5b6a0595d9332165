#!/usr/bin/env python3
"""Instructions executed per output element by each aarch64 kernel variant, under qemu-aarch64.

Debian's qemu-user ships no TCG plugins, so the count comes from qemu's own logs: tests/insn_driver
runs one variant once at a fixed shape, qemu logs every translated block (-d in_asm) and every block
execution (-d exec, with nochain so none is skipped), and -dfilter limits both logs to the variant's
own function and everything it calls (the call graph from objdump: the reference GEMM's calls into
the reference GEMV, libm's pow/cos/sin in RoPE's angles, the softmax that attention calls). The
driver's own set-up (filling inputs) calls none of those. The count is exact for this binary and
shape, so a change in an inner loop shows as a changed number.

Then what dispatch picks under -cpu max (dotprod, i8mm, bf16, SVE2: a Neoverse V2 / Graviton4) at
each vector length, from `infercost list --json` there, against the fewest instructions of a NEON-
family variant (neon, dotprod, i8mm, bf16) of the same op and type: the vector-length-aware choice
of kernels/list_arm.inc must never pick a variant that executes more than that, and its count
must fall as the vector grows (issue 20): a pick that executes as many or more at a longer vector
than at the one before fails.

usage: arm_insn_count.py BUILD_DIR [--baseline FILE] [--write-baseline FILE]
Exit 0, or 1 when a variant executes more than 5% above its baseline (or fails to run), when
dispatch picks a variant that executes more than the best NEON-family one, or when a pick's count
does not fall from one vector length to the next.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

# SVE vector lengths in bytes: 128-bit (Graviton4), 256-bit (Graviton3), 512 (A64FX), and the
# longer ones the architecture allows, where the quantized kernels put several blocks per vector.
VLS = (16, 32, 64, 128, 256)


def symbols(binary):
    out = subprocess.run(["aarch64-linux-gnu-nm", "-S", binary], check=True, capture_output=True,
                         text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            syms[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return syms


def call_graph(binary):
    """Function -> the functions it branches to (bl, and b for tail calls), from the disassembly."""
    out = subprocess.run(["aarch64-linux-gnu-objdump", "-d", "--no-show-raw-insn", binary],
                         check=True, capture_output=True, text=True).stdout
    graph, cur = {}, None
    for line in out.splitlines():
        fm = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if fm:
            cur = fm.group(1)
            graph[cur] = set()
            continue
        bm = re.search(r"\t(?:bl|b)\s+[0-9a-f]+ <([^>+]+)(?:\+0x[0-9a-f]+)?>", line)
        if bm and cur and bm.group(1) != cur:
            graph[cur].add(bm.group(1))
    return graph


def closure(graph, root):
    seen, todo = set(), [root]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(graph.get(f, ()))
    return seen


def count(driver, name, ranges, cpu):
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "qemu.log")
        run = subprocess.run(["qemu-aarch64", "-cpu", cpu, "-d", "in_asm,exec,nochain", "-dfilter",
                              ",".join("0x%x+0x%x" % r for r in ranges), "-D", log, driver, name],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("%s under -cpu %s: exit %d: %s" % (name, cpu, run.returncode,
                                                                  run.stderr.strip()))
        m = re.search(r"outputs=(\d+) shape=(\S+)", run.stdout)
        tb_len, start, total = {}, None, 0
        with open(log, errors="replace") as f:
            for line in f:
                if line.startswith("IN:"):
                    start = None
                    continue
                im = re.match(r"0x([0-9a-f]+):\s", line)
                if im:
                    pc = int(im.group(1), 16)
                    if start is None:
                        start, tb_len[pc] = pc, 0
                    tb_len[start] += 1
                    continue
                start = None if not line.strip() else start
                tm = re.match(r"Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/", line)
                if tm:
                    total += tb_len.get(int(tm.group(1), 16), 0)
        return total, int(m.group(1)), m.group(2)


NEON_FAMILY = ("neon", "dotprod", "i8mm", "bf16")


def listing(infercost, vl):
    out = subprocess.run(["qemu-aarch64", "-cpu", "max,sve-default-vector-length=%d" % vl,
                          infercost, "list", "--json"], check=True, capture_output=True,
                         text=True).stdout
    return [k for k in json.loads(out)["kernels"] if k["op"] != "dequantize"]


def dispatch_check(infercost, kernels, counts):
    """Prints, per op and type, the best NEON-family count and what dispatch picks at each vector
    length with its count; returns how many picks execute more than the best NEON variant or no
    fewer than the pick at the vector length before."""
    key = lambda k: (k["op"], k.get("type", "-"))
    neon = {}
    for k in kernels:
        if k["isa"] in NEON_FAMILY:
            c = counts[k["name"]][0]
            if key(k) not in neon or c < neon[key(k)][1]:
                neon[key(k)] = (k["name"], c)
    picks = {}
    for i, vl in enumerate(VLS):
        for k in listing(infercost, vl):
            if k["chosen"]:
                per = counts[k["name"]]
                picks.setdefault(key(k), []).append((k["name"], per[i] if len(per) > 1 else per[0]))
    print()
    print("what dispatch picks under -cpu max at each vector length, instructions per output "
          "element, against the best NEON-family variant")
    print("%-16s %-18s %s" % ("op type", "best NEON-family", "  ".join(
        "%-18s" % ("VL%d" % (8 * v)) for v in VLS)))
    worse, flat = 0, []
    for kk in sorted(picks):
        if kk not in neon:
            continue
        nname, nc = neon[kk]
        cells, notes, prev = [], [], None
        for i, (name, c) in enumerate(picks[kk]):
            mark = ""
            if c > nc:
                mark, worse = "!", worse + 1
                notes.append("%s at VL%d executes more than %s" % (name, 8 * VLS[i], nname))
            if prev is not None and c >= prev:
                flat.append("%s %s: %.2f at VL%d after %.2f" % (kk[0], kk[1], c, 8 * VLS[i], prev))
            prev = c
            cells.append("%-18s" % ("%s %.2f%s" % (name.split("_")[-1], c, mark)))
        print("%-16s %-18s %s" % ("%s %s" % kk, "%s %.2f" % (nname.split("_")[-1], nc),
                                  "  ".join(cells)))
        for n in notes:
            print("  FAIL: " + n)
    for r in flat:
        print("  FAIL: the pick's count does not fall with the vector length: " + r)
    return worse + len(flat)


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    build, baseline, write = args[0], None, None
    if "--baseline" in args:
        baseline = args[args.index("--baseline") + 1]
    if "--write-baseline" in args:
        write = args[args.index("--write-baseline") + 1]
    driver = os.path.join(build, "tests", "insn_driver")
    infercost = os.path.join(build, "harness", "infercost")
    kernels = listing(infercost, VLS[0])
    syms = symbols(driver)
    graph = call_graph(driver)
    rows, failed = [], 0
    for k in kernels:
        name = k["name"]
        ranges = sorted(syms[f] for f in closure(graph, "ic_" + name) if f in syms and syms[f][1])
        vls = VLS if k["isa"].startswith("sve") else (VLS[0],)
        per = []
        for vl in vls:
            total, outputs, shape = count(driver, name, ranges,
                                          "max,sve-default-vector-length=%d" % vl)
            per.append(total / outputs)
        rows.append((name, shape, per))
    base = {}
    if baseline and os.path.exists(baseline):
        with open(baseline) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                p = line.split("\t")
                base[p[0]] = [float(v) for v in p[2:] if v.strip() not in ("", "-")]
    print("instructions executed per output element, counted under qemu-aarch64 7.2 (-cpu max), "
          "the variant and what it calls")
    print("%-26s %-20s %s  %s" % ("variant", "shape",
                                   " ".join("%10s" % ("VL%d" % (8 * v)) for v in VLS),
                                   "vs baseline"))
    for name, shape, per in rows:
        cells = ["%10.2f" % v for v in per] + ["%10s" % "-"] * (len(VLS) - len(per))
        note = ""
        if name in base:
            worst = max(v / b - 1.0 if b > 0 else 0.0 for v, b in zip(per, base[name]))
            note = "%+.1f%%" % (100 * worst)
            if worst > 0.05:
                note += "  REGRESSION (> 5% more instructions)"
                failed += 1
        elif base:
            note = "new"
        print("%-26s %-20s %s  %s" % (name, shape, " ".join(cells), note))
    failed += dispatch_check(infercost, kernels, {name: per for name, _, per in rows})
    if write:
        tmp = write + ".tmp"
        with open(tmp, "w") as f:
            f.write("# variant\tshape\tinsns/output at %s (ci/arm_insn_count.py)\n"
                    % "\t".join("VL%d" % (8 * v) for v in VLS))
            for name, shape, per in rows:
                f.write("\t".join([name, shape] + ["%.2f" % v for v in per]) + "\n")
        os.replace(tmp, write)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
