"""Find, part 2: watch where copies appear and say which sightings are catalog titles (docs/monitoring.md).

One module per step: ``releases`` (what a release name says: title, year, season and
episode, source, group, whether it was filmed in a cinema) → ``matching`` (which catalog
titles it names, with a score and the reasons).
"""

__all__: list[str] = []
