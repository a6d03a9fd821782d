"""Playback sessions of watermarked titles: start one (token + stream URL), render its leak.

A session records who watched (account, device, IP, start time); its watermarking token
lets the origin or an edge serve it its own A/B sequence (``watermark/edge.py``). Rendering
rebuilds exactly what that session was served — its variant of every video segment of the
top rendition plus the audio — decrypted with Shaka Packager and muxed into one MP4: the
file a pirate who recorded the session would hold. Tests, benchmarks and the demo use it
to make leaks::

    sessions = runtime.session_service()
    started = sessions.start(account="alice", device="tv-1", title="ep01", ip="203.0.113.9")
    started.stream_path      # /stream/<token>/dash/manifest.mpd
    sessions.render(started.session_id, Path("leak.mp4"))
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import select

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey, TrackTier
from reelguard.drm.keystore import KeyStore
from reelguard.drm.packaging import run_packager
from reelguard.errors import Conflict, InvalidInput, NotFound, ProcessingError, TitleNotReady
from reelguard.media.processes import run_tied
from reelguard.media.tools import MediaTools
from reelguard.progress import Progress, no_progress
from reelguard.store import repositories, subscribers
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.models import TitleRow, WatermarkSessionRow
from reelguard.titles import PackagedStream, PackagedWatermark, Title, WatermarkParams, generation_path
from reelguard.watermark.code import SessionCode
from reelguard.watermark.edge import TOKEN_AUDIENCE, TOKEN_KEY_ID
from reelguard.watermark.packaging import VARIANT_B_DIR
from reelguard.watermark.secrets import WatermarkSecret

__all__ = ["SessionService", "StartedSession", "require_watermarked"]

TOKEN_VERSION = 1
VENDOR_ID = 0xFF  # TS 104 002 wmvnd: private use (no registered vendor code)


@dataclass(frozen=True)
class StartedSession:
    session_id: str
    title: str
    account: str
    device: str
    ip: str | None
    started_at: datetime
    expires_at: datetime
    token: str

    @property
    def stream_path(self) -> str:
        return f"/stream/{self.token}/dash/manifest.mpd"

    def to_json(self) -> dict[str, Any]:
        return {"session": self.session_id, "title": self.title, "account": self.account, "device": self.device,
                "ip": self.ip, "started_at": self.started_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "token": self.token, "dash": self.stream_path,
                "hls": f"/stream/{self.token}/hls/master.m3u8"}


def require_watermarked(title: Title) -> tuple[WatermarkParams, PackagedWatermark]:
    """How the ready title was marked and packaged; Conflict if it is not watermarked."""
    if not title.ready:
        raise TitleNotReady(f"title {title.name!r} is {title.status}, not ready")
    if title.watermark is None or title.package is None or title.package.watermark is None:
        raise Conflict(f"title {title.name!r} is not watermarked; ingest it with 'reelguard titles add --watermark'")
    return title.watermark, title.package.watermark


class SessionService:
    def __init__(self, *, db: Database, blobs: BlobStore, tools: MediaTools, keystore: KeyStore,
                 watermark: WatermarkSecret, clock: Clock, session_seconds: int) -> None:
        self._db, self._blobs, self._tools, self._keystore = db, blobs, tools, keystore
        self._watermark, self._clock, self._session_seconds = watermark, clock, session_seconds

    def start(self, *, account: str, device: str, title: str, ip: str | None = None) -> StartedSession:
        """Record a session and sign its watermarking token."""
        now = self._clock()
        expires = now + timedelta(seconds=self._session_seconds)
        with self._db.transaction() as session:
            record = repositories.load_title(session, title)
            watermark, packaged = require_watermarked(record)
            _require_device(session, account, device)
            session_id = str(uuid.uuid4())
            session.add(WatermarkSessionRow(id=session_id, title_id=record.id, account_id=account, device_id=device,
                                            ip=_clean_ip(ip), started_at=now, expires_at=expires))
            token = self._sign(session_id, record, watermark, packaged.positions, now, expires)
            return StartedSession(session_id, record.name, account, device, _clean_ip(ip), now, expires, token)

    def _sign(self, session_id: str, title: Title, watermark: WatermarkParams, positions: int,
              now: datetime, expires: datetime) -> str:
        claims = {
            "iss": "reelguard", "aud": TOKEN_AUDIENCE, "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
            "wmver": TOKEN_VERSION, "wmvnd": VENDOR_ID, "wmid": session_id, "wmpatlen": positions,
            "wmsegduration": [watermark.segment_seconds, 1],
            "title": title.id, "title_name": title.name, "collusion": watermark.collusion,
            "wmgen": title.package.generation if title.package else 1,
        }
        return jwt.encode(claims, self._watermark.token_key, algorithm="HS256", headers={"kid": TOKEN_KEY_ID})

    def list_sessions(self, *, account: str | None = None, title: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        """Watermarking sessions, newest first: whom each leaked A/B sequence would point to."""
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"expected a page size from 1 to 1000, got {limit}")
        query = (select(WatermarkSessionRow, TitleRow.name).join(TitleRow, TitleRow.id == WatermarkSessionRow.title_id)
                 .order_by(WatermarkSessionRow.started_at.desc()).limit(limit))
        if account is not None:
            query = query.where(WatermarkSessionRow.account_id == account)
        if title is not None:
            query = query.where(TitleRow.name == title)
        now = self._clock()
        with self._db.session() as session:
            return [{"session": row.id, "title": name, "account": row.account_id, "device": row.device_id,
                     "ip": row.ip, "started_at": row.started_at.isoformat(), "expires_at": row.expires_at.isoformat(),
                     "running": row.expires_at > now} for row, name in session.execute(query).all()]

    def get(self, session_id: str) -> tuple[WatermarkSessionRow, Title]:
        with self._db.session() as session:
            row = session.get(WatermarkSessionRow, session_id)
            if row is None:
                raise NotFound(f"no watermarking session {session_id[:60]!r} "
                               "(see 'reelguard sessions list --watermarked')")
            return row, repositories.load_title(session, row.title_id)

    def bits(self, session_id: str) -> list[int]:
        row, title = self.get(session_id)
        watermark, packaged = require_watermarked(title)
        code = SessionCode(key=self._watermark.title_keys(title.id).code, collusion=watermark.collusion)
        return code.bits(row.id, packaged.positions)

    def render(self, session_id: str, out: Path, on_progress: Progress = no_progress) -> Path:
        """Write the session's programme (top rendition + audio), decrypted, to ``out`` (MP4)."""
        if out.suffix.lower() != ".mp4":
            raise InvalidInput(f"expected an output path ending in .mp4, got {out.name!r}")
        _row, title = self.get(session_id)
        return self.render_sequence(title.name, self.bits(session_id), out, on_progress)

    def render_sequence(self, title_name: str, bits: list[int], out: Path,
                        on_progress: Progress = no_progress) -> Path:
        """Write the programme of an arbitrary A/B sequence (0 = A, 1 = B per segment) to ``out``.

        A coalition mixing segments from several sessions makes exactly such a sequence.
        """
        if out.suffix.lower() != ".mp4":
            raise InvalidInput(f"expected an output path ending in .mp4, got {out.name!r}")
        with self._db.session() as session:
            title = repositories.load_title(session, title_name)
        require_watermarked(title)
        generation = title.package.generation if title.package else 1  # the keys its files are under
        with self._db.session() as session:
            keys = self._keystore.keys_of_title(session, title.id, generation)
        top = _top_video(title)
        steps = 3 if title.has_audio else 2
        with tempfile.TemporaryDirectory(prefix="reelguard-render-") as work_name:
            work = Path(work_name)
            on_progress("render", 0, steps)
            video = self._decrypt(self._concat(title, top.name, bits, work / "video.enc.mp4"),
                                  _key_of(keys, TrackTier(top.tier)), "video", work / "video.mp4")
            on_progress("render", 1, steps)
            audio = None
            if title.has_audio:
                audio = self._decrypt(self._concat(title, "audio", None, work / "audio.enc.mp4"),
                                      _key_of(keys, TrackTier.AUDIO), "audio", work / "audio.mp4")
                on_progress("render", 2, steps)
            _mux(self._tools.ffmpeg, video, audio, out)
            on_progress("render", steps, steps)
        return out

    def _concat(self, title: Title, stream: str, bits: list[int] | None, target: Path) -> Path:
        """init + every segment of ``stream`` (variant per ``bits`` for video) as one encrypted fMP4."""
        base = f"packages/{title.id}/{generation_path(title.package.generation if title.package else 1)}"
        with target.open("wb") as handle:
            handle.write(self._blobs.get_bytes(f"{base}dash/{stream}/init.mp4"))
            number = 1
            while True:
                variant_b = bits is not None and number - 1 < len(bits) and bits[number - 1] == 1
                key = f"{base}{VARIANT_B_DIR + '/' if variant_b else ''}dash/{stream}/{number}.m4s"
                if not self._blobs.exists(key):
                    break
                handle.write(self._blobs.get_bytes(key))
                number += 1
        return target

    def _decrypt(self, source: Path, key: ContentKey, kind: str, target: Path) -> Path:
        flags = ["--enable_raw_key_decryption", f"--keys=key_id={key.kid.hex}:key={key.key.hex()}"]
        run_packager(self._tools, [f"in={source},stream={kind},output={target}"], flags,
                     secrets=[key.key.hex()])
        return target


def _require_device(session: Any, account: str, device: str) -> None:
    if subscribers.find_account(session, account) is None:
        raise NotFound(f"no account {account[:60]!r} (create it with 'reelguard accounts add')")
    devices = [d.id for d in subscribers.devices_of(session, account)]
    if device not in devices:
        raise NotFound(f"account {account!r} has no device {device[:60]!r} (devices: {', '.join(devices) or 'none'})")


def _clean_ip(ip: str | None) -> str | None:
    if ip is None or ip == "":
        return None
    import ipaddress

    try:
        return str(ipaddress.ip_address(ip))
    except ValueError as exc:
        raise InvalidInput(f"expected an IPv4 or IPv6 address, got {ip[:60]!r}") from exc


def _top_video(title: Title) -> PackagedStream:
    videos = [s for s in (title.package.streams if title.package else ()) if s.kind == "video"]
    if not videos:
        raise NotFound(f"title {title.name!r} has no packaged video")
    return max(videos, key=lambda s: s.height or 0)


def _key_of(keys: list[ContentKey], tier: TrackTier) -> ContentKey:
    for key in keys:
        if key.tier is tier:
            return key
    raise NotFound(f"no content key for tier {tier.value}")


def _mux(ffmpeg: str, video: Path, audio: Path | None, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part.mp4")
    command = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(video)]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    command += ["-c", "copy", "-movflags", "+faststart", str(partial)]
    result = run_tied(command, capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ProcessingError(f"muxing the rendered session failed: {result.stderr.strip()[-200:]}")
    shutil.move(partial, out)
