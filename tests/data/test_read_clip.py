"""read_clip: the window of a file, decoded in bounded blocks. The same samples as
decoding the whole file and resampling its first seconds; memory bounded by the
window whatever the file decodes to; lengths from the header or counted."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_helpers import encoded, noise, silence_flac, stating_length, unknown_length

from audiorouter.data.audio_io import AudioError, decode_audio, read_clip, to_mono_16k

SR = 16_000


@pytest.mark.parametrize("fmt, subtype, exact", [("WAV", "FLOAT", True), ("FLAC", "PCM_24", True),
                                                 ("OGG", "VORBIS", True), ("MP3", "MPEG_LAYER_III", False)])
@pytest.mark.parametrize("rate, channels", [(44_100, 2), (16_000, 1), (48_000, 6)])
@pytest.mark.parametrize("window_s", [100.0, 1.5])
def test_the_window_holds_the_samples_of_a_whole_decode(fmt, subtype, exact, rate, channels, window_s):
    """Block by block (mono, resampled as a stream) equals decode-all, cut, resample;
    bit for bit except MP3, whose decoder rounds by read size (within 1e-6)."""
    if fmt == "MP3" and channels > 2:
        pytest.skip("MP3 holds at most two channels")
    data = encoded(noise(rate, 3.0, channels), rate, fmt, subtype)
    whole, whole_rate = decode_audio(data)
    expected = to_mono_16k(whole[: int(window_s * whole_rate)], whole_rate)
    clip = read_clip(data, window_s)
    assert clip.source_rate == whole_rate and clip.waveform.dtype == np.float32
    if exact:
        np.testing.assert_array_equal(clip.waveform, expected)
    else:
        np.testing.assert_allclose(clip.waveform, expected, atol=1e-6)
    assert clip.truncated is (whole.size > int(window_s * whole_rate))
    assert clip.duration_s == pytest.approx(whole.size / whole_rate)


def test_a_file_that_does_not_say_its_length_is_counted_or_unknown():
    flac = encoded(noise(SR, 3.0, 1)[:, 0], SR, "FLAC", "PCM_16")
    stream = unknown_length(flac)
    with sf.SoundFile(io.BytesIO(stream)) as probe:
        assert probe.frames > 1 << 62  # libsndfile: "unknown"
    whole = read_clip(stream, 10.0)  # decoded to its end: counted
    assert (whole.duration_s, whole.truncated) == (3.0, False)
    np.testing.assert_array_equal(whole.waveform, read_clip(flac, 10.0).waveform)
    cut = read_clip(stream, 1.0)
    assert (cut.duration_s, cut.truncated, cut.waveform.size) == (None, True, SR)
    with pytest.raises(AudioError, match=r"the audio \(of unstated length\) exceeds the limit of 1 s"):
        read_clip(stream, 1.0, longer="error")


def test_a_header_that_claims_more_than_the_data_holds_is_not_trusted():
    """Two hours stated over one second of data: that second, in either mode (never
    refused on the header's word), as every entry point reads it."""
    lying = stating_length(encoded(noise(SR, 1.0, 1)[:, 0], SR, "FLAC", "PCM_16"), 2 * 3600 * SR)
    with sf.SoundFile(io.BytesIO(lying)) as probe:
        assert probe.frames == 2 * 3600 * SR
    for longer in ("truncate", "error"):
        clip = read_clip(lying, 120.0, longer)
        assert (clip.duration_s, clip.truncated, clip.waveform.size) == (1.0, False, SR)


def test_longer_than_the_window_is_refused_on_request():
    data = encoded(noise(SR, 2.0, 1), SR, "FLAC", "PCM_16")
    with pytest.raises(AudioError, match=r"^duration 2.0 s exceeds the limit of 1.5 s$"):
        read_clip(data, 1.5, longer="error")
    assert read_clip(data, 2.0, longer="error").waveform.size == 2 * SR


def test_bad_audio_is_named():
    with pytest.raises(AudioError, match="audio bytes are empty"):
        read_clip(b"", 10.0)
    with pytest.raises(AudioError, match="unreadable audio"):
        read_clip(b"not audio" * 20, 10.0)
    with pytest.raises(AudioError, match="sample rate 500 Hz is outside"):
        read_clip(encoded(np.zeros(500, np.float32), 500, "WAV", "PCM_16"), 10.0)
    with pytest.raises(AudioError, match="audio has no samples"):
        read_clip(encoded(np.zeros(0, np.float32), SR, "WAV", "PCM_16"), 10.0)
    broken = noise(SR, 1.0, 1)[:, 0]
    broken[[3, 5000]] = [np.nan, np.inf]
    with pytest.raises(AudioError, match="audio has 2 NaN/inf samples"):
        read_clip(encoded(broken, SR, "WAV", "FLOAT"), 10.0)


def test_a_path_is_checked_like_decode_audio(tmp_path):
    (tmp_path / "folder.wav").mkdir()
    with pytest.raises(AudioError, match="audio path is a directory"):
        read_clip(tmp_path / "folder.wav", 10.0)
    (tmp_path / "clip.flac").write_bytes(encoded(noise(SR, 0.5, 1), SR, "FLAC", "PCM_16"))
    assert read_clip(str(tmp_path / "clip.flac"), 10.0).waveform.size == SR // 2
    broken = noise(SR, 0.5, 1)
    broken[7] = np.nan
    (tmp_path / "broken.wav").write_bytes(encoded(broken, SR, "WAV", "FLOAT"))
    with pytest.raises(AudioError, match=f"^{tmp_path / 'broken.wav'}: audio has 1 NaN/inf samples$"):
        read_clip(tmp_path / "broken.wav", 10.0)  # an error about a file names it


MEMORY_CHILD = r"""
import json, sys
from audiorouter.data.audio_io import read_clip

def status_mb(key):  # VmRSS: now; VmHWM: this process's peak
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024

data = open(sys.argv[1], "rb").read()
before = status_mb("VmRSS")
clip = read_clip(data, float(sys.argv[2]))
print(json.dumps({"increase_mb": status_mb("VmHWM") - before, "n": int(clip.waveform.size),
                  "duration_s": clip.duration_s}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_two_hours_of_silence_cost_the_window_not_the_hours(tmp_path):
    """363 KB of FLAC decode to 460 MB of float32; reading a 120 s window takes the window
    (7.7 MB at 16 kHz) and a 4 MB block, in a fresh process (peak RSS minus RSS before)."""
    path = tmp_path / "silence.flac"
    path.write_bytes(silence_flac(2 * 3600))
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path), "120"],
                          capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(done.stdout)
    assert measured["n"] == 120 * SR and measured["duration_s"] == 7200.0
    assert measured["increase_mb"] < 60.0, measured
