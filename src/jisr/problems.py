"""RFC 9457 problem details for the management APIs.

Every refusal is a :class:`Problem`: an HTTP status, a stable machine-readable ``code``
(documented per component in ``docs/``), a human ``detail`` and, for bad input, the
``errors`` list naming each offending field and the rule it broke. The ``type`` member is
``urn:jisr:problem:<code>`` so clients can switch on either.

    Problem                      any refusal (status, code, detail, errors)
    └── rendered by problem_response() as application/problem+json
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemBody",
    "install_problem_handlers",
    "problem_doc",
    "problem_response",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One offending input: where it is, which rule it broke, in words."""

    field: str = Field(description="Dotted location of the input, e.g. 'body.code'.")
    rule: str = Field(description="Stable rule name, e.g. 'invalid_character', 'required'.")
    message: str


class ProblemBody(BaseModel):
    """The RFC 9457 document Jisr's management APIs return on every error."""

    type: str = Field(description="urn:jisr:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable error code; see the component's docs.")
    errors: list[FieldError] = Field(default_factory=list)


class Problem(Exception):
    """A refusal with everything needed to render it."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ").capitalize()
        self.errors = errors or []
        self.headers = headers or {}

    @classmethod
    def invalid(cls, field: str, rule: str, message: str, *, status: int = 422) -> Problem:
        """Bad input in one field: the common case."""
        error = FieldError(field=field, rule=rule, message=message)
        return cls(status, "invalid_input", f"{field}: {message}", errors=[error])

    def body(self) -> ProblemBody:
        return ProblemBody(
            type=f"urn:jisr:problem:{self.code}",
            title=self.title,
            status=self.status,
            detail=self.detail,
            code=self.code,
            errors=self.errors,
        )


def problem_doc(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for a problem document (FastAPI route metadata)."""
    return {"description": description, "model": ProblemBody, "content": {PROBLEM_MEDIA_TYPE: {}}}


def install_problem_handlers(app: FastAPI, log: Any) -> None:
    """Answer every error of a management API as a problem document: refusals, request
    validation (422 naming each field and rule), routing and body errors, and — logged —
    anything unexpected (500 ``internal_error``)."""

    async def on_problem(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldError(
                field=".".join(str(part) for part in error.get("loc", ())),
                rule=str(error.get("type", "invalid")),
                message=str(error.get("msg", "invalid value")),
            )
            for error in exc.errors()
        ]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
        return problem_response(Problem(422, "invalid_input", detail, errors=errors))

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(Problem(exc.status_code, code, str(exc.detail), headers=headers))

    async def on_crash(_: Request, exc: Exception) -> Response:
        log.exception("api.unhandled", error=repr(exc))
        return problem_response(Problem(500, "internal_error", "internal error; see the log"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def problem_response(problem: Problem) -> JSONResponse:
    content: dict[str, Any] = problem.body().model_dump(mode="json")
    return JSONResponse(
        content, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers
    )
