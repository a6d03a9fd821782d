"""``reelguard demo``: the ``make run`` job — ingest the sample title, mint a token, serve.

It ingests the sample programme once (resuming it if an earlier run was interrupted),
subscribes a demo account (plan ``demo``, one registered browser, the title in the plan),
mints a 12-hour token and prints the player URLs before serving. The server runs the
built-in policy with the token rules relaxed for the demo (a 12-hour, reusable token, so
the printed URL keeps working). The demo names that policy in the data folder's
``reelguard.toml`` — unless the file already names one — so every command run on the
folder (``policy explain`` above all) decides exactly as the demo server does.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import click
from click.core import ParameterSource

from reelguard.accounts.service import AccountService
from reelguard.cli._shared import console, open_runtime, settings_from, work_progress
from reelguard.cli.serve import run_server
from reelguard.composition import Runtime
from reelguard.errors import ConfigurationError, Conflict
from reelguard.license.policy_file import default_policy_document, policy_text, with_rule_parameters
from reelguard.settings import CONFIG_FILE_NAME, Settings
from reelguard.store import repositories

__all__ = ["demo"]

DEMO_TTL_SECONDS = 12 * 3600
DEMO_ACCOUNT, DEMO_DEVICE, DEMO_PLAN = "demo-account", "demo-browser", "demo"
_LICENSE_TABLE = re.compile(r"^\s*\[\s*license\s*\]\s*(#.*)?$")


def _subscribe_demo_account(runtime: Runtime, title: str) -> None:
    """The demo account, its browser and the title's rights (idempotent)."""
    accounts = AccountService(runtime.db, runtime.clock)
    try:
        accounts.create_account(DEMO_ACCOUNT, plan=DEMO_PLAN)
    except Conflict:
        accounts.reinstate_account(DEMO_ACCOUNT)
    accounts.register_device(DEMO_ACCOUNT, DEMO_DEVICE, type="browser", security_level="software")
    accounts.set_title_rights(title, plans=[DEMO_PLAN], downloadable=True)


def _demo_policy(data_dir: Path) -> Path:
    """The built-in policy with the token rules relaxed for a long-lived demo URL."""
    relaxed = with_rule_parameters(default_policy_document(), "token",
                                   max_lifetime_seconds=DEMO_TTL_SECONDS, single_use=False)
    path = data_dir.resolve() / "demo-policy.toml"
    path.write_text("# written by `reelguard demo`: the default policy, token rules relaxed for the demo URL\n"
                    + policy_text(relaxed | {"name": "demo"}))
    return path


def _use_demo_policy(settings: Settings) -> Settings:
    """Name the demo policy in the folder's reelguard.toml (kept if it names one already); the settings then."""
    if settings.license.policy_file is not None:
        return settings
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    policy = _demo_policy(settings.data_dir)
    config = settings.data_dir.resolve() / CONFIG_FILE_NAME
    existing = config.read_text("utf-8") if config.exists() else ""
    config.write_text(with_license_policy(existing, policy, config), "utf-8")
    return settings.replaced(license={"policy_file": policy})


def with_license_policy(config_text: str, policy: Path, config: Path) -> str:
    """``config_text`` with ``[license] policy_file`` set, the rest of the file (comments too) as it was.

    The line goes under the file's own ``[license]`` table when it has one (a second
    ``[license]`` header would make the file invalid TOML), else into a new table at the end.
    """
    line = f"policy_file = {json.dumps(str(policy))}  # written by `reelguard demo`\n"
    lines = config_text.splitlines(keepends=True)
    header = next((i for i, text in enumerate(lines) if _LICENSE_TABLE.match(text)), None)
    if header is None:
        separator = "\n" if config_text and not config_text.endswith("\n") else ""
        updated = config_text + separator + ("\n" if config_text else "") + "[license]\n" + line
    else:
        updated = "".join([*lines[:header + 1], line, *lines[header + 1:]])
    try:
        named = tomllib.loads(updated).get("license", {}).get("policy_file")
    except tomllib.TOMLDecodeError:
        named = None
    if named != str(policy):
        raise ConfigurationError(f"could not add the demo policy to {config} (expected a [license] table to add "
                                 f"policy_file to); add 'policy_file = {json.dumps(str(policy))}' under [license]")
    return updated


@click.command()
@click.option("--source", type=click.Path(path_type=Path), default=Path("media/bbb_loop3.mp4"),
              show_default=True, help="Master file to ingest.")
@click.option("--name", default="big-buck-bunny", show_default=True, help="Catalog name.")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.option("--no-serve", is_flag=True, help="Prepare and print the URLs, do not serve.")
@click.pass_context
def demo(ctx: click.Context, source: Path, name: str, port: int | None, no_serve: bool) -> None:
    """Ingest the sample, mint a demo token, print the player URLs and serve."""
    settings = _use_demo_policy(settings_from(ctx))
    port = port if port is not None else settings.server.port
    with open_runtime(ctx) as runtime:
        service = runtime.ingest_service()
        with runtime.db.session() as session:
            existing = repositories.lookup_title(session, name)
        with work_progress(True) as progress:
            if existing is None:
                console.print(f"ingesting {source} as {name!r} …")
                service.add_title(source, name=name, on_progress=progress)
            elif not existing.ready:
                console.print(f"resuming {name!r} from stage {existing.stage} …")
                service.resume_title(name, on_progress=progress)
        _subscribe_demo_account(runtime, name)
        token = runtime.signer.issue(account=DEMO_ACCOUNT, title=name, device=DEMO_DEVICE,
                                     ttl_seconds=DEMO_TTL_SECONDS, now=runtime.clock())
    command = "reelguard" if ctx.find_root().get_parameter_source("data_dir") != ParameterSource.COMMANDLINE \
        else f"reelguard --data-dir {settings.data_dir}"
    base = f"http://{settings.server.host}:{port}"
    lines = [
        "",
        "[bold]Look here:[/bold]",
        f"  DASH/cenc: {base}/play/{name}#format=dash&token={token}",
        f"  HLS/cbcs:  {base}/play/{name}#format=hls&token={token}",
        f"  without a token (no keys, no picture): {base}/play/{name}",
        f"  why it plays: {command} policy explain --account {DEMO_ACCOUNT} --device {DEMO_DEVICE} "
        f"--title {name} --ip 127.0.0.1",
        f"  API docs: {base}/api/docs   data folder: {settings.data_dir.resolve()}   "
        f"policy: {settings.license.policy_file}",
        "",
    ]
    console.print("\n".join(lines), soft_wrap=True, highlight=False)
    if not no_serve:
        run_server(settings, settings.server.host, port, 1)
