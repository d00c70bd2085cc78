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

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemBody",
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


def problem_response(problem: Problem) -> JSONResponse:
    content: dict[str, Any] = problem.body().model_dump(mode="json")
    return JSONResponse(
        content, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers
    )
