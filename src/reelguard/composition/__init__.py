"""The composition root: the one place that reads settings and builds adapters and services.

Shells (``cli/``, ``web/``) open a ``Runtime`` from a settings file and ask it for the
services they drive; services take their collaborators as constructor arguments and never
see settings or the runtime. A second process (a server worker, a batch worker) builds its
own runtime from the same settings — adapters such as database engines are never shipped
between processes::

    runtime = Runtime.open(Settings.load(config_file=Path("/srv/rg/reelguard.toml")))
    runtime.ingest_service().add_title(Path("ep01.mp4"), name="ep01")
    licensing = runtime.licensing()          # the licence server's stack (policy, caches, ledger)
"""

from reelguard.composition.runtime import Runtime

__all__ = ["Runtime"]
