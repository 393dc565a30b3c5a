#!/usr/bin/env python3
"""Cuts the test data in this folder out of the reference corpus (stdlib only; run from the repository root).

For each model (llama, qwen2) and each GGUF the corpus has (Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, f16) it writes
<model>-<TYPE>.gguf: a GGUF v3 file with no metadata but general.alignment, holding the first ROWS rows of
blk.0.attn_q, blk.0.attn_v and blk.1.ffn_down, their bytes copied unchanged from the llama-quantize output (each row
is a whole number of blocks, so a row prefix is a valid tensor). Next to it, <model>-<TYPE>__<tensor>.npy holds the
same rows of the corpus's gguf-py dequantisation (dequant/<TYPE>__<tensor>.npy); for f16, the same rows of the F32
GGUF's tensor (the f16 values are that f32 rounded to nearest even).
"""
import os, struct, sys

CORPUS = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/models"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dequant")
ROWS = 8
TENSORS = ["blk.0.attn_q", "blk.0.attn_v", "blk.1.ffn_down"]
TYPES = ["Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "f16"]
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 13: (256, 176), 14: (256, 210)}


def read_gguf(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode()
        pos += n
        return s

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(sizes[t])

    assert data[:4] == b"GGUF"
    pos = 4
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    align = kv.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    return {name: (dims, t, data[start + off:]) for name, dims, t, off in infos}


def row_bytes(dims, t):
    bs, bb = BLOCK[t]
    return dims[0] // bs * bb


def write_gguf(path, tensors):
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1))
    key = b"general.alignment"
    out += struct.pack("<Q", len(key)) + key + struct.pack("<II", 4, 32)
    offset, blobs = 0, []
    for name, dims, t, blob in tensors:
        n = name.encode()
        out += struct.pack("<Q", len(n)) + n + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", t, offset)
        blobs.append(blob + b"\0" * (-len(blob) % 32))
        offset += len(blobs[-1])
    out += b"\0" * (-len(out) % 32)
    open(path, "wb").write(bytes(out) + b"".join(blobs))


def write_npy(path, shape, raw):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % shape
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + raw)


def npy_rows(path, rows):
    data = open(path, "rb").read()
    hl = struct.unpack_from("<H", data, 8)[0]
    header = data[10:10 + hl].decode()
    assert "'<f4'" in header and "False" in header, header
    cols = int(header.split("shape': (")[1].split(")")[0].split(",")[1])
    return cols, data[10 + hl:10 + hl + rows * cols * 4]


for model in ["llama", "qwen2"]:
    gdir = os.path.join(CORPUS, model, "gguf")
    f32 = read_gguf(os.path.join(gdir, f"{model}-f32.gguf"))
    for ty in TYPES:
        src = read_gguf(os.path.join(gdir, f"{model}-{ty}.gguf"))
        cut = []
        for t in TENSORS:
            dims, gt, blob = src[t + ".weight"]
            cut.append((t + ".weight", [dims[0], ROWS], gt, blob[:ROWS * row_bytes(dims, gt)]))
            if ty == "f16":
                fd, _, fblob = f32[t + ".weight"]
                cols, raw = fd[0], fblob[:ROWS * fd[0] * 4]
            else:
                cols, raw = npy_rows(os.path.join(gdir, "dequant", f"{ty}__{t}.npy"), ROWS)
            assert cols == dims[0]
            write_npy(os.path.join(OUT, f"{model}-{ty}__{t}.npy"), (ROWS, cols), raw)
        write_gguf(os.path.join(OUT, f"{model}-{ty}.gguf"), cut)
