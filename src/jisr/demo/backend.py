"""Sample information systems behind the demo gateways (and the tests' backends).

Moroccan civil registry (``birth-record``, ``residence``), Qatari Ministry of Interior
(``residence-permit``), plus ``echo`` (returns what it received — tests and benchmarks) and
``slow`` (answers after a delay — timeout tests). Each service has an OpenAPI description.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["PEOPLE", "create_backend"]

PEOPLE: dict[str, dict[str, Any]] = {
    "MA1234567": {
        "national_id": "MA1234567",
        "name": {"ar": "يوسف العلوي", "lat": "Youssef El Alaoui"},
        "birth": {"date": "1990-04-12", "place": "Fès", "place_ar": "فاس"},
        "parents": {"father": "محمد العلوي", "mother": "فاطمة الزهراء بناني"},
        "residence": {"city": "Rabat", "since": "2015-09-01"},
    },
    "MA7654321": {
        "national_id": "MA7654321",
        "name": {"ar": "أمينة الإدريسي", "lat": "Amina El Idrissi"},
        "birth": {"date": "1996-11-03", "place": "Marrakech", "place_ar": "مراكش"},
        "parents": {"father": "عبد الله الإدريسي", "mother": "خديجة أيت علي"},
        "residence": {"city": "Doha", "since": "2021-02-15"},
    },
}
PERMITS = {"QA784512": {"permit": "QA784512", "holder": "MA7654321", "valid_until": "2027-02-14"}}


def _openapi(title: str, paths: list[str]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0"},
        "paths": {
            path: {
                "get": {
                    "responses": {
                        "200": {"description": "found"},
                        "404": {"description": "unknown"},
                    }
                }
            }
            for path in paths
        },
    }


async def birth_record(request: Request) -> Response:
    person = PEOPLE.get(request.path_params["nid"])
    if person is None:
        return JSONResponse({"error": "no such person"}, status_code=404)
    record = {k: person[k] for k in ("national_id", "name", "birth", "parents")}
    return JSONResponse(record, headers={"X-Source": "MA civil registry"})


async def residence(request: Request) -> Response:
    person = PEOPLE.get(request.path_params["nid"])
    if person is None:
        return JSONResponse({"error": "no such person"}, status_code=404)
    return JSONResponse({"national_id": person["national_id"], **person["residence"]})


async def permit(request: Request) -> Response:
    found = PERMITS.get(request.path_params["number"])
    if found is None:
        return JSONResponse({"error": "no such permit"}, status_code=404)
    return JSONResponse(found)


class Echo:
    """Stream the request body back as it arrives (raw ASGI: no buffering, any size), with
    what the backend saw in response headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await echo(scope, receive, send)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The body of :class:`Echo`."""
    seen = {
        k.decode(): v.decode("latin-1")
        for k, v in scope["headers"]
        if k.startswith(b"x-road-") or k == b"content-type"
    }
    media_type = dict(scope["headers"]).get(b"content-type", b"application/octet-stream")
    headers = [
        (b"content-type", media_type),
        (b"x-seen", json.dumps(seen).encode()),
        (b"x-method", scope["method"].encode()),
        (b"x-path", scope["path"].encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
        await send(
            {"type": "http.response.body", "body": message.get("body", b""), "more_body": more}
        )


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "5")))
    return JSONResponse({"slept": True})


def _document(title: str, paths: list[str]) -> Any:
    async def serve(_: Request) -> Response:
        return JSONResponse(_openapi(title, paths))

    return serve


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_backend() -> Starlette:
    return Starlette(
        routes=[
            Route("/birth-records/{nid}", birth_record),
            Route("/residences/{nid}", residence),
            Route("/permits/{number}", permit),
            Route("/echo", Echo(), methods=METHODS),
            Route("/echo/{rest:path}", Echo(), methods=METHODS),
            Route("/slow", slow),
            Route(
                "/openapi/civil-registry.json",
                _document("Civil registry", ["/birth-records/{nid}", "/residences/{nid}"]),
            ),
            Route("/openapi/permits.json", _document("Residence permits", ["/permits/{number}"])),
        ]
    )
