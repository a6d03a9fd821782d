"""The integration API (``/api/v1``): the platform's backend manages subscribers over HTTP.

A streaming service's backend owns its subscribers and catalog rights; these routes let it
create and change accounts, plans, devices, purchases and rentals and title rights, revoke
and suspend, end streams and read the decision log — through the same services and the
same validation as the CLI. Every route needs an API key (``reelguard api-clients add``)
with the route's scope; every write honours ``Idempotency-Key``; lists are paged with
``limit`` and an opaque ``cursor``::

    curl -H "Authorization: Bearer rgk.backend.…" -H "Idempotency-Key: 7f1c…" \\
         -d '{"id": "acct-1", "plan": "premium"}' http://127.0.0.1:8700/api/v1/accounts
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pydantic
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from reelguard.accounts.records import AccountSummary, AccountView, DeviceView, RightsView
from reelguard.accounts.service import AccountService
from reelguard.errors import InvalidInput
from reelguard.license.decisions import DecisionLog, DecisionView
from reelguard.license.streams import StreamAdmin, StreamView
from reelguard.web.api_support import ApiContext, decode_cursor, json_body_schema, json_response, page

__all__ = ["api_router"]

_SECURITY: dict[str, Any] = {"security": [{"integrationKey": []}]}
_TAGS: list[str | Any] = ["integration API"]


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class NewAccount(_Strict):
    id: str
    plan: str


class AccountChange(_Strict):
    plan: str | None = None
    status: Literal["active", "suspended"] | None = None


class DeviceRegistration(_Strict):
    type: str
    security_level: str = "software"
    hdcp: str = "none"


class Grant(_Strict):
    kind: Literal["purchase", "rental"]
    expires_at: datetime | None = None


class Rights(_Strict):
    plans: list[str] = []
    territories: list[str] | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    downloadable: bool = False


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{field}: expected a time with a UTC offset (e.g. 2027-01-31T00:00:00Z), got a naive one")
    return value


def _extra(model: type[pydantic.BaseModel] | None = None) -> dict[str, Any]:
    return {**_SECURITY, **(json_body_schema(model) if model is not None else {})}


def api_router(ctx: ApiContext, accounts: AccountService, streams: StreamAdmin, decisions: DecisionLog) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=_TAGS)
    _account_routes(router, ctx, accounts)
    _device_and_grant_routes(router, ctx, accounts)
    _rights_stream_decision_routes(router, ctx, accounts, streams, decisions)
    return router


def _account_routes(router: APIRouter, ctx: ApiContext, accounts: AccountService) -> None:
    @router.get("/accounts", summary="List accounts (by id)", openapi_extra=_extra(),
                responses=json_response(AccountSummary, paged=True))
    async def list_accounts(request: Request, limit: int = Query(100, ge=1, le=1000), cursor: str | None = None,
                            status: Literal["active", "suspended"] | None = None,
                            plan: str | None = None) -> dict[str, Any]:
        await ctx.client(request, "accounts:read")
        rows = await run_in_threadpool(accounts.list_accounts, after=decode_cursor(cursor, str), limit=limit,
                                       status=status, plan=plan)
        return page([r.to_json() for r in rows], limit, lambda item: str(item["id"]))

    @router.post("/accounts", summary="Create an account", status_code=201, openapi_extra=_extra(NewAccount),
                 responses=json_response(AccountView, status=201))
    async def create_account(request: Request) -> Response:
        client = await ctx.client(request, "accounts:write")
        raw, new = await ctx.body(request, NewAccount)

        def do() -> tuple[int, Any]:
            accounts.create_account(new.id, plan=new.plan)
            return 201, accounts.show_account(new.id).to_json()

        return await ctx.write(request, client, raw, do)

    @router.get("/accounts/{account}", summary="An account with its devices and grants", openapi_extra=_extra(),
                responses=json_response(AccountView))
    async def show_account(request: Request, account: str) -> dict[str, Any]:
        await ctx.client(request, "accounts:read")
        return (await run_in_threadpool(accounts.show_account, account)).to_json()

    @router.patch("/accounts/{account}", summary="Change an account's plan, or suspend / reinstate it",
                  openapi_extra=_extra(AccountChange), responses=json_response(AccountView))
    async def change_account(request: Request, account: str) -> Response:
        client = await ctx.client(request, "accounts:write")
        raw, change = await ctx.body(request, AccountChange)

        def do() -> tuple[int, Any]:
            if change.plan is not None:
                accounts.set_plan(account, change.plan)
            if change.status == "suspended":
                accounts.suspend_account(account)
            elif change.status == "active":
                accounts.reinstate_account(account)
            return 200, accounts.show_account(account).to_json()

        return await ctx.write(request, client, raw, do)


def _device_and_grant_routes(router: APIRouter, ctx: ApiContext, accounts: AccountService) -> None:
    @router.get("/accounts/{account}/devices", summary="An account's devices", openapi_extra=_extra(),
                responses=json_response(list[DeviceView]))
    async def list_devices(request: Request, account: str) -> list[dict[str, Any]]:
        await ctx.client(request, "accounts:read")
        return [d.to_json() for d in await run_in_threadpool(accounts.list_devices, account)]

    @router.put("/accounts/{account}/devices/{device}", summary="Register or update a device",
                openapi_extra=_extra(DeviceRegistration), responses=json_response(DeviceView))
    async def register_device(request: Request, account: str, device: str) -> Response:
        client = await ctx.client(request, "accounts:write")
        raw, registration = await ctx.body(request, DeviceRegistration)

        def do() -> tuple[int, Any]:
            accounts.register_device(account, device, type=registration.type,
                                     security_level=registration.security_level, hdcp=registration.hdcp)
            return 200, _device(accounts, account, device)

        return await ctx.write(request, client, raw, do)

    for action in ("revoke", "reinstate"):
        _device_action(router, ctx, accounts, action)

    @router.put("/accounts/{account}/grants/{title}", summary="Record a purchase or rental of a title",
                openapi_extra=_extra(Grant), responses=json_response(AccountView))
    async def grant(request: Request, account: str, title: str) -> Response:
        client = await ctx.client(request, "accounts:write")
        raw, grant = await ctx.body(request, Grant)

        def do() -> tuple[int, Any]:
            accounts.grant_title(account, title, kind=grant.kind, expires_at=_aware(grant.expires_at, "expires_at"))
            return 200, accounts.show_account(account).to_json()

        return await ctx.write(request, client, raw, do)

    @router.delete("/accounts/{account}/grants/{title}", summary="Take back a purchase or rental",
                   status_code=204, openapi_extra=_extra())
    async def remove_grant(request: Request, account: str, title: str) -> Response:
        client = await ctx.client(request, "accounts:write")

        def do() -> tuple[int, Any]:
            accounts.remove_grant(account, title)
            return 204, None

        return await ctx.write(request, client, b"", do)


def _device_action(router: APIRouter, ctx: ApiContext, accounts: AccountService, action: str) -> None:
    change = accounts.revoke_device if action == "revoke" else accounts.reinstate_device

    async def device_action(request: Request, account: str, device: str) -> Response:
        client = await ctx.client(request, "accounts:write")

        def do() -> tuple[int, Any]:
            change(account, device)
            return 200, _device(accounts, account, device)

        return await ctx.write(request, client, b"", do)

    router.add_api_route(f"/accounts/{{account}}/devices/{{device}}/{action}", device_action, methods=["POST"],
                         summary=f"{action.capitalize()} a device (takes effect at its next licence renewal)",
                         openapi_extra=_extra(), responses=json_response(DeviceView), name=f"{action}_device")


def _device(accounts: AccountService, account: str, device: str) -> dict[str, Any]:
    return next(d.to_json() for d in accounts.list_devices(account) if d.id == device)


def _rights_stream_decision_routes(router: APIRouter, ctx: ApiContext, accounts: AccountService,
                                   streams: StreamAdmin, decisions: DecisionLog) -> None:
    @router.get("/titles/{title}/rights", summary="A title's rights", openapi_extra=_extra(),
                responses=json_response(RightsView))
    async def show_rights(request: Request, title: str) -> dict[str, Any]:
        await ctx.client(request, "rights:read")
        return (await run_in_threadpool(accounts.title_rights, title)).to_json()

    @router.put("/titles/{title}/rights", summary="Replace a title's rights", openapi_extra=_extra(Rights),
                responses=json_response(RightsView))
    async def set_rights(request: Request, title: str) -> Response:
        client = await ctx.client(request, "rights:write")
        raw, rights = await ctx.body(request, Rights)

        def do() -> tuple[int, Any]:
            accounts.set_title_rights(title, plans=rights.plans, territories=rights.territories,
                                      available_from=_aware(rights.available_from, "available_from"),
                                      available_until=_aware(rights.available_until, "available_until"),
                                      downloadable=rights.downloadable)
            return 200, accounts.title_rights(title).to_json()

        return await ctx.write(request, client, raw, do)

    @router.get("/streams", summary="Streams, newest first", openapi_extra=_extra(),
                responses=json_response(list[StreamView]))
    async def list_streams(request: Request, account: str | None = None, title: str | None = None,
                           running: bool = False, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        await ctx.client(request, "streams:read")
        rows = await run_in_threadpool(streams.list_streams, account=account, title=title, running_only=running,
                                       limit=limit)
        return [r.to_json() for r in rows]

    @router.post("/streams/{stream}/end", summary="End a stream now (its next renewal is a new start)",
                 openapi_extra=_extra(), responses=json_response(StreamView))
    async def end_stream(request: Request, stream: str) -> Response:
        client = await ctx.client(request, "streams:write")
        return await ctx.write(request, client, b"", lambda: (200, streams.end(stream).to_json()))

    @router.get("/decisions", summary="Licence decisions, newest first", openapi_extra=_extra(),
                responses=json_response(DecisionView, paged=True))
    async def list_decisions(request: Request, account: str | None = None, device: str | None = None,
                             title: str | None = None, rule: str | None = None,
                             outcome: Literal["granted", "denied"] | None = None, since: datetime | None = None,
                             until: datetime | None = None, cursor: str | None = None,
                             limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        await ctx.client(request, "decisions:read")
        rows = await run_in_threadpool(decisions.find, account=account, device=device, title=title, rule=rule,
                                       outcome=outcome, since=_aware(since, "since"), until=_aware(until, "until"),
                                       before=decode_cursor(cursor, int), limit=limit)
        return page([r.to_json() for r in rows], limit, lambda item: int(item["id"]))
