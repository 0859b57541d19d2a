//! File formats shared by the simulator and the clipper: WAV, FLAC, MAT v5 and PNG.
