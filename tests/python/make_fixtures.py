"""Regenerates the small third-party-written fixtures in tests/data/ (not a check: run by hand).

    target/pyenv/bin/python tests/python/make_fixtures.py

The Rust tests (tests/formats_interop.rs) recompute the same values, so keep them in step.
"""
import pathlib

import numpy as np
import scipy.io
import soundfile as sf

out = pathlib.Path(__file__).resolve().parent.parent / "data"
out.mkdir(exist_ok=True)

psd = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 4.0
psd[0, 1] = np.nan
psd[2, 3] = -np.inf
variables = {
    "PSD": psd,
    "vec": np.arange(4, dtype=np.float64),
    "label": "µPa²/Hz",
    "i16": np.array([[-32768, 7, 32767]], dtype=np.int16),
    "u8": np.array([[0, 255]], dtype=np.uint8),
    "mask": np.array([[True, False, True]]),
    "f32": np.array([[0.5, -1.25]], dtype=np.float32),
    "SpectData": {"frequency": np.array([[0.0], [10.0], [20.0]]), "comment": "Hann", "meta": {"depth": 985.5, "code": "ICLISTENHF1560"}},
}
scipy.io.savemat(out / "scipy_plain.mat", variables, oned_as="column")
scipy.io.savemat(out / "scipy_compressed.mat", variables, do_compression=True, oned_as="row")

i = np.arange(3000, dtype=np.int64)[:, None]
c = np.arange(2, dtype=np.int64)[None, :]
pcm24 = ((i * 7919 + c * 104729) % (1 << 24)) - (1 << 23)
sf.write(out / "soundfile_24.flac", (pcm24 << 8).astype(np.int32), 64000, subtype="PCM_24")
sf.write(out / "soundfile_24.wav", (pcm24 << 8).astype(np.int32), 64000, subtype="PCM_24")
print("fixtures written to", out)
