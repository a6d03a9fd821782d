"""Piracy sources of our own for tests, real HTTP on loopback: a Torznab indexer and a release site's feed.

Prowlarr and Jackett cannot be installed here, so ``TorznabTestServer`` is a test server;
it follows the Torznab 1.3 spec where reelguard's client depends on it: ``t=caps``,
``search`` / ``tvsearch`` (``season``, ``ep``) / ``movie`` (not offered unless asked for),
``cat`` filtering (a parent category holds its subcategories), ``offset`` / ``limit``
paging with ``newznab:response total``, error replies (100 bad API key, 200 missing
parameter, 202 no such function, 203 function not available, 900 its own failure),
magnet-only items and items with and without seeders. ``mode`` makes it hostile: an XXE
payload, a billion-laughs document, 100 MB of answer, HTTP 500, a reply slower than the
client waits::

    with TorznabTestServer(items, api_key="k") as server:
        Torznab("test", server.url, api_key="k").search(SearchQuery("dune"))
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

CAPS = """<?xml version="1.0" encoding="UTF-8"?>
<caps><server title="reelguard test indexer"/><limits max="{max}" default="{max}"/>
<searching><search available="yes" supportedParams="q"/><tv-search available="yes" supportedParams="q,season,ep"/>
<movie-search available="{movie}" supportedParams="q"/></searching>
<categories><category id="2000" name="Movies"><subcat id="2040" name="Movies/HD"/><subcat id="2045" name="Movies/UHD"/>
</category><category id="5000" name="TV"><subcat id="5040" name="TV/HD"/></category></categories></caps>"""


@dataclass
class IndexerItem:
    title: str
    category: int
    infohash: str | None = None
    magnet: str | None = None
    size: int | None = 1_500_000_000
    seeders: int | None = None
    peers: int | None = None
    season: int | None = None
    episode: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


class LoopbackServer:
    """Real HTTP on a loopback port of its own; ``answer(path, params)`` says (status, body or chunks) to a GET,
    ``answer_post(path, body)`` to a POST."""

    __test__ = False  # not a pytest class
    content_type = "application/rss+xml; charset=utf-8"

    def __init__(self, host: str, path: str) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                self._send(*server.answer(parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()}))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._send(*server.answer_post(urlparse(self.path).path, body))

            def _send(self, status: int, body: Any) -> None:
                self.send_response(status)
                self.send_header("Content-Type", server.content_type)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for chunk in [body] if isinstance(body, bytes) else body:  # chunks: streamed without a length
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        return 405, b"GET not served here"

    def answer_post(self, path: str, body: bytes) -> tuple[int, Any]:
        return 405, b"POST not served here"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class TorznabTestServer(LoopbackServer):
    def __init__(self, items: list[IndexerItem], *, api_key: str = "test-key", page_max: int = 50,
                 movie_search: bool = False, host: str = "127.0.0.1") -> None:
        super().__init__(host, "/api")
        self.items, self.api_key, self.page_max, self.movie_search = items, api_key, page_max, movie_search
        self.mode = ""  # "", "xxe", "bomb", "huge", "http500", "slow", "error900"
        self.requests: list[dict[str, str]] = []

    # -- what it answers ---------------------------------------------------------------------
    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        self.requests.append(params)
        hostile = self._hostile()
        if hostile is not None:
            return hostile
        if params.get("apikey") != self.api_key:
            return 200, _error(100, "Incorrect user credentials")
        function = params.get("t")
        if function is None:
            return 200, _error(200, "Missing parameter (t)")
        if function == "caps":
            return 200, CAPS.format(max=self.page_max, movie="yes" if self.movie_search else "no").encode()
        if function not in ("search", "tvsearch", "movie"):
            return 200, _error(202, f"No such function ({function})")
        if function == "movie" and not self.movie_search:
            return 200, _error(203, "Function not available")
        return 200, self._results(function, params)

    def _hostile(self) -> tuple[int, Any] | None:
        if self.mode == "http500":
            return 500, b"<html>Internal Server Error</html>"
        if self.mode == "error900":
            return 200, _error(900, "Indexer database unavailable")
        if self.mode == "slow":
            time.sleep(3)
            return 200, _error(900, "late")
        if self.mode == "xxe":
            return 200, (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                         b"<rss><channel><item><title>&x;</title></item></channel></rss>")
        if self.mode == "bomb":
            entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
            return 200, f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><rss>&l9;</rss>'.encode()
        if self.mode == "huge":
            return 200, (b"<rss><channel>" + b" " * 1024 * 1024 for _ in range(100))
        return None

    def _results(self, function: str, params: dict[str, str]) -> bytes:
        words = [w for w in params.get("q", "").lower().replace(".", " ").split() if w]
        categories = {int(c) for c in params.get("cat", "").split(",") if c.strip().isdigit()}
        chosen = [item for item in self.items
                  if all(w in item.title.lower().replace(".", " ") for w in words)
                  and (not categories or item.category in categories or item.category // 1000 * 1000 in categories)
                  and (function != "tvsearch" or _episode_fits(item, params))]
        offset, limit = int(params.get("offset", "0") or 0), min(int(params.get("limit", "0") or self.page_max),
                                                                 self.page_max)
        page = chosen[offset:offset + limit]
        body = "".join(_item_xml(item) for item in page)
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
                f'xmlns:torznab="http://torznab.com/schemas/2015/feed" '
                f'xmlns:newznab="http://www.newznab.com/DTD/2010/feeds/attributes/"><channel>'
                f'<title>test</title><newznab:response offset="{offset}" total="{len(chosen)}"/>'
                f"{body}</channel></rss>").encode()


def _episode_fits(item: IndexerItem, params: dict[str, str]) -> bool:
    season, episode = params.get("season"), params.get("ep")
    return (season is None or str(item.season) == season) and (episode is None or str(item.episode) == episode)


def _error(code: int, description: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><error code="{code}" description={quoteattr(description)}/>'.encode()


def _item_xml(item: IndexerItem) -> str:
    attrs = {"category": str(item.category), **item.extra}
    if item.infohash:
        attrs["infohash"] = item.infohash
    if item.magnet:
        attrs["magneturl"] = item.magnet
    if item.size is not None:
        attrs["size"] = str(item.size)
    if item.seeders is not None:
        attrs["seeders"] = str(item.seeders)
    if item.peers is not None:
        attrs["peers"] = str(item.peers)
    attr_xml = "".join(f"<torznab:attr name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in attrs.items())
    guid = item.infohash or escape(item.magnet or item.title)
    link = f"<link>{escape(item.magnet)}</link>" if item.magnet and not item.infohash else ""
    enclosure = (f'<enclosure url="http://127.0.0.1/download/{item.infohash}.torrent" '
                 f'length="{item.size or 0}" type="application/x-bittorrent"/>') if item.infohash else ""
    return (f"<item><title>{escape(item.title)}</title><guid>{guid}</guid>{link}"
            f"<pubDate>Tue, 01 Dec 2026 10:00:00 +0000</pubDate>{enclosure}{attr_xml}</item>")


class FeedTestServer(LoopbackServer):
    """A release site's feed on loopback: answers ``body`` (bytes) at any path, with ``status``."""

    def __init__(self, body: bytes, *, status: int = 200, host: str = "127.0.0.1") -> None:
        super().__init__(host, "/rss.xml")
        self.body, self.status = body, status

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        return self.status, self.body
