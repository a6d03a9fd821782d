"""Policy evaluation in process: decisions/s and latency percentiles of the pure engine.

Builds a store of 100,000 accounts and 1,000,000 devices (10 per account, a few revoked,
a mix of security and HDCP levels, plans, purchases and rentals), a title with rights and
territories, and a MaxMind-format country database. Then, for 200,000 requests drawn at
random (20,000 random accounts whose facts are loaded from the store as a cache miss would;
random device, client IP, time), it times what the licence server runs per request:
``build_context`` + ``Policy.decide`` with the built-in default policy (12 rules: token,
account, entitlement, window, territory, device, device limit, security level, HDCP,
concurrent streams, licence clocks, downloads) plus a geo lookup.

Comparators measured in the same run: a one-rule policy (``account_active``) through the
same path, and one ES256 token signature check (what every fresh token costs anyway).
Target: p99 ≤ 0.5 ms for the full policy.

    python benchmarks/policy_eval.py [--requests 200000] [--accounts 100000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _report import report
from sqlalchemy import insert

from reelguard.drm.keys import TrackTier
from reelguard.license.entitlements import build_context
from reelguard.license.facts import FactsCache, TitleRights
from reelguard.license.geo import GeoLocator
from reelguard.license.policy import Action, Policy, Usage
from reelguard.license.policy_file import load_policy, parse_policy
from reelguard.license.tokens import EntitlementClaims, TokenSigner, TokenVerifier, load_or_create_signing_key
from reelguard.settings import Settings
from reelguard.store.database import Database
from reelguard.store.models import AccountRow, DeviceRow, GrantRow
from tests.geo_fixtures import write_country_db

DEVICES_PER_ACCOUNT = 10
SAMPLED_ACCOUNTS = 20_000  # accounts whose facts are loaded from the store; requests draw from them
PLANS = ("basic", "standard", "premium")
IPS = ("203.0.113.7", "198.51.100.9", "10.1.2.3", "192.0.2.44", "2001:db8:1::5")
TIERS = frozenset({TrackTier.AUDIO, TrackTier.SD, TrackTier.HD, TrackTier.UHD})


def _populate(db: Database, accounts: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    batch = 10_000
    for start in range(0, accounts, batch):
        ids = range(start, min(start + batch, accounts))
        account_rows = [{"id": f"acct-{i}", "plan": PLANS[i % 3], "status": "suspended" if i % 97 == 0 else "active",
                         "created_at": now, "updated_at": now} for i in ids]
        device_rows = [{"account_id": f"acct-{i}", "id": f"dev-{d}", "type": rng.choice(("tv", "browser", "mobile")),
                        "security_level": rng.choice(("software", "hardware")),
                        "hdcp": rng.choice(("none", "1.4", "2.2")),
                        "status": "revoked" if rng.random() < 0.05 else "active",
                        "registered_at": now - timedelta(days=d)} for i in ids for d in range(DEVICES_PER_ACCOUNT)]
        grant_rows = [{"account_id": f"acct-{i}", "title": "ep01", "kind": rng.choice(("purchase", "rental")),
                       "granted_at": now - timedelta(hours=rng.randint(0, 800)), "expires_at": None,
                       "first_played_at": None} for i in ids if i % 3 == 0]
        with db.transaction() as session:
            session.execute(insert(AccountRow), account_rows)
            session.execute(insert(DeviceRow), device_rows)
            session.execute(insert(GrantRow), grant_rows)


def _percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _time_decisions(policy: Policy, cases: list[tuple[object, ...]], geo: GeoLocator) -> tuple[list[float], int]:
    rights = TitleRights(frozenset({"standard", "premium"}), frozenset({"GB", "IE", "US"}), None, None, True)
    latencies, granted = [], 0
    for claims, state, ip, now, usage in cases:
        started = time.perf_counter()
        context = build_context(now=now, action=Action.PLAY, claims=claims, state=state, rights=rights,  # type: ignore[arg-type]
                                title_tiers=TIERS, ip=ip, country=geo.country(ip), usage=usage,  # type: ignore[arg-type]
                                replayed=False)
        decision = policy.decide(context)
        latencies.append(time.perf_counter() - started)
        granted += decision.granted
    return latencies, granted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rg-bench-policy-"))
    try:
        db = Database.connect(f"sqlite:///{work / 'policy.db'}")
        built = time.perf_counter()
        _populate(db, args.accounts, args.seed)
        build_seconds = time.perf_counter() - built
        geo = GeoLocator.open(write_country_db(work / "countries.mmdb"))
        facts = FactsCache(db, lambda: datetime.now(UTC), enabled=False)
        rng = random.Random(args.seed)
        now = datetime.now(UTC)
        sample = [f"acct-{i}" for i in rng.sample(range(args.accounts), min(args.accounts, SAMPLED_ACCOUNTS))]
        loaded = time.perf_counter()
        states = {account: facts.load_account(account) for account in sample}
        load_ms = (time.perf_counter() - loaded) / len(sample) * 1000
        cases = []
        for _ in range(args.requests):
            account = rng.choice(sample)
            claims = EntitlementClaims(account=account, title="ep01", device=f"dev-{rng.randrange(12)}",
                                       token_id="t", issued_at=int(now.timestamp()),
                                       expires_at=int(now.timestamp()) + 300, audience=("reelguard-license",))
            cases.append((claims, states[account], rng.choice(IPS),
                          now + timedelta(seconds=rng.randint(0, 3600)), Usage(active_streams=rng.randint(0, 2))))
        full = load_policy(None)
        trivial = parse_policy('format = 1\nname = "one-rule"\nversion = "1"\n[[all_of]]\ntype = "account_active"\n')
        _time_decisions(full, cases[:5_000], geo)  # warm-up
        runs = {name: _time_decisions(policy, cases, geo) for name, policy in (("full", full), ("trivial", trivial))}
        signer = TokenSigner(load_or_create_signing_key(work / "key.pem"), issuer="i", audience="a")
        settings = Settings.load(config_file=work / "none.toml", data_dir=work, tokens={"issuer": "i", "audience": "a"})
        verifier = TokenVerifier({signer.kid: signer.public_key}, issuer=settings.tokens.issuer,
                                 audience=settings.tokens.audience, max_ttl_seconds=settings.tokens.max_ttl_seconds,
                                 leeway_seconds=settings.tokens.leeway_seconds)
        tokens = [signer.issue(account="a", title="t", device="d", ttl_seconds=300, now=now) for _ in range(5_000)]
        verify = []
        for token in tokens:
            started = time.perf_counter()
            verifier.verify(token, now=now)
            verify.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    full_lat, granted = runs["full"]
    trivial_lat, _ = runs["trivial"]
    es256 = statistics.median(verify)
    rows = []
    for name, latencies in (("default policy, 12 rules (+ geo lookup)", full_lat),
                            ("one-rule policy (comparator)", trivial_lat)):
        rows.append([name, f"{len(latencies) / sum(latencies):,.0f}", f"{_percentile(latencies, 0.5) * 1e3:.3f}",
                     f"{_percentile(latencies, 0.99) * 1e3:.3f}", f"{_percentile(latencies, 0.999) * 1e3:.3f}",
                     f"{statistics.median(latencies) / es256:.2f}"])
    rows.append(["ES256 token signature check (comparator)", f"{1 / es256:,.0f}", f"{es256 * 1e3:.3f}",
                 f"{_percentile(verify, 0.99) * 1e3:.3f}", f"{_percentile(verify, 0.999) * 1e3:.3f}", "1.00"])
    report("Policy evaluation (pure engine, in process)",
           ["path", "decisions/s", "p50 ms", "p99 ms", "p99.9 ms", "p50 ÷ ES256 verify"], rows,
           [f"store: {args.accounts:,} accounts, {args.accounts * DEVICES_PER_ACCOUNT:,} devices, "
            f"{args.accounts // 3:,} grants in SQLite (built in {build_seconds:.0f} s); {args.requests:,} requests "
            f"at random devices/IPs/times over {min(args.accounts, SAMPLED_ACCOUNTS):,} random accounts; "
            f"{granted / args.requests:.0%} granted by the default policy",
            f"timed per request: build_context + geo lookup + Policy.decide; the account's facts were loaded from "
            f"the store beforehand ({load_ms:.2f} ms per cold load, which the licence server caches)",
            "target: p99 ≤ 0.5 ms for the full policy"])


if __name__ == "__main__":
    main()
