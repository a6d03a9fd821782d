"""Which part of a suspect was read: stretches joined, and said plainly."""

from __future__ import annotations

from reelguard.media.sample import Coverage


def test_moments_closer_than_a_second_are_one_stretch() -> None:
    moments = [(t / 25, t / 25 + 0.04) for t in range(0, 100)] + [(6.0, 6.04), (6.5, 9.0)]
    coverage = Coverage.of(moments, 9.0, damaged_packets=0, broke_off=False)
    assert coverage.spans == ((0.0, 4.0), (6.0, 9.0))
    assert coverage.read_seconds == 7.0 and not coverage.complete and not coverage.stopped_early
    assert coverage.describe() == "read 7.0 s of 9.0 s (0.0-4.0 s, 6.0-9.0 s)"


def test_a_file_that_ends_before_its_declared_end_stopped_early() -> None:
    coverage = Coverage.of([(0.0, 7.4)], 15.9, damaged_packets=1, broke_off=False)
    assert coverage.stopped_early and not coverage.complete
    assert coverage.describe() == "read 7.4 s of 15.9 s (0.0-7.4 s); the file stops there; 1 damaged packet(s) skipped"


def test_a_whole_file_is_complete_within_a_frame_or_two_of_its_declared_end() -> None:
    coverage = Coverage.of([(0.0, 15.84)], 15.936, damaged_packets=0, broke_off=False)
    assert coverage.complete and coverage.describe() == "read whole"
    assert coverage.to_json()["spans"] == [[0.0, 15.84]]


def test_a_demuxer_that_broke_off_is_early_even_without_a_declared_length() -> None:
    coverage = Coverage.of([(0.0, 3.0)], None, damaged_packets=0, broke_off=True)
    assert coverage.stopped_early and coverage.describe() == "read 3.0 s (0.0-3.0 s); the file stops there"


def test_a_file_that_declares_no_length_is_not_known_whole() -> None:
    """A stream written without an index (an MKV piped out of ffmpeg) cut short read as "read whole"."""
    coverage = Coverage.of([(0.0, 34.0)], None, damaged_packets=0, broke_off=False)
    assert not coverage.complete and not coverage.stopped_early
    assert coverage.describe() == ("read 34.0 s (0.0-34.0 s); the file does not say how long it is (a stream "
                                   "written without an index), so it may have been cut there")
