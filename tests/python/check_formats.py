"""Interop check of hydrofetch's formats against SciPy, soundfile and Pillow.

Direction 1: Python writes WAV (16/24/float), FLAC (16/24), MAT (savemat: plain, compressed,
nested struct dicts, strings, oned_as row/column, int types, logical) and PNG; hydrofetch reads
them with `debug inspect --json` and every value is compared exactly.
Direction 2: hydrofetch writes each `debug write-sample` kind; Python loads it with
scipy.io.loadmat / soundfile / Pillow and compares against the formulas documented in
crates/onc-core/src/formats/sample.rs, exactly. If the `flac` command exists, `flac -t` checks our FLACs.

Needs HYDROFETCH_BIN (path to the built binary). Exits non-zero on any mismatch.
"""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io
import soundfile as sf
from PIL import Image

BIN = os.environ.get("HYDROFETCH_BIN")
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"MISMATCH: {what}", flush=True)


def run(*args):
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"hydrofetch {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def inspect(path):
    return json.loads(run("debug", "inspect", "--json", path))


def jfloat(v):
    if isinstance(v, str):
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[v]
    return float(v)


def same_floats(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# ---------------------------------------------------------------- formulas (sample.rs)
def int_audio(channels, bits, frames):
    i = np.arange(frames, dtype=np.int64)[:, None]
    c = np.arange(channels, dtype=np.int64)[None, :]
    return ((i * 7919 + c * 104729) % (1 << bits)) - (1 << (bits - 1))


def float_audio(channels, frames):
    i = np.arange(frames, dtype=np.int64)[:, None]
    c = np.arange(channels, dtype=np.int64)[None, :]
    return ((((i * 31 + c * 17) % 2001) - 1000) / 1024.0).astype(np.float32)


def png_sample(channels):
    y, x = np.mgrid[0:23, 0:37]
    planes = [((x * 31) ^ (y * 17)) & 255, (x + 2 * y) & 255, (x * y) & 255, (255 - x) & 255]
    return np.stack(planes[:channels], axis=-1).astype(np.uint8)


# ---------------------------------------------------------------- direction 1: Python writes
def py_writes_audio(tmp):
    rng = np.random.default_rng(7)
    cases = [
        ("a16.wav", "PCM_16", 16, 2, 48000),
        ("a24.wav", "PCM_24", 24, 3, 64000),
        ("a16.flac", "PCM_16", 16, 2, 44100),
        ("a24.flac", "PCM_24", 24, 1, 64000),
    ]
    for name, subtype, bits, ch, rate in cases:
        lim = 1 << (bits - 1)
        data = rng.integers(-lim, lim, size=(12345, ch), dtype=np.int64)
        data[0, 0], data[-1, -1] = -lim, lim - 1
        p = tmp / name
        # soundfile takes int32 scaled to the full 32-bit range.
        sf.write(p, (data << (32 - bits)).astype(np.int32), rate, subtype=subtype)
        j = inspect(p)
        check(j["sample_rate"] == rate and j["channels"] == ch and j["bits_per_sample"] == bits, f"{name} spec {j['sample_rate']} {j['channels']} {j['bits_per_sample']}")
        check(j["format"] == "int" and j["frames"] == 12345, f"{name} format/frames")
        check(np.array_equal(np.asarray(j["samples"], dtype=np.int64), data.ravel()), f"{name} samples")
    data = rng.uniform(-1, 1, size=(5000, 2)).astype(np.float32)
    p = tmp / "f.wav"
    sf.write(p, data, 22050, subtype="FLOAT")
    j = inspect(p)
    check(j["format"] == "float" and j["bits_per_sample"] == 32, "float wav spec")
    check(np.array_equal(np.asarray([jfloat(v) for v in j["samples"]], dtype=np.float32), data.ravel()), "float wav samples")


def compare_mat(py, j, where):
    """Compares a loadmat-style numpy value against hydrofetch's JSON for it."""
    cls = j["class"]
    if isinstance(py, dict):
        check(cls == "struct", f"{where}: class {cls} != struct")
        check(list(j.get("fields", {}).keys()) == list(py.keys()), f"{where}: fields {list(j.get('fields', {}))} != {list(py)}")
        for k, v in py.items():
            if k in j.get("fields", {}):
                compare_mat(v, j["fields"][k], f"{where}.{k}")
        return
    if isinstance(py, str):
        check(cls == "char" and j["text"] == py, f"{where}: text {j.get('text')!r} != {py!r}")
        return
    arr = np.asarray(py)
    check(list(j["dims"]) == list(arr.shape), f"{where}: dims {j['dims']} != {list(arr.shape)}")
    expect_cls = {"float64": "double", "float32": "single", "bool": "logical"}.get(arr.dtype.name, arr.dtype.name)
    check(cls == expect_cls, f"{where}: class {cls} != {expect_cls}")
    flat = arr.ravel(order="F")
    if arr.dtype.kind == "f":
        check(same_floats([jfloat(v) for v in j["data"]], flat), f"{where}: float data")
    elif arr.dtype.kind == "b":
        check(list(j["data"]) == [bool(v) for v in flat], f"{where}: logical data")
    else:
        check(list(j["data"]) == [int(v) for v in flat], f"{where}: int data")


def py_writes_mat(tmp):
    psd = np.arange(35, dtype=np.float64).reshape(5, 7) / 3.0
    psd[1, 2], psd[0, 0], psd[4, 6] = np.nan, -np.inf, np.inf
    variables = {
        "PSD": psd,
        "single": np.array([[1.5, -2.25, 3e-8]], dtype=np.float32),
        "vec": np.arange(6, dtype=np.float64),
        "label": "Hann window, 50% overlap — µPa²/Hz",
        "i8": np.array([[-128, 0, 127]], dtype=np.int8),
        "u8": np.array([[0, 200, 255]], dtype=np.uint8),
        "i16": np.array([[-32768, 32767]], dtype=np.int16),
        "u16": np.array([[0, 65535]], dtype=np.uint16),
        "i32": np.array([[-2147483648, 2147483647]], dtype=np.int32),
        "u32": np.array([[0, 4294967295]], dtype=np.uint32),
        "i64": np.array([[-(2**63), 2**63 - 1]], dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
        "SpectData": {
            "PSD": psd,
            "frequency": np.arange(5, dtype=np.float64)[:, None] * 10.0,
            "processingComment": "downsampled",
            "nested": {"depth": 985.5, "name": "Barkley", "deeper": {"k": np.array([[1.0, 2.0]])}},
        },
    }
    expected = dict(variables)
    expected["vec"] = variables["vec"]  # shape decided by oned_as below
    expected["SpectData"] = dict(variables["SpectData"])
    expected["SpectData"]["nested"] = {"depth": np.array([[985.5]]), "name": "Barkley", "deeper": {"k": np.array([[1.0, 2.0]])}}
    for compress in (False, True):
        for oned in ("row", "column"):
            p = tmp / f"py_{compress}_{oned}.mat"
            scipy.io.savemat(p, variables, do_compression=compress, oned_as=oned)
            j = inspect(p)
            check(j["type"] == "mat", f"{p.name}: type")
            got = j["variables"]
            check(sorted(got) == sorted(variables), f"{p.name}: names {sorted(got)}")
            exp = dict(expected)
            exp["vec"] = variables["vec"][None, :] if oned == "row" else variables["vec"][:, None]
            for name, value in exp.items():
                if name in got:
                    compare_mat(value, got[name], f"{p.name}:{name}")


def py_writes_png(tmp):
    for mode, ch in (("RGB", 3), ("RGBA", 4)):
        arr = np.random.default_rng(ch).integers(0, 256, size=(31, 45, ch), dtype=np.uint8)
        p = tmp / f"py_{mode}.png"
        Image.fromarray(arr, mode).save(p)
        j = inspect(p)
        check((j["width"], j["height"], j["channels"]) == (45, 31, ch), f"{p.name}: size {j}")
        check(j["pixels_sha256"] == hashlib.sha256(arr.tobytes()).hexdigest(), f"{p.name}: pixels")


# ---------------------------------------------------------------- direction 2: hydrofetch writes
def hf_writes_audio(tmp):
    cases = [
        ("wav16", "wav", 48000, 2, 16, 10000, "PCM_16"),
        ("wav24", "wav", 64000, 3, 24, 10000, "PCM_24"),
        ("flac16", "flac", 48000, 2, 16, 20000, "PCM_16"),
        ("flac24", "flac", 64000, 1, 24, 70000, "PCM_24"),
    ]
    for kind, ext, rate, ch, bits, frames, subtype in cases:
        p = tmp / f"hf_{kind}.{ext}"
        run("debug", "write-sample", kind, p)
        info = sf.info(p)
        check((info.samplerate, info.channels, info.frames, info.subtype) == (rate, ch, frames, subtype), f"{kind}: info {info}")
        data, _ = sf.read(p, dtype="int32", always_2d=True)
        check(np.array_equal(data.astype(np.int64) >> (32 - bits), int_audio(ch, bits, frames)), f"{kind}: samples")
        if ext == "flac" and shutil.which("flac"):
            r = subprocess.run(["flac", "-t", "-s", str(p)], capture_output=True, text=True)
            check(r.returncode == 0, f"{kind}: flac -t failed: {r.stderr}")
    p = tmp / "hf_float.wav"
    run("debug", "write-sample", "wav-float", p)
    data, rate = sf.read(p, dtype="float32", always_2d=True)
    check(rate == 48000 and sf.info(p).subtype == "FLOAT", "wav-float: spec")
    check(np.array_equal(data, float_audio(2, 10000)), "wav-float: samples")


def hf_writes_mat(tmp):
    rows, cols = 300, 7
    r, c = np.mgrid[0:rows, 0:cols]
    psd = ((7 * r + 3 * c) % 101) / 8.0
    psd[1, 0], psd[2, 0] = np.nan, -np.inf
    for kind in ("mat", "mat-compressed"):
        p = tmp / f"hf_{kind}.mat"
        run("debug", "write-sample", kind, p)
        m = scipy.io.loadmat(p)
        names = sorted(k for k in m if not k.startswith("__"))
        check(names == ["PSD", "S", "freq", "label"], f"{kind}: names {names}")
        check(m["PSD"].dtype == np.float64 and m["PSD"].shape == (rows, cols) and same_floats(m["PSD"], psd), f"{kind}: PSD")
        check(m["freq"].shape == (rows, 1) and np.array_equal(m["freq"][:, 0], np.arange(rows) * 10.0), f"{kind}: freq")
        check(m["label"].shape == (1,) and m["label"][0] == "hydrofetch sample é", f"{kind}: label {m['label']!r}")
        s = m["S"]
        check(s.shape == (1, 1) and s.dtype.names == ("a", "txt", "inner"), f"{kind}: S {s.shape} {s.dtype.names}")
        s = s[0, 0]
        check(s["a"].shape == (1, 1) and s["a"][0, 0] == 1.5, f"{kind}: S.a")
        check(s["txt"][0] == "x", f"{kind}: S.txt")
        inner = s["inner"][0, 0]
        check(inner.dtype.names == ("v", "flag", "s", "u"), f"{kind}: inner names")
        check(inner["v"].dtype == np.int32 and inner["v"].tolist() == [[-2147483648, 0, 2147483647]], f"{kind}: inner.v")
        # SciPy loads logical arrays as uint8 (it does so for files it wrote itself too), so check
        # the logical flag through the raw class info instead.
        check(inner["flag"].tolist() == [[1, 0]], f"{kind}: inner.flag")
        info = {name: cls for name, _, cls in scipy.io.whosmat(p)}
        check(info.get("S") == "struct" and info.get("PSD") == "double" and info.get("label") == "char", f"{kind}: whosmat {info}")
        check(inner["s"].dtype == np.float32 and inner["s"].tolist() == [[0.25, -2.5]], f"{kind}: inner.s")
        check(inner["u"].dtype == np.uint8 and inner["u"].tolist() == [[0, 255]], f"{kind}: inner.u")
        simple = scipy.io.loadmat(p, simplify_cells=True)
        check(simple["S"]["inner"]["s"].tolist() == [0.25, -2.5], f"{kind}: simplify_cells")


def hf_writes_png(tmp):
    for kind, mode, ch in (("png-rgb", "RGB", 3), ("png-rgba", "RGBA", 4)):
        p = tmp / f"hf_{kind}.png"
        run("debug", "write-sample", kind, p)
        img = Image.open(p)
        check(img.mode == mode and img.size == (37, 23), f"{kind}: {img.mode} {img.size}")
        check(np.array_equal(np.asarray(img), png_sample(ch)), f"{kind}: pixels")


def main():
    if not BIN or not os.path.exists(BIN):
        print("HYDROFETCH_BIN must point at the built hydrofetch binary", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        for step in (py_writes_audio, py_writes_mat, py_writes_png, hf_writes_audio, hf_writes_mat, hf_writes_png):
            try:
                step(tmp)
            except Exception as e:  # noqa: BLE001 - report and keep checking the other formats
                failures.append(f"{step.__name__}: {type(e).__name__}: {e}")
                print(f"ERROR in {step.__name__}: {type(e).__name__}: {e}", flush=True)
    flac_note = "flac -t used" if shutil.which("flac") else "flac command not installed, flac -t skipped"
    print(f"check_formats: {checks} checks, {len(failures)} failures ({flac_note})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
