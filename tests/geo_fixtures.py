"""A small MaxMind-format country database written by the tests themselves (mmdb-writer)."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

COUNTRIES = {
    "203.0.113.0/24": "GB",   # TEST-NET-3
    "198.51.100.0/24": "US",  # TEST-NET-2
    "10.0.0.0/8": "GB",
    "2001:db8:1::/48": "IE",
}
GB_IP, US_IP, UNKNOWN_IP, OFFICE_IP, IE_IP6 = "203.0.113.7", "198.51.100.9", "192.0.2.44", "10.1.2.3", "2001:db8:1::5"


def write_country_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country",
                        languages=["en"], description="reelguard test countries")
    for network, code in COUNTRIES.items():
        writer.insert_network(IPSet([network]), {"country": {"iso_code": code, "names": {"en": code}}})
    writer.to_db_file(str(path))
    return path
