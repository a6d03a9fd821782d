"""What the outside world may see of a title: no keys, no blob paths of secrets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from reelguard.store.models import TitleRow

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


def title_view(row: TitleRow) -> TitleView:
    return TitleView(
        id=row.id, name=row.name, status=row.status, stage=row.stage,
        duration_seconds=round(row.duration_seconds, 3), width=row.width, height=row.height,
        has_audio=row.has_audio, streams=list((row.package or {}).get("streams", [])),
        watermarked=row.watermark is not None, error=row.error,
    )
