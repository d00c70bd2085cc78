"""``POST /language/identify``: the identifier over HTTP.

The body is ``{"text": "..."}``; the answer is the label, the probabilities best first and
the spans. A text that is empty, too large, binary or not valid Unicode is refused with a
422 ``invalid_input`` problem naming ``body.text`` and the rule it broke.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jisr.language._http import checked_text
from jisr.language.identify.identifier import identify
from jisr.problems import problem_doc

__all__ = ["IdentifyRequest", "IdentifyResponse", "SpanOut", "router"]

router = APIRouter()


class IdentifyRequest(BaseModel):
    """A text to identify."""

    text: str = Field(description="The text, at most 100,000 UTF-8 bytes.")


class SpanOut(BaseModel):
    """One stretch of the text in one language: ``text[start:end]``."""

    start: int
    end: int
    text: str
    label: str
    score: float = Field(description="Calibrated probability of the span's label.")


class IdentifyResponse(BaseModel):
    """The text's label (``und`` when unsure), probabilities best first, and spans."""

    label: str = Field(
        description="arb_Arab, ary_Arab, ary_Latn, afb_Arab, zgh_Tfng, "
        "ber_Latn, fra_Latn, eng_Latn or und."
    )
    scores: dict[str, float] = Field(description="Label → calibrated probability, best first.")
    spans: list[SpanOut]


@router.post(
    "/language/identify",
    response_model=IdentifyResponse,
    summary="Identify the language and script of a text",
    responses={
        422: problem_doc(
            "Missing field, or a text that is empty, too large, binary or not valid Unicode "
            "(`invalid_input`; `errors[].rule` is `empty`, `too_large`, `binary`, "
            "`invalid_utf8` or a validation rule)."
        )
    },
)
def identify_route(request: IdentifyRequest) -> IdentifyResponse:
    """Identify ``request.text``."""
    result = identify(checked_text(request.text))
    return IdentifyResponse(
        label=result.label,
        scores=result.scores,
        spans=[SpanOut(**span.as_dict()) for span in result.spans],
    )
