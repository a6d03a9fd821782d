"""Takedown notices: the text the law asks for, drafted from a case's findings, kept as evidence.

Four kinds, each with every element its law names (docs/enforcement.md, "Notices"):

- ``dmca_512c`` — 17 U.S.C. § 512(c)(3)(A), to a host: (i) signature, (ii) the work,
  (iii) the material and where it is, (iv) contact details, (v) good-faith statement,
  (vi) accuracy statement under penalty of perjury.
- ``dmca_512d`` — § 512(d)(3), to an information location tool (an indexer, a search
  engine): the same, with (iii) the reference or link and where to find it.
- ``dsa_16`` — EU DSA Art. 16(2), to a hosting service: (a) the reasons, (b) the exact
  electronic location (URLs), (c) the notifier's name and email, (d) good-faith statement.
- ``acns`` — an ACNS 2.0 XML notice per proven swarm peer, to the peer's ISP (timestamp,
  IP, port, protocol, infohash, file name, size), with a text cover.

Recipients come from ``[notices] recipients`` (an indexer's name, a host's domain, an IP
range). A notice's idempotency key hashes its case, kind, recipient and locations, so
drafting it again finds the one already drafted — a retry never makes a second notice::

    drafts, unreachable = draft_notices("dmca_512d", case, sender, recipients, evidence, now)
    lumen = lumen_json(notice_rows)          # transparency reporting (lumendatabase.org's format)
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jinja2

from reelguard.enforcement.rules import NOTICE_KINDS
from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.store.cases import CaseSummary

__all__ = ["NOTICE_LAW", "DraftNotice", "Recipient", "Sender", "draft_notices", "lumen_json"]

NOTICE_LAW = {
    "dmca_512c": "17 U.S.C. § 512(c)(3)",
    "dmca_512d": "17 U.S.C. § 512(d)(3)",
    "dsa_16": "Regulation (EU) 2022/2065, Art. 16",
    "acns": "ACNS 2.0 (peer-to-peer infringement notice)",
}
_SENDER_FIELDS = ("rights_holder", "name", "email", "address", "phone")
_NEEDS = {kind: _SENDER_FIELDS for kind in ("dmca_512c", "dmca_512d", "acns")} | {
    "dsa_16": ("rights_holder", "name", "email")}

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("reelguard.enforcement", "templates"), undefined=jinja2.StrictUndefined,
    autoescape=jinja2.select_autoescape(enabled_extensions=("xml.j2",), default_for_string=False),
    keep_trailing_newline=True)


@dataclass(frozen=True)
class Sender:
    rights_holder: str
    name: str
    email: str
    address: str
    phone: str

    def missing(self, kind: str) -> list[str]:
        return [f for f in _NEEDS[kind] if not getattr(self, f).strip()]


@dataclass(frozen=True)
class Recipient:
    match: str  # indexer:NAME, host:DOMAIN (and its subdomains), ip:CIDR
    email: str
    name: str = ""

    def covers(self, place: str) -> bool:
        kind, _, value = self.match.partition(":")
        place_kind, _, place_value = place.partition(":")
        if kind != place_kind:
            return False
        if kind == "ip":
            try:
                return ipaddress.ip_address(place_value) in ipaddress.ip_network(value, strict=False)
            except ValueError:
                return False
        if kind == "host":
            host = place_value.lower().rstrip(".")
            return host == value.lower() or host.endswith("." + value.lower())
        return place_value == value


@dataclass(frozen=True)
class DraftNotice:
    kind: str
    recipient: str
    recipient_name: str
    subject: str
    body: str
    data: dict[str, Any]
    idempotency_key: str
    attachments: dict[str, str] = field(default_factory=dict)  # file name → text (the ACNS XML)


def draft_notices(kind: str, case: CaseSummary, sender: Sender, recipients: Sequence[Recipient],
                  evidence: dict[str, Any], now: datetime) -> tuple[list[DraftNotice], list[str]]:
    """The notices of ``kind`` a case calls for, one per recipient (per peer for ACNS); and the places no
    recipient covers, said so (a notice nobody receives is not a notice)."""
    if kind not in NOTICE_KINDS:
        raise InvalidInput(f"expected a notice kind ({', '.join(NOTICE_KINDS)}), got {kind[:40]!r}")
    missing = sender.missing(kind)
    if missing:
        settings = ", ".join(m if m == "rights_holder" else f"sender_{m}" for m in missing)
        raise ConfigurationError(f"a {NOTICE_LAW[kind]} notice needs the sender's {', '.join(missing)} "
                                 f"(set [notices] {settings})")
    facts = case.facts
    identify = facts.get("identify") or {}
    work = {"title": case.title, "false_match_probability": float(identify.get("false_match_probability", 1.0)),
            "spans": ", ".join(f"{s['title_start']:.0f}-{s['title_end']:.0f} s of the work"
                               for s in identify.get("segments", []))}
    common = {"case_id": case.id, "date": now.date().isoformat(), "work": work, "sender": sender.__dict__,
              "evidence": evidence}
    if kind == "acns":
        return _acns(case, common, recipients)
    places = _locations(kind, facts.get("sources", []))
    drafts: list[DraftNotice] = []
    unreachable: list[str] = []
    for recipient, locations in _by_recipient(places, recipients, unreachable).items():
        key = _key(case.id, kind, recipient.email, [loc["url"] for loc in locations])
        context = common | {"recipient": recipient.email, "recipient_name": recipient.name,
                            "locations": locations, "idempotency_key": key}
        body = _templates.get_template(f"{kind}.txt.j2").render(context)
        subject = f"[{NOTICE_LAW[kind]}] Copyright infringement notice: {case.title} (ref {key[:12]})"
        drafts.append(DraftNotice(kind, recipient.email, recipient.name, subject, body,
                                  _data(kind, context), key))
    return drafts, unreachable


def _locations(kind: str, sources: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(the place that decides the recipient, {url, detail}) for each location the notice names."""
    found: list[tuple[str, dict[str, str]]] = []
    for source in sources:
        if source.get("kind") == "indexer" and kind in ("dmca_512d", "dsa_16"):
            url = source.get("link") or f"{source['source']} item {source['item_id']}"
            found.append((f"indexer:{source['source']}",
                          {"url": url, "detail": f"listed as {source.get('name')!r}, item {source['item_id']}"}))
        elif source.get("kind") == "url" and kind in ("dmca_512c", "dsa_16"):
            host = urlsplit(source["url"]).hostname or ""
            found.append((f"host:{host}", {"url": source["url"], "detail": ""}))
    return found


def _by_recipient(places: list[tuple[str, dict[str, str]]], recipients: Sequence[Recipient],
                  unreachable: list[str]) -> dict[Recipient, list[dict[str, str]]]:
    grouped: dict[Recipient, list[dict[str, str]]] = {}
    for place, location in places:
        recipient = next((r for r in recipients if r.covers(place)), None)
        if recipient is None:
            unreachable.append(f"{place} ({location['url']}): no [notices] recipient matches it")
            continue
        grouped.setdefault(recipient, []).append(location)
    return grouped


def _acns(case: CaseSummary, common: dict[str, Any],
          recipients: Sequence[Recipient]) -> tuple[list[DraftNotice], list[str]]:
    drafts: list[DraftNotice] = []
    unreachable: list[str] = []
    for swarm in (s for s in case.facts.get("sources", []) if s.get("kind") == "swarm"):
        for peer in swarm.get("distributors", []):
            recipient = next((r for r in recipients if r.covers(f"ip:{peer['ip']}")), None)
            if recipient is None:
                unreachable.append(f"ip:{peer['ip']} (peer {peer['ip']}:{peer['port']}): no [notices] recipient "
                                   "matches it")
                continue
            key = _key(case.id, "acns", recipient.email, [f"{swarm['infohash']}@{peer['ip']}:{peer['port']}"])
            seen = str(peer.get("seen_at") or "")
            context = common | {
                "recipient": recipient.email, "recipient_name": recipient.name, "idempotency_key": key,
                "peer": {"ip": peer["ip"], "port": peer["port"], "seen_at": _utc(seen),
                         "peer_id": peer.get("peer_id") or ""},
                "swarm": {"name": swarm.get("name") or "", "size_bytes": swarm.get("size_bytes") or 0,
                          "infohash": swarm["infohash"]}}
            xml = _templates.get_template("acns.xml.j2").render(context)
            body = _templates.get_template("acns.txt.j2").render(context | {"xml": xml})
            subject = f"Notice of claimed infringement (BitTorrent, {peer['ip']}): {case.title} (ref {key[:12]})"
            drafts.append(DraftNotice("acns", recipient.email, recipient.name, subject, body,
                                      _data("acns", context) | {"acns_xml": xml}, key, {"acns.xml": xml}))
    return drafts, unreachable


def _data(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    """The notice's elements as data (kept as evidence beside the text, exported to Lumen)."""
    return {"law": NOTICE_LAW[kind], **context}


def _key(case_id: str, kind: str, recipient: str, locations: list[str]) -> str:
    material = json.dumps([case_id, kind, recipient.lower(), sorted(locations)], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def _utc(stamp: str) -> str:
    """ACNS wants ``YYYY-MM-DDThh:mm:ssZ``."""
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return stamp


def lumen_json(notices: Sequence[Any]) -> dict[str, Any]:
    """Sent notices in the Lumen database's submission format, for transparency reporting."""
    out = []
    for notice in notices:
        data = notice.data
        if "swarm" in data:  # never a subscriber's IP in a public report: the torrent only
            urls = [{"url": f"magnet:?xt=urn:btih:{data['swarm']['infohash']}"}]
        else:
            urls = [{"url": location["url"]} for location in data.get("locations", [])]
        sender = data["sender"]
        out.append({"notice": {
            "title": notice.subject, "type": "Other" if notice.kind == "dsa_16" else "DMCA",
            "subject": data["work"]["title"], "source": "Email",
            "date_sent": notice.sent_at.date().isoformat() if notice.sent_at else None,
            "jurisdiction_list": "EU" if notice.kind == "dsa_16" else "US",
            "works_attributes": [{"description": data["work"]["title"], "kind": "movie",
                                  "infringing_urls_attributes": urls, "copyrighted_urls_attributes": []}],
            "entity_notice_roles_attributes": [
                {"name": "recipient", "entity_attributes": {"name": data.get("recipient_name") or notice.recipient,
                                                            "kind": "organization"}},
                {"name": "sender", "entity_attributes": {"name": sender["name"], "kind": "individual"}},
                {"name": "principal", "entity_attributes": {"name": sender["rights_holder"],
                                                            "kind": "organization"}}],
        }})
    return {"notices": out}
