"""What the outside world may see of a title: no keys, no blob paths of secrets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from reelguard.titles import Title

__all__ = ["TitleView", "title_view"]


@dataclass(frozen=True)
class TitleView:
    id: str
    name: str
    status: str
    stage: str
    duration_seconds: float
    width: int
    height: int
    has_audio: bool
    streams: list[dict[str, Any]]
    watermarked: bool
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def title_view(title: Title) -> TitleView:
    return TitleView(
        id=title.id, name=title.name, status=title.status.value, stage=title.stage.value,
        duration_seconds=round(title.duration_seconds, 3), width=title.width, height=title.height,
        has_audio=title.has_audio, streams=[s.to_json() for s in (title.package.streams if title.package else ())],
        watermarked=title.watermark is not None, error=title.error,
    )
