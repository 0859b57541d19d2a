"""Conformance of `hydrofetch sim` with the official ONC Python client (`onc`, unmodified).

Starts `$HYDROFETCH_BIN sim --port 0 --time-scale 0.001` as a subprocess, reads its
`listening on http://HOST:PORT/` line, points `onc.ONC(token)` at it through the client's
`baseUrl` attribute and exercises the data-product, archive and discovery calls a user
would make, then checks the files with SciPy, soundfile and Pillow. A second simulator with
20 % faults shows the client's plain calls failing as they would against ONC.

Exits non-zero on the first failed check.
"""
import contextlib
import io
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import requests
import scipy.io
import soundfile
from PIL import Image

import onc as onc_pkg

TOKEN = "3f2c8c1e-1111-4a4a-9b9b-00000000c0de"
BIN = os.environ.get("HYDROFETCH_BIN") or str(
    pathlib.Path(__file__).resolve().parents[2] / "target" / "debug" / "hydrofetch"
)
SPAN = {"dateFrom": "2024-04-01T12:00:00.000Z", "dateTo": "2024-04-01T12:30:00.000Z"}
AF = "ICLISTENAF2523"  # on the 5-minute grid: a 30-minute span is exactly 6 files
HF = "ICLISTENHF6324"  # drifts: hh:m0:03 / hh:m5:03
# The simulator's product-request rule (issue #16): `overlap` selects the files overlapping
# [dateFrom, dateTo), `start` those starting in [dateFrom, dateTo] (dateTo inclusive, so a
# span ending on the grid takes one file more on the on-grid AF device).
RULE = os.environ.get("HYDROFETCH_SIM_PRODUCT_WINDOW") or "overlap"
SPAN_FILES = 6 if RULE == "overlap" else 7
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL: {what}", flush=True)
        sys.exit(1)
    print(f"ok [{RULE}]: {what}", flush=True)


@contextlib.contextmanager
def simulator(*extra):
    args = [BIN, "sim", "--port", "0", "--time-scale", "0.001", "--token", TOKEN, "--seed", "1",
            "--product-window", RULE, *extra]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"unexpected first line from sim: {line!r}")
        yield line[len("listening on "):]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def client(base, out):
    c = onc_pkg.ONC(TOKEN, outPath=out, showInfo=False, timeout=120)
    c.baseUrl = base  # the client builds every URL as f"{baseUrl}api/<service>"
    return c


def quiet(f, *a, **k):
    with contextlib.redirect_stdout(io.StringIO()):
        return f(*a, **k)


def raises_api_error(f, code):
    try:
        quiet(f)
    except requests.HTTPError as e:
        return f"API Error {code}" in str(e)
    return False


def downloaded(result):
    if isinstance(result, dict):  # orderDataProduct wraps the list
        result = result["downloadResults"]
    return [r["file"] for r in result if r["downloaded"]]


def main():
    with simulator() as base, tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        c = client(base, out / "a")

        # orderDataProduct, HSD MAT generated on demand (plot resolution), per-file outputs.
        res = quiet(c.orderDataProduct, {
            "deviceCode": AF, "dataProductCode": "HSD", "extension": "mat", **SPAN,
            "dpo_spectralDataDownsample": "2", "dpo_spectrogramConcatenation": "None",
        })
        files = downloaded(res)
        mats = [f for f in files if f.endswith("-spect.mat")]
        metas = [f for f in files if f.endswith("_MAT_META.xml")]
        check(len(mats) == SPAN_FILES and len(metas) == 1, f"HSD mat order: {SPAN_FILES} files + meta ({files})")
        check(mats[0] == f"{AF}_20240401T120000.000Z-spect.mat", "first MAT name")
        m = scipy.io.loadmat(out / "a" / mats[0])
        sd = m["SpectData"][0, 0]
        psd, freq, t = sd["PSD"], sd["frequency"].ravel(), sd["time"].ravel()
        check(psd.ndim == 2 and psd.shape == (freq.size, t.size), f"PSD is frequency x time {psd.shape}")
        unix = (t - 719529.0) * 86400.0
        check(1711972800 <= unix[0] < unix[-1] <= 1711972800 + 300, "time axis is datenums inside the file")
        check("Meta" in m, "MAT has Meta")

        # orderDataProduct, HSD PNG (archived: ready at once).
        res = quiet(c.orderDataProduct, {"deviceCode": AF, "dataProductCode": "HSD", "extension": "png", **SPAN})
        pngs = [f for f in downloaded(res) if f.endswith("-spect.png")]
        check(len(pngs) == SPAN_FILES, f"HSD png order: {SPAN_FILES} files ({pngs})")
        check(any(f.endswith("_PNG_META.xml") for f in downloaded(res)), "png meta included")
        with Image.open(out / "a" / pngs[0]) as im:
            check(im.size == (1200, 900), f"PNG is 1200x900 ({im.size})")

        # request → run → download, audio at the device rate; status OPEN → COMPLETED.
        req = quiet(c.requestDataProduct, {
            "deviceCode": AF, "dataProductCode": "AD", "extension": "flac",
            "dateFrom": "2024-04-01T12:00:00.000Z",
            # One file under either rule (dateTo is inclusive under `start`).
            "dateTo": "2024-04-01T12:05:00.000Z" if RULE == "overlap" else "2024-04-01T12:00:00.000Z",
        })
        rid = req["dpRequestId"]
        check("fileSize" in req, "archived audio request reports fileSize")
        check(quiet(c.checkDataProduct, rid)["searchHdrStatus"] == "OPEN", "status OPEN before download")
        run = quiet(c.runDataProduct, rid)
        check(run["fileCount"] == 1 and len(run["runIds"]) == 1, f"run complete with 1 file ({run})")
        res = quiet(c.downloadDataProduct, run["runIds"][0], includeMetadataFile=False)
        flacs = downloaded(res)
        check(flacs == [f"{AF}_20240401T120000.000Z.flac"], f"flac name ({flacs})")
        data, rate = soundfile.read(out / "a" / flacs[0], dtype="int32")
        check(rate == 32000 and len(data) == 300 * 32000, f"flac rate/length ({rate}, {len(data)})")
        check(np.abs(data).max() > 0, "audio is not silent")
        check(quiet(c.checkDataProduct, rid)["searchHdrStatus"] == "COMPLETED", "status COMPLETED after download")

        # cancel + restart (same run id).
        req = quiet(c.requestDataProduct, {
            "deviceCode": AF, "dataProductCode": "AD", "extension": "wav",
            "dpo_audioDownsample": "256", **SPAN,
        })
        rid = req["dpRequestId"]
        check("estimatedProcessingTime" in req, "on-demand request reports estimatedProcessingTime")
        run = quiet(c.runDataProduct, rid, waitComplete=False)
        cancelled = quiet(c.cancelDataProduct, rid)
        check(cancelled == [{"dpRunId": run["runIds"][0], "status": "cancelled"}], f"cancel answer {cancelled}")
        try:
            quiet(c.downloadDataProduct, run["runIds"][0])
            check(False, "download after cancel must fail")
        except Exception:  # ONC answers 400 without `errors`, the client raises
            check(True, "download after cancel fails")
        run2 = quiet(c.restartDataProduct, rid, waitComplete=True)
        check(run2["runIds"] == run["runIds"] and run2["fileCount"] == SPAN_FILES, f"restart reuses the run id ({run2})")
        res = quiet(c.downloadDataProduct, run["runIds"][0], includeMetadataFile=False)
        wavs = downloaded(res)
        data, rate = soundfile.read(out / "a" / wavs[0])
        check(len(wavs) == SPAN_FILES and rate == 256 and len(data) == 300 * 256, "resampled wav files")

        # Archive listings with paging: allPages equals one big page; drift in names.
        q = {"deviceCode": HF, "dateFrom": "2024-04-01T12:00:00.000Z", "dateTo": "2024-04-01T14:00:00.000Z"}
        big = quiet(c.getArchivefile, dict(q))["files"]
        paged = quiet(c.getArchivefile, {**q, "rowLimit": 7}, allPages=True)["files"]
        check(len(big) == 25 * 4 and paged == big, f"allPages equals one big page ({len(paged)} vs {len(big)})")
        one = quiet(c.getArchivefile, {**q, "rowLimit": 7})
        check(len(one["files"]) == 7 and one["next"]["parameters"]["page"] == "2", "first page and next")
        lst = quiet(c.getListByDevice, {**q, "fileExtension": "flac"})["files"]
        check(lst[0] == f"{HF}_20240401T115503.000Z.flac" and lst[1] == f"{HF}_20240401T120003.000Z.flac",
              f"overlap selection and drifting names ({lst[:2]})")
        loc = quiet(c.getArchivefile, {"locationCode": "FGPD", "deviceCategoryCode": "HYDROPHONE", **SPAN,
                                       "fileExtension": "wav"})["files"]
        check(len(loc) == 6, "location listing")

        # downloadArchivefile, then FileExistsError on a second call.
        name = f"{HF}_20240402T025503.000Z.wav"  # the short file before the gap
        r = quiet(c.downloadArchivefile, name)
        check(r["status"] == "completed", "archive file downloaded")
        data, rate = soundfile.read(out / "a" / name)
        check(rate == 64000 and len(data) == 157 * 64000, f"short file is 157 s ({len(data) / rate} s)")
        try:
            quiet(c.downloadArchivefile, name)
            check(False, "second download must raise FileExistsError")
        except FileExistsError:
            check(True, "FileExistsError on second download")

        # Invalid parameters raise HTTPError with the API error code.
        check(raises_api_error(lambda: c.getArchivefile({"deviceCode": HF, "dateFroms": "2024-04-01"}), 129),
              "unknown parameter: API Error 129")
        check(raises_api_error(lambda: c.requestDataProduct({"deviceCode": HF, "dataProductCode": "NOPE",
                                                             "extension": "mat", **SPAN}), 127),
              "bad product code: API Error 127")
        check(raises_api_error(lambda: c.downloadArchivefile("NOPE_20240401T120000.000Z.wav"), 96),
              "unknown file: API Error 96")
        check(raises_api_error(lambda: c.getDeployments({"deviceCode": HF, "locationCode": "FGPD"}), 127),
              "deployments without match: API Error 127")

        # Discovery.
        deps = quiet(c.getDeployments, {"deviceCode": HF})
        check(len(deps) == 2 and deps[1]["end"] is None, "deployments")
        prods = quiet(c.getDataProducts, {"dataProductCode": "HSD", "extension": "mat"})
        opts = {o["option"]: o for o in prods[0]["dataProductOptions"]}
        check(opts["dpo_spectralDataDownsample"]["defaultValue"] == "1", "dataProducts options as strings")
        check(len(quiet(c.getDevices, {"deviceCategoryCode": "HYDROPHONE"})) == 3, "devices")
        check(quiet(c.getLocations, {"deviceCode": AF})[0]["locationCode"] == "FGPD", "locations")

    # Faults at 20 %: plain calls fail like against a flaky ONC.
    with simulator("--faults", "500=0.1,503=0.1") as base, tempfile.TemporaryDirectory() as tmp:
        c = client(base, tmp)
        failures = 0
        for _ in range(100):
            try:
                quiet(c.getDevices, {"deviceCategoryCode": "HYDROPHONE"})
            except requests.HTTPError as e:
                failures += 1
                assert "500" in str(e) or "503" in str(e), str(e)
        check(8 <= failures <= 35, f"about 20 % of plain calls fail ({failures}/100)")

    print(f"check_onc_client: {checks} checks passed")


if __name__ == "__main__":
    main()
