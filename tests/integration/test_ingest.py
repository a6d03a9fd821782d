"""Ingest end to end on real media: ready titles, wrapped keys, clean failures, resume."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from defusedxml import ElementTree
from sqlalchemy import func, select

from reelguard.composition import Runtime
from reelguard.drm.packaging import ladder_streams, package_title
from reelguard.errors import Conflict, InvalidInput, InvalidMedia, PackagingError
from reelguard.media.ladder import plan_ladder
from reelguard.media.transcode import TranscodePlan, run_transcode
from reelguard.store.models import OWN_KEYS, ContentKeyRow, TitleRow
from tests.conftest import PackagedCatalog, read_without_dropping_sqlite_locks
from tests.integration.bad_media import make_bad_media

MPD_NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011", "cenc": "urn:mpeg:cenc:2013"}


def _counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.session() as session:
        return (session.scalar(select(func.count()).select_from(TitleRow)) or 0,
                session.scalar(select(func.count()).select_from(ContentKeyRow)) or 0)


def test_sample_is_ready_with_one_key_per_tier(catalog: PackagedCatalog) -> None:
    sample = catalog.sample
    assert sample.status == "ready" and sample.stage == "packaged"
    tiers = {s["name"]: s["tier"] for s in sample.streams}
    assert tiers == {"video_360p": "SD", "video_540p": "SD", "video_720p": "HD", "audio": "AUDIO"}
    kids = {s["tier"]: s["kid"] for s in sample.streams}
    assert len(set(kids.values())) == 3


def test_keys_are_stored_wrapped_never_raw(catalog: PackagedCatalog) -> None:
    rt = catalog.runtime
    with rt.db.session() as session:
        keys = rt.keystore.keys_of_title(session, catalog.sample.id)
        rows = session.scalars(select(ContentKeyRow).where(ContentKeyRow.title_id == catalog.sample.id,
                                                            ContentKeyRow.origin == OWN_KEYS)).all()
    assert len(keys) == 3
    for key, row in zip(sorted(keys, key=lambda k: k.kid.hex), sorted(rows, key=lambda r: r.kid), strict=True):
        assert key.key not in row.wrapped_key and len(row.wrapped_key) == 24
    if rt.settings.resolved_database_url.startswith("sqlite"):
        database_bytes = read_without_dropping_sqlite_locks(Path(rt.settings.resolved_database_url.split(":///")[1]))
        assert all(k.key not in database_bytes for k in keys)


def test_dash_manifest_signals_common_widevine_playready(catalog: PackagedCatalog) -> None:
    rt, sample = catalog.runtime, catalog.sample
    mpd = rt.blobs.get_bytes(f"packages/{sample.id}/dash/manifest.mpd")
    root = ElementTree.fromstring(mpd)
    assert root.get("type") == "static"
    kids = {s["kid"] for s in sample.streams}
    for adaptation in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet"):
        protections = adaptation.findall("mpd:ContentProtection", MPD_NS)
        schemes = {p.get("schemeIdUri") for p in protections}
        assert {"urn:mpeg:dash:mp4protection:2011", "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",
                "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",
                "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95"} <= schemes
        default_kid = protections[0].get("{urn:mpeg:cenc:2013}default_KID")
        assert protections[0].get("value") == "cenc" and default_kid in kids
        assert adaptation.find("mpd:SegmentTemplate", MPD_NS) is not None or \
            adaptation.find("mpd:Representation/mpd:SegmentTemplate", MPD_NS) is not None


def test_hls_playlists_use_cbcs_and_the_per_stream_key_uri(catalog: PackagedCatalog) -> None:
    rt, sample = catalog.runtime, catalog.sample
    master = rt.blobs.get_bytes(f"packages/{sample.id}/hls/master.m3u8").decode()
    for stream in sample.streams:
        assert f"{stream['name']}/stream.m3u8" in master
        playlist = rt.blobs.get_bytes(f"packages/{sample.id}/hls/{stream['name']}/stream.m3u8").decode()
        assert re.search(r'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key",IV=0x[0-9a-f]{32},KEYFORMAT="identity"', playlist)
        assert "#EXT-X-ENDLIST" in playlist


def test_segments_are_aligned_to_the_segment_duration(catalog: PackagedCatalog) -> None:
    rt, sample = catalog.runtime, catalog.sample
    for stream in sample.streams:
        if stream["kind"] != "video":
            continue
        playlist = rt.blobs.get_bytes(f"packages/{sample.id}/hls/{stream['name']}/stream.m3u8").decode()
        durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", playlist)]
        assert durations[:-1] == [4.0] * (len(durations) - 1), durations


def test_packaging_is_idempotent_for_the_same_title_and_keys(runtime: Runtime, media_dir: Path,
                                                             tmp_path: Path) -> None:
    from reelguard.drm.keys import ContentKey, TrackTier

    renditions = plan_ladder(640, 360, (360,))
    plan = TranscodePlan(tuple(renditions), 4, 25.0, True)
    run_transcode(runtime.tools, plan, media_dir / "lavfi_testsrc.mp4", tmp_path / "tx")
    streams = ladder_streams(renditions, tmp_path / "tx", True)
    keys = [ContentKey.generate(TrackTier.SD), ContentKey.generate(TrackTier.AUDIO)]
    digests = []
    for run in ("one", "two"):
        package_title(runtime.tools, streams, keys, out_dir=tmp_path / run, title_id="t-1", segment_seconds=4)
        digests.append({p.relative_to(tmp_path / run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((tmp_path / run).rglob("*")) if p.is_file()})
    assert len(digests[0]) > 10 and digests[0] == digests[1]


@pytest.mark.parametrize("case", ["text_file_named_mp4", "zero_length", "truncated_moov_at_end",
                                  "truncated_media_data", "audio_only"])
def test_bad_media_stores_nothing(runtime: Runtime, media_dir: Path, tmp_path: Path, case: str) -> None:
    path = make_bad_media(media_dir, tmp_path / "bad")[case]
    with pytest.raises(InvalidMedia):
        runtime.ingest_service().add_title(path, name="bad-title")
    assert _counts(runtime) == (0, 0)
    assert not (runtime.settings.resolved_blob_dir / "masters").exists()


def test_bad_name_and_duplicate_name(catalog: PackagedCatalog, media_dir: Path) -> None:
    service = catalog.runtime.ingest_service()
    with pytest.raises(InvalidInput, match="expected a title name"):
        service.add_title(media_dir / "bikes.mp4", name="../etc/passwd")
    with pytest.raises(Conflict, match="already exists"):
        service.add_title(media_dir / "bikes.mp4", name="bbb")


def test_failure_mid_packaging_leaves_a_failed_title_that_resumes(runtime: Runtime, media_dir: Path,
                                                                  tmp_path: Path) -> None:
    from dataclasses import replace

    crashing_packager = tmp_path / "crashing-packager"  # a stand-in that dies mid-run
    crashing_packager.write_text('#!/bin/sh\n[ "$1" = "--version" ] && exit 0\necho "killed" >&2\nexit 137\n')
    crashing_packager.chmod(0o755)
    working_tools = runtime.tools
    runtime.tools = replace(working_tools, packager=str(crashing_packager))
    with pytest.raises(PackagingError, match="Shaka Packager failed"):
        runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="interrupted")
    with runtime.db.session() as session:
        row = session.scalar(select(TitleRow).where(TitleRow.name == "interrupted"))
        assert row is not None
        assert (row.status, row.stage) == ("failed", "fingerprinted")
        assert row.package is None and "Shaka Packager failed" in (row.error or "")
    assert not (runtime.settings.resolved_blob_dir / "packages" / row.id).exists()

    assert row.id not in {t.title_id for t in runtime.fingerprint_service().index.titles()}  # a failed title: no index
    _assert_not_playable(runtime, "interrupted")
    runtime.tools = working_tools
    view = runtime.ingest_service().resume_title("interrupted")
    assert (view.status, view.stage, view.error) == ("ready", "packaged", None)
    assert runtime.blobs.exists(f"packages/{view.id}/dash/manifest.mpd")


def _assert_not_playable(runtime: Runtime, title: str) -> None:
    """A failed title looks failed to every reader: no licence, no key, no content."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from reelguard.web.app import create_app

    token = runtime.signer.issue(account="a", title=title, device="d", ttl_seconds=60, now=datetime.now(UTC))
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        licence = client.post("/license/clearkey", content=b'{"kids": ["AAECAwQFBgcICQoLDA0ODw"]}', headers=auth)
        key = client.get(f"/content/{title}/hls/audio/key", headers=auth)
        mpd = client.get(f"/content/{title}/dash/manifest.mpd")
    for response in (licence, key, mpd):
        assert response.status_code == 409 and "not ready" in response.json()["detail"], response.text


def test_a_store_without_files_ingests_and_serves_a_title(runtime: Runtime, media_dir: Path) -> None:
    """Ingest read the master through ``local_path`` and the origin assumed a disk: a store without files
    (the in-memory one here; S3 later) lends copies through ``open_local`` and streams the rest."""
    from dataclasses import replace

    from starlette.testclient import TestClient

    from reelguard.testing import MemoryBlobStore
    from reelguard.web.app import Role, create_app

    memory = replace(runtime, blobs=MemoryBlobStore())
    view = memory.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="in-memory")
    assert view.status == "ready"
    assert memory.blobs.local_path(f"packages/{view.id}/dash/manifest.mpd") is None
    assert not (runtime.settings.resolved_blob_dir / "packages").exists()  # nothing went to the disk store
    with TestClient(create_app(memory, Role.ORIGIN)) as client:
        mpd = client.get("/content/in-memory/dash/manifest.mpd")
        assert mpd.status_code == 200 and mpd.headers["content-type"] == "application/dash+xml"
        segment = re.search(r'initialization="([^"]+)"', mpd.text)
        assert segment is not None
        init = client.get(f"/content/in-memory/dash/{segment.group(1).replace('$RepresentationID$', 'video_360p')}")
        assert init.status_code == 200 and init.content[4:8] == b"ftyp"


def test_a_title_is_read_as_a_typed_record_that_round_trips_what_ingest_stored(catalog: PackagedCatalog) -> None:
    """A title's package travelled as untyped JSON read in six modules; one record type reads and writes it."""
    from reelguard.store import repositories
    from reelguard.titles import IngestStage, PackageRecord, TitleStatus

    with catalog.runtime.db.session() as session:
        row = repositories.get_title(session, catalog.sample.id)
        title = repositories.load_title(session, catalog.sample.name)
        stored = row.package
    assert stored is not None and title.package is not None
    assert PackageRecord.from_json(stored).to_json() == stored
    assert title.status is TitleStatus.READY and title.stage is IngestStage.PACKAGED and title.ready
    assert title.watermark is None and title.package.watermark is None
    assert [s.name for s in title.package.streams] == [s["name"] for s in catalog.sample.streams]
    assert {s.tier for s in title.package.streams} == {"SD", "HD", "AUDIO"}
