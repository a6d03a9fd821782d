"""Typed settings: defaults, then a TOML file, then ``REELGUARD_*`` environment variables.

The embedded defaults need no configuration at all: everything lives under one data
folder (``./.reelguard`` unless ``REELGUARD_DATA_DIR`` says otherwise) with a SQLite
database, a local blob folder and generated secrets::

    settings = Settings.load()            # reads $REELGUARD_CONFIG or <data_dir>/reelguard.toml
    settings.database_url                 # sqlite:///.../reelguard.db unless overridden

Fields are grouped by concern below (storage, secrets, media, packaging, server,
tokens); the environment variable of a field is ``REELGUARD_`` + its upper-case name,
e.g. ``REELGUARD_DATABASE_URL``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelguard.errors import ConfigurationError

__all__ = ["CONFIG_FILE_NAME", "DEFAULT_LADDER", "Settings"]

DEFAULT_LADDER: tuple[int, ...] = (360, 540, 720, 1080)
CONFIG_FILE_NAME = "reelguard.toml"


class Settings(BaseSettings):
    """All of reelguard's knobs. Immutable once loaded."""

    model_config = SettingsConfigDict(env_prefix="REELGUARD_", frozen=True, extra="forbid")

    # -- storage ---------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".reelguard"), description="Root of all local state.")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite file if empty.")
    blob_dir: Path | None = Field(default=None, description="Local blob folder; data_dir/blobs.")
    fingerprint_index_dir: Path | None = Field(
        default=None, description="Content-recognition index (derived, rebuildable); data_dir/fingerprints."
    )

    # -- secrets ---------------------------------------------------------------------
    kek_file: Path | None = Field(
        default=None, description="Key-encryption key (32 raw bytes); data_dir/kek.bin."
    )
    token_signing_key_file: Path | None = Field(
        default=None, description="The demo's stand-in for the backend: an EdDSA/ES256 PEM private key that "
        "'tokens issue' signs with; data_dir/token-signing-key.pem. Trusted only when no backend key is set."
    )
    watermark_secret_file: Path | None = Field(
        default=None, description="Watermark master secret (32 raw bytes, shared with edges); data_dir/watermark.key."
    )

    # -- media -----------------------------------------------------------------------
    ffmpeg: str | None = Field(default=None, description="ffmpeg path; wheel's if unset.")
    ffprobe: str | None = Field(default=None, description="ffprobe path; wheel's if unset.")
    packager: str | None = Field(default=None, description="Shaka Packager path.")
    ladder: tuple[int, ...] = Field(default=DEFAULT_LADDER, description="Rendition heights.")
    x264_preset: str = Field(default="veryfast")
    audio_bitrate_kbps: int = Field(default=128, ge=32, le=512)

    # -- packaging -------------------------------------------------------------------
    segment_seconds: int = Field(default=4, ge=1, le=30)

    # -- forensic watermarking ------------------------------------------------------
    watermark_strength: float = Field(
        default=0.3, gt=0, le=8, description="Mark amplitude in luma levels at moderate texture (docs/watermarking.md)."
    )
    watermark_collusion: int = Field(
        default=2, ge=1, le=12, description="Coalition size the session code's bias law is built for."
    )
    watermark_session_seconds: int = Field(
        default=6 * 3600, ge=60, description="How long a session's watermarking token stays valid."
    )
    watermark_false_accusation: float = Field(
        default=1e-6, gt=0, lt=0.01, description="Bound on accusing any innocent session in one trace."
    )

    # -- server ----------------------------------------------------------------------
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8700, ge=0, le=65535)
    max_license_body_bytes: int = Field(default=16_384, ge=256)
    max_request_body_bytes: int = Field(
        default=1 << 20, ge=262_144, le=64 << 20, description="Bound on any request body (routes bound theirs tighter)."
    )
    body_read_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="A request body must arrive within this long, else 408."
    )
    worker_healthcheck_seconds: int = Field(
        default=60, ge=5, le=600,
        description="How long a server worker may take to answer the supervisor before it is killed and replaced.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Server log level (the access log is at info)."
    )
    log_format: Literal["text", "json"] = Field(default="text", description="Server logs as text or JSON lines.")
    license_cache_seconds: float = Field(
        default=2.0, ge=0, le=300, description="How long the licence path caches title status and keys."
    )

    # -- licence policy --------------------------------------------------------------
    license_policy_file: Path | None = Field(
        default=None, description="Policy TOML (docs/policy.md); the built-in default policy if unset."
    )
    geoip_database: Path | None = Field(
        default=None, description="MaxMind-format country database (.mmdb); countries unknown if unset."
    )
    stream_grace_seconds: int = Field(
        default=90, ge=0, le=3600, description="How long a stream keeps its slot after its licence ends unrenewed."
    )
    policy_feed_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often a licence server polls the policy change feed."
    )
    renewal_flush_seconds: float = Field(
        default=0.25, gt=0, le=10, description="How often buffered renewals and decisions are written."
    )
    renewal_write_ahead_seconds: int = Field(
        default=30, ge=0, le=600,
        description="A stream's stored expiry runs this far ahead, so renewals write at most once per this long.",
    )
    unsafe_skip_license_policy: bool = Field(
        default=False, description="UNSAFE: license on a valid token alone (benchmark comparator only)."
    )
    unsafe_skip_decision_journal: bool = Field(
        default=False,
        description="UNSAFE: renewal decisions only buffered, not journaled (a crash loses up to one flush of them).",
    )
    license_proxy_upstreams: dict[str, str] = Field(
        default_factory=dict, description="DRM system → upstream licence URL for the licence proxy."
    )
    license_proxy_credential_file: Path | None = Field(
        default=None, description="0600 file holding the bearer credential sent to proxy upstreams."
    )
    license_proxy_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    api_clients_file: Path | None = Field(
        default=None, description="0600 TOML of key-server API clients; data_dir/api-clients.toml."
    )

    # -- tokens ----------------------------------------------------------------------
    token_audience: str = Field(default="reelguard-license")
    token_issuer: str = Field(default="reelguard-backend")
    token_max_ttl_seconds: int = Field(default=86_400, ge=1)
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)
    token_trusted_keys: dict[str, Path] = Field(
        default_factory=dict, description="The backend's public keys (PEM) the licence server trusts, by kid: "
        '{"backend-2026-12" = "/etc/reelguard/backend-2026-12.pub.pem"}. With these or token_jwks set, the '
        "local demo signing key is not trusted."
    )
    token_jwks: str | None = Field(
        default=None, description="The backend's JWKS (a file or an http(s) URL) of trusted public keys."
    )
    token_jwks_refresh_seconds: float = Field(
        default=300.0, ge=5.0, description="How often the trusted keys (PEM files, JWKS) are re-read, so a "
        "key rotation needs no restart; a token naming an unknown kid triggers a re-read within 10 s."
    )

    @field_validator("ladder")
    @classmethod
    def _ladder_heights_are_even_and_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(h <= 0 or h % 2 for h in value):
            raise ValueError(f"ladder must be positive even heights, got {list(value)}")
        return tuple(sorted(set(value)))

    # -- derived paths ---------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'reelguard.db').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return (self.blob_dir or self.data_dir / "blobs").resolve()

    @property
    def resolved_kek_file(self) -> Path:
        return (self.kek_file or self.data_dir / "kek.bin").resolve()

    @property
    def resolved_token_signing_key_file(self) -> Path:
        return (self.token_signing_key_file or self.data_dir / "token-signing-key.pem").resolve()

    @property
    def resolved_watermark_secret_file(self) -> Path:
        return (self.watermark_secret_file or self.data_dir / "watermark.key").resolve()

    @property
    def resolved_fingerprint_index_dir(self) -> Path:
        return (self.fingerprint_index_dir or self.data_dir / "fingerprints").resolve()

    @property
    def resolved_journal_dir(self) -> Path:
        """The licence decision journal (``license/journal.py``): local, per machine."""
        return (self.data_dir / "journal").resolve()

    @property
    def resolved_api_clients_file(self) -> Path:
        return (self.api_clients_file or self.data_dir / "api-clients.toml").resolve()

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from the TOML file (if any), the environment and overrides.

        The file is ``config_file``, else ``$REELGUARD_CONFIG``, else ``reelguard.toml`` in
        the data folder — the one given here (``--data-dir``) before ``$REELGUARD_DATA_DIR``
        and ``.reelguard``, so a folder named on the command line brings its own settings.
        """
        data_dir = overrides.get("data_dir")
        file_values = _read_toml(config_file or _default_config_file(Path(data_dir) if data_dir else None))
        try:
            return cls(**{**file_values, **overrides})
        except ValidationError as exc:
            raise ConfigurationError(f"invalid settings: {_summarise(exc)}") from exc


def _default_config_file(data_dir: Path | None) -> Path:
    explicit = os.environ.get("REELGUARD_CONFIG")
    if explicit:
        return Path(explicit)
    return (data_dir or Path(os.environ.get("REELGUARD_DATA_DIR", ".reelguard"))) / CONFIG_FILE_NAME


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from exc
    env_set = {k.removeprefix("REELGUARD_").lower() for k in os.environ if k.startswith("REELGUARD_")}
    return {k: v for k, v in values.items() if k not in env_set}


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
