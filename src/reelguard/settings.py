"""Typed settings in sections: defaults, then a TOML file, then ``REELGUARD_*`` environment variables.

The embedded defaults need no configuration at all: everything lives under one data
folder (``./.reelguard`` unless ``REELGUARD_DATA_DIR`` says otherwise) with a SQLite
database, a local blob folder and generated secrets::

    settings = Settings.load()            # reads $REELGUARD_CONFIG or <data_dir>/reelguard.toml
    settings.license.cache_seconds        # 2.0 unless [license] cache_seconds says otherwise

Each concern has its own section — ``[store]``, ``[media]``, ``[fingerprint]``,
``[watermark]``, ``[keys]``, ``[server]``, ``[license]``, ``[license_proxy]``,
``[tokens]`` — so the package that owns a concern reads one section, and a new
capability adds a section rather than thirty more flat names. The environment variable
of a field is ``REELGUARD_`` + section + ``__`` + field in upper case, e.g.
``REELGUARD_STORE__DATABASE_URL``; ``data_dir`` alone is top level
(``REELGUARD_DATA_DIR``), since it is read before the file it locates.

The flat names of earlier versions (``database_url``, ``license_cache_seconds`` …) are
refused with an error naming the new place, in a file, in the environment and in code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelguard.errors import ConfigurationError

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_LADDER",
    "MOVED_SETTINGS",
    "CaseSettings",
    "EvidenceSettings",
    "FingerprintSettings",
    "KeySettings",
    "LicenseProxySettings",
    "LicenseSettings",
    "MediaSettings",
    "NoticeRecipient",
    "NoticeSettings",
    "RetentionSettings",
    "ServerSettings",
    "Settings",
    "StoreSettings",
    "TokenSettings",
    "WatermarkSettings",
]

DEFAULT_LADDER: tuple[int, ...] = (360, 540, 720, 1080)
CONFIG_FILE_NAME = "reelguard.toml"
ENV_PREFIX = "REELGUARD_"
ENV_NESTED_DELIMITER = "__"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(_Section):
    """Where records and blobs live."""

    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite file data_dir/reelguard.db if empty.")
    blob_dir: Path | None = Field(default=None, description="Local blob folder; data_dir/blobs.")


class MediaSettings(_Section):
    """The tools and encoding ladder that ingest and packaging use."""

    ffmpeg: str | None = Field(default=None, description="ffmpeg path; wheel's if unset.")
    ffprobe: str | None = Field(default=None, description="ffprobe path; wheel's if unset.")
    packager: str | None = Field(default=None, description="Shaka Packager path.")
    ladder: tuple[int, ...] = Field(default=DEFAULT_LADDER, description="Rendition heights.")
    x264_preset: str = Field(default="veryfast")
    audio_bitrate_kbps: int = Field(default=128, ge=32, le=512)
    segment_seconds: int = Field(default=4, ge=1, le=30, description="Segment and GOP duration.")

    @field_validator("ladder")
    @classmethod
    def _ladder_heights_are_even_and_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(h <= 0 or h % 2 for h in value):
            raise ValueError(f"ladder must be positive even heights, got {list(value)}")
        return tuple(sorted(set(value)))


class FingerprintSettings(_Section):
    """Content recognition."""

    index_dir: Path | None = Field(
        default=None, description="Content-recognition index (derived, rebuildable); data_dir/fingerprints."
    )
    max_false_match_probability: float = Field(
        default=1e-6, gt=0.0, le=1.0,
        description="identify reports a segment only when the chance that content not in the catalog lines up "
                    "with a title this well is at most this (docs/fingerprinting.md).",
    )


class MonitorSourceSettings(_Section):
    """One piracy source to watch (docs/monitoring.md): a Torznab indexer, a release site's feed, or an export."""

    kind: Literal["torznab", "feed", "import"]
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description="Stable name sightings carry.")
    url: str | None = Field(default=None, description="torznab / feed: the http(s) URL.")
    api_key_file: Path | None = Field(default=None, description="torznab: a 0600 file holding the API key.")
    path: Path | None = Field(default=None, description="import: the CSV or JSON export.")
    requests_per_minute: float = Field(default=30.0, gt=0.0, le=6000.0, description="At most this many requests.")


class MonitorSettings(_Section):
    """Watching piracy sources (docs/monitoring.md)."""

    sources: tuple[MonitorSourceSettings, ...] = Field(default=(), description="The sources to watch.")
    interval_minutes: float = Field(default=60.0, ge=1.0, description="How often a watched title is searched.")
    jitter: float = Field(default=0.2, ge=0.0, lt=1.0, description="Each interval is moved by up to this share.")
    backoff_minutes: float = Field(default=5.0, gt=0.0, description="A failing source rests this long, then "
                                   "twice as long after each further failure …")
    max_backoff_minutes: float = Field(default=360.0, gt=0.0, description="… up to this.")
    probe_address: str = Field(default="0.0.0.0", description="The address the swarm probe binds to and is "  # noqa: S104
                               "recorded under in every peer observation (the monitored interface).")
    discovery_seconds: float = Field(default=30.0, gt=0.0, le=600.0, description="How long the probe listens "
                                     "for a swarm's metadata and peers.")
    peer_timeout_seconds: float = Field(default=20.0, gt=0.0, le=600.0, description="How long one peer is "
                                        "given to deliver a verified piece.")
    sample_megabytes: int = Field(default=256, ge=1, le=65536, description="The most of a video fetched as a "
                                  "sample (its head, tail and a middle run; all of it when smaller).")
    sample_timeout_seconds: float = Field(default=900.0, gt=0.0, description="How long a sample may take.")
    dht_nodes: tuple[str, ...] = Field(default=(), description="DHT nodes (host:port) to join; none: the DHT "
                                       "is off (trackers and PEX only).")
    pex_seconds: float = Field(default=60.0, ge=0.0, le=600.0, description="How long discovery stays in a swarm "
                               "to hear its peers' PEX lists (sent about once a minute); 0: trackers and DHT only.")
    dht_private_network: bool = Field(default=False, description="The DHT nodes are on a private or loopback "
                                      "network (one address range, no BEP 42 ids): route through them anyway.")
    retry_minutes: float = Field(default=30.0, gt=0.0, description="A step that failed for a passing reason "
                                 "(no peer answered) is tried again after this long.")

    @field_validator("dht_nodes")
    @classmethod
    def _host_and_port(cls, nodes: tuple[str, ...]) -> tuple[str, ...]:
        for node in nodes:
            host, _, port = node.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected DHT nodes as host:port, got {node!r}")
        return nodes


class WatermarkSettings(_Section):
    """Forensic A/B watermarking (docs/watermarking.md)."""

    secret_file: Path | None = Field(
        default=None, description="Watermark master secret (32 raw bytes, shared with edges); data_dir/watermark.key."
    )
    strength: float = Field(
        default=0.3, gt=0, le=8, description="Mark amplitude in luma levels at moderate texture (docs/watermarking.md)."
    )
    collusion: int = Field(
        default=2, ge=1, le=12, description="Coalition size the session code's bias law is built for."
    )
    session_seconds: int = Field(
        default=6 * 3600, ge=60, description="How long a session's watermarking token stays valid."
    )
    false_accusation: float = Field(
        default=1e-6, gt=0, lt=0.01, description="Bound on accusing any innocent session in one trace."
    )
    suspect_bound: float = Field(
        default=1e-3, gt=0, le=0.05, description="Sessions not accused whose family-wise p-value is within this "
        "are reported as suspected, not accused (leads to look for more copies; never acted on)."
    )
    trace_spool_bytes: int = Field(
        default=4 << 30, ge=0, description="Local disk a trace may fill with the suspect's decoded frames, so it "
        "decodes the copy once (640 px wide gray: about 12 minutes at 25 fps); a longer copy is decoded twice."
    )

    @model_validator(mode="after")
    def _suspicion_is_looser_than_accusation(self) -> WatermarkSettings:
        if self.suspect_bound <= self.false_accusation:
            raise ValueError(f"expected suspect_bound above false_accusation ({self.false_accusation:g}), "
                             f"got {self.suspect_bound:g}")
        return self


class KeySettings(_Section):
    """Content keys at rest and the key-server API's clients."""

    kek_file: Path | None = Field(default=None, description="Key-encryption key (32 raw bytes); data_dir/kek.bin.")
    api_clients_file: Path | None = Field(
        default=None, description="0600 TOML of key-server API clients; data_dir/api-clients.toml."
    )
    rotation_grace_hours: float = Field(default=24.0, ge=0.0, le=720.0, description="After a key rotation, the "
                                        "old keys are still licensed this long (players reload onto the new ones).")


class ServerSettings(_Section):
    """The HTTP server every role runs in."""

    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8700, ge=0, le=65535)
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


class LicenseSettings(_Section):
    """The licence server's hot path and its policy (docs/policy.md)."""

    max_body_bytes: int = Field(default=16_384, ge=256, description="Licence request bound (413 above).")
    cache_seconds: float = Field(
        default=2.0, ge=0, le=300, description="How long the licence path caches title status and keys."
    )
    policy_file: Path | None = Field(
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
    unsafe_skip_policy: bool = Field(
        default=False, description="UNSAFE: license on a valid token alone (benchmark comparator only)."
    )
    unsafe_skip_decision_journal: bool = Field(
        default=False,
        description="UNSAFE: renewal decisions only buffered, not journaled (a crash loses up to one flush of them).",
    )


class LicenseProxySettings(_Section):
    """Forwarding licence requests of other DRM systems to their upstream servers (docs/key-server.md)."""

    upstreams: dict[str, str] = Field(
        default_factory=dict, description="DRM system → upstream licence URL for the licence proxy."
    )
    credential_file: Path | None = Field(
        default=None, description="0600 file holding the bearer credential sent to proxy upstreams."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class TokenSettings(_Section):
    """Playback tokens: which backend keys are trusted, and the claims required."""

    audience: str = Field(default="reelguard-license")
    issuer: str = Field(default="reelguard-backend")
    max_ttl_seconds: int = Field(default=86_400, ge=1)
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    trusted_keys: dict[str, Path] = Field(
        default_factory=dict, description="The backend's public keys (PEM) the licence server trusts, by kid: "
        '[tokens.trusted_keys] "backend-2026-12" = "/etc/reelguard/backend-2026-12.pub.pem". With these or jwks '
        "set, the local demo signing key is not trusted."
    )
    jwks: str | None = Field(
        default=None, description="The backend's JWKS (a file or an http(s) URL) of trusted public keys."
    )
    jwks_refresh_seconds: float = Field(
        default=300.0, ge=5.0, description="How often the trusted keys (PEM files, JWKS) are re-read, so a "
        "key rotation needs no restart; a token naming an unknown kid triggers a re-read within 10 s."
    )
    signing_key_file: Path | None = Field(
        default=None, description="The demo's stand-in for the backend: an EdDSA/ES256 PEM private key that "
        "'tokens issue' signs with; data_dir/token-signing-key.pem. Trusted only when no backend key is set."
    )


class EvidenceSettings(_Section):
    """The evidence log (docs/enforcement.md): its signing key, its name, its time-stamping authority."""

    origin: str = Field(default="reelguard.local/evidence", pattern=r"^[^\s+]+$", description="The log's name: "
                        "the origin of its checkpoints and the name of its key (a schema-less URL, no spaces or '+').")
    signing_key_file: Path | None = Field(default=None, description="The log's Ed25519 signer key "
                                          "(PRIVATE+KEY+name+keyid+key, 0600); data_dir/evidence-signing.key, "
                                          "made on first use.")
    tsa_url: str | None = Field(default=None, description="The RFC 3161 time-stamping authority every checkpoint "
                                "is sent to; none: checkpoints stay unstamped, and bundles say so.")
    tsa_roots: tuple[Path, ...] = Field(default=(), description="PEM root certificates the TSA's tokens must "
                                        "chain to.")


class CaseSettings(_Section):
    """Cases (docs/enforcement.md): when one opens, what its findings set in motion, how removal is checked."""

    max_false_match: float | None = Field(default=None, gt=0.0, lt=1.0, description="A sighting's sample opens a "
                                          "case only when identified at or below this false-match probability; "
                                          "none: [fingerprint] max_false_match_probability.")
    rules_file: Path | None = Field(default=None, description="The action rules (versioned TOML); none: the "
                                    "shipped default rules.")
    removal_check_hours: float = Field(default=24.0, gt=0.0, description="How often a noticed case re-checks "
                                       "that its copies are gone.")
    removal_deadline_days: float = Field(default=14.0, gt=0.0, description="A copy still up this long after "
                                         "the first notice escalates the case.")


class NoticeRecipient(_Section):
    """Where notices about one kind of place go: ``indexer:NAME``, ``host:DOMAIN`` or ``ip:CIDR``."""

    match: str = Field(pattern=r"^(indexer|host|ip):\S+$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = ""


class NoticeSettings(_Section):
    """Takedown notices: who sends them (every element the law asks of the sender) and how they go out."""

    rights_holder: str = Field(default="", description="The owner of the exclusive rights the notices assert.")
    sender_name: str = Field(default="", description="The person authorised to act for the rights holder; their "
                             "name is the notice's signature.")
    sender_email: str = Field(default="", description="Reply address; also the notices' From address.")
    sender_address: str = Field(default="", description="Postal address of the sender.")
    sender_phone: str = Field(default="", description="Telephone number of the sender.")
    recipients: tuple[NoticeRecipient, ...] = Field(default=(), description="Abuse contacts by indexer, host "
                                                    "domain or IP range.")
    smtp_host: str | None = Field(default=None, description="The relay notices are sent through; none: notices "
                                  "are kept queued, never sent.")
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = Field(default=None)
    smtp_password_file: Path | None = Field(default=None, description="The relay password (a 0600 file).")
    smtp_tls: Literal["auto", "require", "off"] = Field(default="auto", description="STARTTLS: when the relay "
                                                        "offers it (auto), always (require), or never (off).")
    smtp_ca_file: Path | None = Field(default=None, description="PEM CA certificates the relay's TLS certificate "
                                      "must chain to; none: the system's.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    retry_minutes: float = Field(default=5.0, gt=0.0, description="The first retry's wait; each further one "
                                 "waits twice as long.")
    max_attempts: int = Field(default=8, ge=1, le=50)


class RetentionSettings(_Section):
    """How long records are kept (days); a case on legal hold keeps what it holds."""

    licence_decisions_days: int = Field(default=365, ge=1)
    sessions_days: int = Field(default=365, ge=1, description="Watermarking sessions and licence streams.")
    observations_days: int = Field(default=730, ge=1, description="Peer observations of swarms.")
    ip_addresses_days: int = Field(default=90, ge=1, description="After this, IP addresses are blanked in "
                                   "sessions and observations that are otherwise kept.")


class Settings(BaseSettings):
    """All of reelguard's knobs, by section. Immutable once loaded."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED_DELIMITER, frozen=True, extra="forbid"
    )

    data_dir: Path = Field(default=Path(".reelguard"), description="Root of all local state.")
    store: StoreSettings = Field(default_factory=StoreSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    fingerprint: FingerprintSettings = Field(default_factory=FingerprintSettings)
    watermark: WatermarkSettings = Field(default_factory=WatermarkSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    license: LicenseSettings = Field(default_factory=LicenseSettings)
    license_proxy: LicenseProxySettings = Field(default_factory=LicenseProxySettings)
    tokens: TokenSettings = Field(default_factory=TokenSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    # -- derived paths: defaults under data_dir ---------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.store.database_url or f"sqlite:///{(self.data_dir / 'reelguard.db').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return (self.store.blob_dir or self.data_dir / "blobs").resolve()

    @property
    def resolved_kek_file(self) -> Path:
        return (self.keys.kek_file or self.data_dir / "kek.bin").resolve()

    @property
    def resolved_api_clients_file(self) -> Path:
        return (self.keys.api_clients_file or self.data_dir / "api-clients.toml").resolve()

    @property
    def resolved_token_signing_key_file(self) -> Path:
        return (self.tokens.signing_key_file or self.data_dir / "token-signing-key.pem").resolve()

    @property
    def resolved_evidence_key_file(self) -> Path:
        return (self.evidence.signing_key_file or self.data_dir / "evidence-signing.key").resolve()

    @property
    def resolved_watermark_secret_file(self) -> Path:
        return (self.watermark.secret_file or self.data_dir / "watermark.key").resolve()

    @property
    def resolved_fingerprint_index_dir(self) -> Path:
        return (self.fingerprint.index_dir or self.data_dir / "fingerprints").resolve()

    @property
    def resolved_journal_dir(self) -> Path:
        """The licence decision journal (``license/journal.py``): local, per machine."""
        return (self.data_dir / "journal").resolve()

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from the TOML file (if any), the environment and overrides.

        The file is ``config_file``, else ``$REELGUARD_CONFIG``, else ``reelguard.toml`` in
        the data folder — the one given here (``--data-dir``) before ``$REELGUARD_DATA_DIR``
        and ``.reelguard``, so a folder named on the command line brings its own settings.
        Overrides are given by section: ``Settings.load(data_dir=d, store={"database_url": url})``.
        """
        _refuse_moved_names(overrides, where="given in code")
        _refuse_moved_names({k.removeprefix(ENV_PREFIX).lower(): v for k, v in os.environ.items()
                             if k.startswith(ENV_PREFIX)}, where="set in the environment")
        data_dir = overrides.get("data_dir")
        file_values = _read_toml(config_file or _default_config_file(Path(data_dir) if data_dir else None))
        try:
            return cls(**_merged(_without_environment_overrides(file_values), overrides))
        except ValidationError as exc:
            raise ConfigurationError(f"invalid settings: {_summarise(exc)}") from exc

    def replaced(self, **sections: Any) -> Settings:
        """A copy with some fields changed, validated as a loaded file is.

        ``settings.replaced(license={"policy_file": path})`` changes one field of one
        section and keeps the rest; ``data_dir=`` replaces the top-level folder.
        """
        _refuse_moved_names(sections, where="given in code")
        try:
            return type(self).model_validate(_merged(self.model_dump(), sections))
        except ValidationError as exc:
            raise ConfigurationError(f"invalid settings: {_summarise(exc)}") from exc


#: Each flat name of earlier versions → its section and field now.
MOVED_SETTINGS: Mapping[str, tuple[str, str]] = {
    "database_url": ("store", "database_url"),
    "blob_dir": ("store", "blob_dir"),
    "fingerprint_index_dir": ("fingerprint", "index_dir"),
    "kek_file": ("keys", "kek_file"),
    "api_clients_file": ("keys", "api_clients_file"),
    "token_signing_key_file": ("tokens", "signing_key_file"),
    "watermark_secret_file": ("watermark", "secret_file"),
    "ffmpeg": ("media", "ffmpeg"),
    "ffprobe": ("media", "ffprobe"),
    "packager": ("media", "packager"),
    "ladder": ("media", "ladder"),
    "x264_preset": ("media", "x264_preset"),
    "audio_bitrate_kbps": ("media", "audio_bitrate_kbps"),
    "segment_seconds": ("media", "segment_seconds"),
    "watermark_strength": ("watermark", "strength"),
    "watermark_collusion": ("watermark", "collusion"),
    "watermark_session_seconds": ("watermark", "session_seconds"),
    "watermark_false_accusation": ("watermark", "false_accusation"),
    "host": ("server", "host"),
    "port": ("server", "port"),
    "max_request_body_bytes": ("server", "max_request_body_bytes"),
    "body_read_timeout_seconds": ("server", "body_read_timeout_seconds"),
    "worker_healthcheck_seconds": ("server", "worker_healthcheck_seconds"),
    "log_level": ("server", "log_level"),
    "log_format": ("server", "log_format"),
    "max_license_body_bytes": ("license", "max_body_bytes"),
    "license_cache_seconds": ("license", "cache_seconds"),
    "license_policy_file": ("license", "policy_file"),
    "geoip_database": ("license", "geoip_database"),
    "stream_grace_seconds": ("license", "stream_grace_seconds"),
    "policy_feed_seconds": ("license", "policy_feed_seconds"),
    "renewal_flush_seconds": ("license", "renewal_flush_seconds"),
    "renewal_write_ahead_seconds": ("license", "renewal_write_ahead_seconds"),
    "unsafe_skip_license_policy": ("license", "unsafe_skip_policy"),
    "unsafe_skip_decision_journal": ("license", "unsafe_skip_decision_journal"),
    "license_proxy_upstreams": ("license_proxy", "upstreams"),
    "license_proxy_credential_file": ("license_proxy", "credential_file"),
    "license_proxy_timeout_seconds": ("license_proxy", "timeout_seconds"),
    "token_audience": ("tokens", "audience"),
    "token_issuer": ("tokens", "issuer"),
    "token_max_ttl_seconds": ("tokens", "max_ttl_seconds"),
    "token_leeway_seconds": ("tokens", "leeway_seconds"),
    "token_trusted_keys": ("tokens", "trusted_keys"),
    "token_jwks": ("tokens", "jwks"),
    "token_jwks_refresh_seconds": ("tokens", "jwks_refresh_seconds"),
}


def _refuse_moved_names(values: Mapping[str, Any], *, where: str) -> None:
    """An old flat name would otherwise be ignored (environment) or refused as unknown: say where it went."""
    moved = [name for name in values if name in MOVED_SETTINGS]
    if not moved:
        return
    hints = []
    for name in sorted(moved):
        section, field = MOVED_SETTINGS[name]
        hints.append(f"'{name}' is now [{section}] {field} (environment variable "
                     f"{ENV_PREFIX}{section.upper()}{ENV_NESTED_DELIMITER}{field.upper()})")
    raise ConfigurationError(f"settings {where} use names that have moved into sections: {'; '.join(hints)}")


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
    _refuse_moved_names(values, where=f"in {path}")
    return values


def _without_environment_overrides(file_values: dict[str, Any]) -> dict[str, Any]:
    """The file's values less those an environment variable sets, so the environment wins.

    The file's values reach pydantic as constructor arguments, which outrank the
    environment; taking out each ``REELGUARD_SECTION__FIELD`` (or a whole
    ``REELGUARD_SECTION`` given as JSON) restores the documented order.
    """
    values = {k: dict(v) if isinstance(v, dict) else v for k, v in file_values.items()}
    for name in os.environ:
        if not name.startswith(ENV_PREFIX):
            continue
        path = name.removeprefix(ENV_PREFIX).lower().split(ENV_NESTED_DELIMITER)
        if len(path) == 1:
            values.pop(path[0], None)
        elif isinstance(values.get(path[0]), dict):
            values[path[0]].pop(path[1], None)
    return values


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, section by section."""
    merged = dict(base)
    for name, value in changes.items():
        current = merged.get(name)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[name] = {**current, **value}
        else:
            merged[name] = value
    return merged


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
