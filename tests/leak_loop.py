"""A leak staged for the Find loop: a watched, watermarked title, a session's ripped copy seeded and listed.

Used by the end-to-end test (``tests/e2e/test_monitor_loop.py``) and the benchmark
(``benchmarks/monitor_loop.py``). The title is ingested with watermarking and watched
as "The Quiet Harbour" (2025); a subscriber plays it in two sessions; one session's
rendered copy is rescaled and re-encoded (a group's release), made into a torrent and
seeded by two libtorrent peers on loopback (127.0.0.2, 127.0.0.3) behind Debian's
opentracker, with a third peer that announces and serves nothing (127.0.0.4). An
unrelated video under a name just as close to the title is seeded by 127.0.0.5. Both
are listed on the loopback Torznab test server. ``reelguard`` runs the CLI in its own
process against the staged data folder, as an operator would::

    with staged_leak(work, database_url, media_dir, seconds=60) as loop:
        loop.reelguard("monitor", "once")
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from reelguard.composition import Runtime
from reelguard.settings import Settings
from reelguard.store.watchlist import Watch, WatchStore
from tests.case_fixtures import SmtpRelayServer
from tests.conftest import subscribe
from tests.source_servers import IndexerItem, TorznabTestServer
from tests.swarm_peers import LoopbackSwarm
from tests.tsa_server import LocalTsa
from tests.watermark_fixtures import WM_TITLE, ingest_watermarked, make_test_pattern

KEY = "loop-indexer-key-5a4b3c"
LEAK_NAME = "The.Quiet.Harbour.2025.720p.WEBRip.x264-GalaxyRG.mp4"
OTHER_NAME = "The.Quiet.Harbour.2025.1080p.HDTS.x264-SUNSCREEN.mp4"


@dataclass
class StagedLeak:
    runtime: Runtime
    data_dir: Path
    database_url: str
    leaker: str  # the session whose copy leaked
    ripped: Path  # the copy as released
    indexer: TorznabTestServer
    leak: LoopbackSwarm
    other: LoopbackSwarm
    relay: SmtpRelayServer  # takes the notices
    tsa: LocalTsa  # stamps the evidence log's checkpoints

    def list_on_indexer(self) -> None:
        """The two torrents appear on the indexer (the moment the loop's clock starts)."""
        self.indexer.items.extend(
            IndexerItem(Path(name).stem, 2040, infohash=swarm.infohash, magnet=swarm.magnet,
                        size=swarm.info.total_size(), seeders=2)
            for swarm, name in ((self.leak, LEAK_NAME), (self.other, OTHER_NAME)))

    def reelguard(self, *args: str) -> Any:
        """``reelguard ARGS --json`` in its own process; its JSON answer. Fails on a non-zero exit or a shown key."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
        env.update(REELGUARD_DATA_DIR=str(self.data_dir), REELGUARD_STORE__DATABASE_URL=self.database_url)
        done = subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args, "--json"], capture_output=True,
                              text=True, env=env, timeout=3600, check=False)
        if done.returncode != 0 or KEY in done.stdout + done.stderr:
            raise AssertionError(f"reelguard {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}")
        return json.loads(done.stdout)


ACT_RULES = """format = 1
name = "loop"
version = "1"
[[rule]]
name = "accused"
when = { trace_p_at_most = 1e-6 }
then = ["suspend_account", "revoke_device", "end_streams"]
[[rule]]
name = "indexer-link"
when = { source = "indexer" }
then = ["notice:dmca_512d"]
[[rule]]
name = "swarm-peers"
when = { source = "swarm" }
then = ["notice:acns"]
"""


def _act_settings(work: Path, relay: SmtpRelayServer, tsa: LocalTsa) -> str:
    """What acting needs: the rules, the sender and recipients of notices, the relay, the TSA."""
    (work / "rules.toml").write_text(ACT_RULES)
    (work / "tsa-root.pem").write_bytes(tsa.root.public_bytes(Encoding.PEM))
    return (f'[cases]\nrules_file = "{work / "rules.toml"}"\n\n'
            f'[evidence]\ntsa_url = "{tsa.url}"\ntsa_roots = ["{work / "tsa-root.pem"}"]\n\n'
            '[notices]\nrights_holder = "Quiet Harbour Films Ltd"\nsender_name = "Ana Ortiz"\n'
            'sender_email = "legal@qhf.test"\nsender_address = "1 Quay Street, Portsmouth"\n'
            f'sender_phone = "+44 23 0000 0000"\nsmtp_host = "{relay.host}"\nsmtp_port = {relay.port}\n'
            'recipients = [{ match = "indexer:indexer", email = "abuse@indexer.test" },\n'
            '              { match = "ip:127.0.0.0/8", email = "abuse@isp.test" }]\n\n')


def _settings(data_dir: Path, database_url: str, indexer_url: str, key_file: Path, pex_seconds: float,
              act: str = "") -> Settings:
    (data_dir / "reelguard.toml").write_text(
        act + '[media]\nsegment_seconds = 1\nladder = [360]\n\n'
        '[monitor]\nprobe_address = "127.0.0.9"\ndiscovery_seconds = 20\npeer_timeout_seconds = 10\n'
        f'sample_timeout_seconds = 300\npex_seconds = {pex_seconds}\n\n'
        f'[[monitor.sources]]\nkind = "torznab"\nname = "indexer"\nurl = "{indexer_url}"\n'
        f'api_key_file = "{key_file}"\nrequests_per_minute = 6000\n')
    return Settings.load(config_file=data_dir / "reelguard.toml", data_dir=data_dir,
                         store={"database_url": database_url})


@contextmanager
def staged_leak(work: Path, database_url: str, media_dir: Path, *, seconds: int,
                pex_seconds: float = 0.0) -> Iterator[StagedLeak]:
    """``pex_seconds``: the probe's PEX window (0 in the test, where PEX is tested on its own; the default, 60 s, in
    the benchmark). An SMTP relay and a TSA on loopback take the notices and stamp the checkpoints."""
    data_dir = work / "data"
    data_dir.mkdir(parents=True)
    key_file = work / "indexer.key"
    key_file.write_text(KEY)
    key_file.chmod(0o600)
    with TorznabTestServer([], api_key=KEY) as indexer, SmtpRelayServer() as relay, LocalTsa() as tsa:
        act = _act_settings(work, relay, tsa)
        runtime = Runtime.open(_settings(data_dir, database_url, indexer.url, key_file, pex_seconds, act))
        try:
            ingest_watermarked(runtime, media_dir, work, seconds=seconds)
            WatchStore(runtime.db).add(Watch(WM_TITLE, "The Quiet Harbour", 2025), runtime.clock())
            subscribe(runtime, "mallory", ["laptop"], titles=[WM_TITLE])
            sessions = runtime.session_service()
            leaker = sessions.start(account="mallory", device="laptop", title=WM_TITLE, ip="198.51.100.7").session_id
            sessions.start(account="mallory", device="laptop", title=WM_TITLE, ip="198.51.100.8")  # innocent
            rendered = sessions.render(leaker, work / "rendered.mp4")
            ripped = work / "ripped.mp4"
            subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(rendered), "-vf",
                            "scale=480:270", "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-c:a", "aac",
                            str(ripped)], check=True)
            unrelated = make_test_pattern(runtime.tools.ffmpeg, work / "unrelated.mp4", 40)
            with LoopbackSwarm(b"", LEAK_NAME, tracker=True, source=ripped) as leak, \
                    LoopbackSwarm(b"", OTHER_NAME, tracker=True, source=unrelated) as other:
                leak.seed("127.0.0.2")
                leak.seed("127.0.0.3")
                leak.pretend("127.0.0.4", corrupt=False)
                other.seed("127.0.0.5")
                yield StagedLeak(runtime, data_dir, database_url, leaker, ripped, indexer, leak, other, relay, tsa)
        finally:
            runtime.close()
