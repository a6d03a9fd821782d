"""Trace: forensic A/B session watermarking (docs/watermarking.md).

One module per step of the walk: ``embedding`` (the mark) → ``variants`` (A and B encodes)
→ ``packaging`` (+ ``pace``: WMPaceInfo) → ``sessions`` and ``edge`` (each session's own
A/B stream, ``code``: which variant) → ``trace`` (``alignment`` + ``detection``: who leaked).
"""

__all__: list[str] = []
