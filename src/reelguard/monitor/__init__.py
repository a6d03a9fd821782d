"""Find, part 2: watch where copies appear and say which sightings are catalog titles (docs/monitoring.md).

One module per step: ``sources`` (the ``PiracySource`` interface and what a source lists)
with its kinds ``torznab`` (indexers), ``feeds`` (RSS and Atom) and ``imports`` (a vendor's
export) → ``releases`` (what a release name says: title, year, season and episode, source,
group, whether it was filmed in a cinema) → ``matching`` (which catalog titles it names,
with a score and the reasons).
"""

from reelguard.monitor import feeds, imports, torznab  # noqa: F401 — registers the source kinds

__all__: list[str] = []
