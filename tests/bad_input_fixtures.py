#!/usr/bin/env python3
"""Writes the hostile files that tests/bad_input.tsv names into a directory.

Usage: bad_input_fixtures.py DIR PLATFORMS_DIR. Every file is made from scratch here (GGUF headers
byte by byte), so a row of the table says all it needs and no binary fixture is checked in."""
import json
import os
import shutil
import struct
import sys

d, platforms = sys.argv[1], sys.argv[2]
ESC = "\x1b"


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(d, name), mode) as f:
        f.write(data)


TINY = {"name": "tiny", "n_layer": 2, "d_model": 128, "n_head": 4, "n_head_kv": 2, "d_ff": 256,
        "n_vocab": 500, "rope_theta": 10000}


def shape(**kw):
    s = dict(TINY)
    for k, v in kw.items():
        if v is None:
            s.pop(k, None)
        else:
            s[k] = v
    return json.dumps(s)


# Model shapes (JSON).
write("tiny.json", shape())
write("empty.json", "")
write("dup-key.json", shape()[:-1] + ', "n_layer": 3}')
write("ctrl-key.json", shape()[:-1] + ', "\\u001b[2J\\u001b]0;pwned\\u0007": 1}')
write("ctrl-name.json", shape(name="t" + ESC + "[2J", n_layer=0))
write("ctrl-token.json", '{"n_layer": \x1b[31m}')
write("head-gt-dmodel.json", shape(d_model=4, n_head=8, n_head_kv=8, d_ff=32))
write("experts-65.json", shape(n_expert=128, n_expert_used=65))
write("huge-int.json", shape(n_layer=10**30))
write("huge-real.json", shape()[:-1] + ', "norm_eps": 1e400}')
write("wrap.json", shape(name="wrap", n_layer=4096, d_model=1048576, n_head=4096, n_head_kv=4096,
                         head_dim=256, d_ff=4194304, n_vocab=16777216, n_expert=1024,
                         n_expert_used=1))
write("not-object.json", "[1, 2, 3]")
write("nul.json", b'{"n_layer": 2\x00}')
os.mkdir(os.path.join(d, "dir.json"))
os.mkfifo(os.path.join(d, "fifo.json"))


# GGUF headers.
def s(x):
    b = x.encode("latin-1") if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def kv_u32(k, v):
    return s(k) + struct.pack("<II", 4, v)


def kv_f32(k, v):
    return s(k) + struct.pack("<If", 6, v)


def kv_u8(k, v):
    return s(k) + struct.pack("<IB", 0, v)


def kv_str(k, v):
    return s(k) + struct.pack("<I", 8) + s(v)


def tensor(name, d0, d1, t=8):
    return s(name) + struct.pack("<IQQIQ", 2, d0, d1, t, 0)


def gguf(kvs, tensors, version=3, magic=b"GGUF"):
    return (magic + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs) +
            b"".join(tensors))


def llama_kvs(arch="llama", theta=kv_f32("llama.rope.freq_base", 10000.0), extra=()):
    kvs = [kv_str("general.architecture", arch),
           kv_u32(arch + ".block_count", 2),
           kv_u32(arch + ".embedding_length", 128),
           kv_u32(arch + ".attention.head_count", 4),
           kv_u32(arch + ".attention.head_count_kv", 2),
           kv_u32(arch + ".feed_forward_length", 256)]
    if theta is not None:
        kvs.append(theta)
    return kvs + list(extra)


TENSORS = [tensor("token_embd.weight", 128, 500), tensor("blk.0.attn_q.weight", 128, 128),
           tensor("blk.0.ffn_up.weight", 128, 256)]
write("tiny.gguf", gguf(llama_kvs(), TENSORS))
write("empty.gguf", b"")
write("magic.gguf", gguf(llama_kvs(), TENSORS, magic=b"GGML"))
write("version.gguf", gguf(llama_kvs(), TENSORS, version=4))
write("truncated.gguf", gguf(llama_kvs(), TENSORS)[:-10])
write("counts.gguf", b"GGUF" + struct.pack("<IQQ", 3, 2**40, 2**40))
write("dup-key.gguf", gguf(llama_kvs(extra=[kv_u32("llama.block_count", 3)]), TENSORS))
write("dup-arch.gguf", gguf(llama_kvs(extra=[kv_str("general.architecture", "qwen2")]), TENSORS))
write("dup-string.gguf", gguf(llama_kvs(extra=[kv_str("general.name", "a"),
                                                kv_str("general.name", "b")]), TENSORS))
write("dup-tensor.gguf", gguf(llama_kvs(), TENSORS + [tensor("blk.0.attn_q.weight", 128, 128)]))
write("count-string.gguf", gguf([kv_str("llama.block_count", "2") if k.startswith(s("llama.block_count"))
                                 else k for k in llama_kvs()], TENSORS))
write("arch-u32.gguf", gguf([kv_u32("general.architecture", 7)] + llama_kvs()[1:], TENSORS))
write("rope-string.gguf", gguf(llama_kvs(theta=kv_str("llama.rope.freq_base", "10000")), TENSORS))
write("rope-u8.gguf", gguf(llama_kvs(theta=kv_u8("llama.rope.freq_base", 10)), TENSORS))
write("ctrl-arch.gguf", gguf([kv_str("general.architecture", "ll" + ESC + "[2Jama")], TENSORS))
CTRL_ARCH = "ll" + ESC + "[2Jama"
write("ctrl-valid.gguf", gguf(llama_kvs(arch=CTRL_ARCH,
                                        theta=kv_f32(CTRL_ARCH + ".rope.freq_base", 10000.0)),
                              TENSORS))
write("ctrl-tensor.gguf", gguf(llama_kvs(), [s("blk." + ESC + "]0;pwned\x07") +
                                             struct.pack("<I", 9)]))
write("ctrl-kvtype.gguf", gguf(llama_kvs(extra=[s("x" + ESC + "[2J") + struct.pack("<I", 99)]),
                               TENSORS))
write("wrap.gguf", gguf([kv_str("general.architecture", "llama"),
                         kv_u32("llama.block_count", 4096),
                         kv_u32("llama.embedding_length", 1048576),
                         kv_u32("llama.attention.head_count", 4096),
                         kv_u32("llama.attention.key_length", 256),
                         kv_u32("llama.feed_forward_length", 4194304),
                         kv_u32("llama.expert_count", 1024),
                         kv_u32("llama.expert_used_count", 1),
                         kv_u32("llama.vocab_size", 16777216)],
                        [tensor("blk.0.attn_q.weight", 128, 128)]))
os.mkdir(os.path.join(d, "dir.gguf"))
os.mkfifo(os.path.join(d, "fifo.gguf"))

# Results, scenarios, offers: a plain directory, a FIFO, an empty file, duplicate keys, control
# characters.
os.mkdir(os.path.join(d, "dir"))
os.mkfifo(os.path.join(d, "fifo"))
write("empty", "")
write("dup-key-result.json", '{"schema": "infercost-result", "schema": "infercost-result"}')
write("dup-key-scenario.json", '{"schema": "infercost-scenario", "schema": "x"}')
write("dup-key-offer.json", '{"formatVersion": "v1.0", "formatVersion": "v1.0"}')
write("ctrl-key-scenario.json",
      '{"schema": "infercost-scenario", "schema_version": 1, "\\u001b[2Jx": 1}')
write("ctrl-schema-result.json", '{"schema": "infercost-result\\u001b[2J"}')

# A catalog copy to import into, and broken copies of it.
for name in ("cat", "cat-dup", "cat-ctrl", "cat-fifo"):
    shutil.copytree(platforms, os.path.join(d, name),
                    ignore=shutil.ignore_patterns("scenarios"))


def append(cat, file, line):
    with open(os.path.join(d, cat, file), "a") as f:
        f.write(line + "\n")


with open(os.path.join(d, "cat", "prices.tsv")) as f:
    rows = [ln for ln in f if ln.strip() and not ln.startswith("#")]
append("cat-dup", "prices.tsv", rows[-1].rstrip("\n"))
append("cat-ctrl", "prices.tsv", "c7i.large\tus-west-2\t0.1\tsrc" + ESC + "[2J\t2026-01-01")
os.remove(os.path.join(d, "cat-fifo", "prices.tsv"))
os.mkfifo(os.path.join(d, "cat-fifo", "prices.tsv"))

# A sysfs tree whose DMI attributes are hostile.
dmi = os.path.join(d, "sys-fifo", "devices", "virtual", "dmi", "id")
os.makedirs(dmi)
for a in ("sys_vendor", "board_vendor", "product_name", "product_uuid"):
    os.mkfifo(os.path.join(dmi, a))
dmi = os.path.join(d, "sys-ctrl", "devices", "virtual", "dmi", "id")
os.makedirs(dmi)
for a, v in (("sys_vendor", "Q" + ESC + "[2JEMU"), ("board_vendor", "B\x07"),
             ("product_name", "x")):
    write(os.path.join(dmi, a), v + "\n")
dmi = os.path.join(d, "sys-ec2", "devices", "virtual", "dmi", "id")
os.makedirs(dmi)
for a, v in (("sys_vendor", "Amazon EC2"), ("board_vendor", "Amazon EC2"),
             ("product_name", "c7i" + ESC + "[2J.large")):
    write(os.path.join(dmi, a), v + "\n")
