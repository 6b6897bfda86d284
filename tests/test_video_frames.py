"""Exact frames from real-world containers: AVI (XviD-like MPEG-4 part 2) with B-frames, mp4/mkv with
B-frames and late key frames. Every frame shows its own index (amidlib.testing.indexed_video), so a
window that is off by one, lands after a late key frame or repeats a frame fails."""
import pytest

pytest.importorskip("av")

from amidlib.data.cache import CALLS
from amidlib.data.video.clips import ClipSpec
from amidlib.data.video.decode import probe_video, read_frames
from amidlib.testing.indexed_video import read_index, write_indexed_video

N = 300
CASES = {
    "xvid_like_b2.avi": dict(codec="mpeg4", b_frames=2, gop=250),   # UCF101: XviD, B-frames, ~1 key frame
    "divx_like_b3.avi": dict(codec="mpeg4", b_frames=3, gop=100),   # IEMOCAP: DivX
    "h264_b3.mp4": dict(codec="libx264", b_frames=3, gop=120),      # ActivityNet: mp4 from YouTube
    "mpeg4_b2.mkv": dict(codec="mpeg4", b_frames=2, gop=90),
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    import av

    root = tmp_path_factory.mktemp("indexed")
    out = {}
    for name, kw in CASES.items():
        if kw["codec"] not in av.codecs_available:
            continue
        out[name] = write_indexed_video(root / name, N, **kw)
    return out


def _has_b_frames(path) -> bool:
    import av

    with av.open(str(path)) as c:
        return any(int(f.pict_type) == 3 or getattr(f.pict_type, "name", "") == "B" for f in c.decode(video=0))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("start", [0, 1, 100, 150, 190, N // 2 - 8, N - 16])
def test_window_returns_exactly_the_requested_frames(videos, name, start):
    if name not in videos:
        pytest.skip(f"{CASES[name]['codec']} not in this FFmpeg build")
    want = list(range(start, start + 16))
    got = [read_index(f) for f in read_frames(videos[name], want)]
    assert got == want


@pytest.mark.parametrize("name", list(CASES))
def test_the_files_really_have_b_frames_and_the_whole_file_decodes_in_order(videos, name):
    if name not in videos:
        pytest.skip("codec missing")
    assert _has_b_frames(videos[name])
    assert probe_video(videos[name]).n_frames == N
    frames = read_frames(videos[name])
    assert [read_index(f) for f in frames] == list(range(N))


@pytest.mark.parametrize("name", ["xvid_like_b2.avi", "h264_b3.mp4"])
def test_scattered_repeated_and_resized_indices(videos, name):
    if name not in videos:
        pytest.skip("codec missing")
    want = [250, 3, 3, 299, 120, 121, 0]
    got = read_frames(videos[name], want, size=(128, 171))
    assert got.shape == (len(want), 128, 171, 3)
    assert [read_index(f, width=96) for f in got] == want


def test_index_past_the_end_gets_the_last_frame_and_is_counted(videos):
    before = CALLS["frames_past_end"]
    got = read_frames(videos["xvid_like_b2.avi"], [N - 1, N, N + 5])
    assert [read_index(f) for f in got] == [N - 1, N - 1, N - 1]
    assert CALLS["frames_past_end"] - before == 2


def test_test_clips_cover_the_video_and_each_is_exact(videos):
    spec = ClipSpec(clip_len=16, resize=(64, 96), crop=48, test_clips=5)
    idx = spec.test_indices(N)
    assert idx.shape == (5, 16)
    assert idx[0, 0] == 0 and idx[-1, -1] == N - 1  # spread over the whole video
    frames = read_frames(videos["xvid_like_b2.avi"], idx.reshape(-1))
    assert [read_index(f) for f in frames] == idx.reshape(-1).tolist()


def test_sequential_reader_serves_increasing_overlapping_windows_from_one_decode(videos):
    from amidlib.data.video.decode import SequentialFrameReader

    reader = SequentialFrameReader(keep=64)
    path = videos["divx_like_b3.avi"]
    before = CALLS["video_decode"]
    for start in (10, 40, 35, 120, 200, 284):  # sorted by start, with an overlap stepping back
        want = list(range(start, start + 16))
        assert [read_index(f) for f in reader.read(path, want)] == want
    assert CALLS["video_decode"] - before == 1
    assert [read_index(f) for f in reader.read(path, [5, 6])] == [5, 6]  # before the kept frames: reopened
    assert CALLS["video_decode"] - before == 2
    reader.close()
