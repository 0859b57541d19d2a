"""Clip outputs load in SciPy and soundfile (issue 6).

Starts `hydrofetch sim` on 127.0.0.1, runs the seed's JSON request example against it, and
loads the audio clip with soundfile and the MAT clip with scipy.io.loadmat. Exits non-zero on
any mismatch.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io
import soundfile

BIN = os.environ["HYDROFETCH_BIN"]
ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "11112222-clip-check-3333"


def main() -> int:
    sim = subprocess.Popen(
        [BIN, "sim", "--port", "0", "--token", TOKEN, "--time-scale", "0.001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = sim.stdout.readline().strip().removeprefix("listening on ")
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            shutil.copy(ROOT / "manifests" / "requests-seed.json", d / "requests.json")
            env = dict(os.environ, ONC_TOKEN=TOKEN, ONC_URL=url)
            r = subprocess.run(
                [BIN, "run", str(d / "requests.json"), "--quiet", "--poll-min-ms", "5", "--poll-max-ms", "200"],
                env=env,
                capture_output=True,
                text=True,
            )
            if r.returncode != 0:
                print("run failed:", r.stdout, r.stderr)
                return 1
            rows = json.loads((d / "data" / "index.json").read_text())
            clips = {(row["product"], row["label"]): row for row in rows if row["kind"] == "clip"}
            failures = 0

            audio = clips[("audio", "whale call 1")]
            data, rate = soundfile.read(d / "data" / audio["path"], dtype="int32")
            if rate != 64000 or data.shape != (30 * 64000,):
                print("audio clip:", rate, data.shape)
                failures += 1

            mat = clips[("spectrogram", "whale call 1")]
            m = scipy.io.loadmat(d / "data" / mat["path"])
            s = m["SpectData"][0, 0]
            psd, times, freqs = s["PSD"], s["time"].ravel(), s["frequency"].ravel()
            if psd.shape != (freqs.size, times.size):
                print("PSD shape", psd.shape, "vs", freqs.size, times.size)
                failures += 1
            # Datenums of column centres inside the 30 s window (± one column).
            unix = (times - 719529.0) * 86400.0
            w0 = 1711974875.0  # 2024-04-01T12:34:35Z
            step = np.median(np.diff(unix))
            if not (abs(unix[0] - step / 2 - w0) <= step and abs(unix[-1] + step / 2 - (w0 + 30)) <= step):
                print("time axis", unix[0], unix[-1], "step", step)
                failures += 1
            meta = m["Meta"][0, 0]
            sources = str(meta["sourceFiles"][0])
            if "T123003" not in sources or "T123503" not in sources:
                print("sourceFiles", sources)
                failures += 1
            print(f"clips: {3 - failures} checks passed, {failures} failed")
            return 1 if failures else 0
    finally:
        sim.kill()
        sim.wait()


if __name__ == "__main__":
    sys.exit(main())
