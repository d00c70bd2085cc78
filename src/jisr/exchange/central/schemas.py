"""Request and response bodies of the central's admin API (OpenAPI 3.1 from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from jisr.ids import IdentifierError, validate_part

__all__ = [
    "CODE_PATTERN",
    "AuditOut",
    "CertificateOut",
    "ClientIn",
    "CodePath",
    "CsrIn",
    "CsrOut",
    "GatewayIn",
    "GatewayOut",
    "GatewayPatch",
    "GroupIn",
    "GroupOut",
    "MemberClassIn",
    "MemberClassOut",
    "MemberIn",
    "MemberOut",
    "MemberPatch",
    "Names",
    "PartnerOut",
    "RejectIn",
    "ServiceIn",
    "ServiceOut",
    "SigningKeyOut",
    "SubsystemIn",
    "SubsystemOut",
]

# X-Road §4.8: letters, digits and ' ( ) + , - . = ?
CODE_PATTERN = r"^[A-Za-z0-9'()+,\-.=?]{1,255}$"


def _no_controls(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise PydanticCustomError("control_character", "control characters are not allowed")
    return value


def _part(name: str) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return validate_part(value, name)
        except IdentifierError as error:
            raise PydanticCustomError("invalid_identifier", str(error)) from None

    return AfterValidator(check)


Text = Annotated[str, Field(max_length=1000), AfterValidator(_no_controls)]
Code = Annotated[str, Field(json_schema_extra={"pattern": CODE_PATTERN})]
CodePath = Annotated[str, Path(pattern=CODE_PATTERN, max_length=255)]
Identifier = Annotated[str, Field(max_length=1100, examples=["MA/GOV/CIVIL-REGISTRY/REGISTRY"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Names(_In):
    ar: Annotated[Text, Field(min_length=1, description="Name in Arabic (required).")]
    fr: Text = ""
    en: Text = ""


class NamesPatch(_In):
    ar: Annotated[Text, Field(min_length=1)] | None = None
    fr: Text | None = None
    en: Text | None = None


class MemberClassIn(_In):
    code: Annotated[Code, _part("member class")]
    description: Text = ""


class MemberClassOut(BaseModel):
    code: str
    description: str


class MemberIn(_In):
    member_class: Annotated[Code, _part("member class")]
    code: Annotated[Code, _part("member code")]
    name: Names


class MemberPatch(_In):
    name: NamesPatch


class MemberOut(BaseModel):
    id: str = Field(description="INSTANCE/CLASS/MEMBER")
    member_class: str
    code: str
    name: dict[str, str]
    subsystems: list[str]
    created_at: datetime


class SubsystemIn(_In):
    code: Annotated[Code, _part("subsystem code")]


class SubsystemOut(BaseModel):
    id: str = Field(description="INSTANCE/CLASS/MEMBER/SUBSYSTEM")
    code: str


class GatewayIn(_In):
    code: Annotated[Code, _part("gateway code")]
    address: Annotated[Text, Field(min_length=1, max_length=300, examples=["gw1.gov.ma:8443"])]


class GatewayPatch(_In):
    address: Annotated[Text, Field(min_length=1, max_length=300)]


class CertificateOut(BaseModel):
    fingerprint: str = Field(description="SHA-256 of the DER certificate, lowercase hex.")
    kind: Literal["auth", "sign"]
    owner: str = Field(description="Gateway identifier (auth) or member identifier (sign).")
    not_before: datetime
    not_after: datetime
    pem: str


class GatewayOut(BaseModel):
    id: str = Field(description="INSTANCE/CLASS/MEMBER/GATEWAY")
    code: str
    address: str
    clients: list[str]
    auth_certificates: list[CertificateOut]


class ClientIn(_In):
    client: Identifier = Field(description="Member or subsystem identifier of this instance.")


class CsrIn(_In):
    kind: Literal["auth", "sign"]
    subject: Identifier = Field(
        description="Gateway identifier for 'auth', member identifier for 'sign'; must equal "
        "the CSR's subject common name."
    )
    csr: Annotated[str, Field(max_length=16384, description="PEM certificate signing request.")]


class CsrOut(BaseModel):
    id: int
    kind: str
    subject: str
    status: Literal["pending", "approved", "rejected"]
    public_key_sha256: str
    submitted_at: datetime
    submitted_by: str
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    certificate_fingerprint: str | None


class RejectIn(_In):
    reason: Annotated[Text, Field(min_length=1)]


class GroupIn(_In):
    code: Annotated[Code, _part("group code")]
    description: Text = ""


class GroupOut(BaseModel):
    id: str = Field(description="INSTANCE/GROUPCODE")
    code: str
    description: str
    members: list[str]


class ServiceIn(_In):
    code: Annotated[Code, _part("service code")]
    openapi_url: Annotated[str, Field(max_length=2000)] | None = None


class ServiceOut(BaseModel):
    id: str = Field(description="INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE")
    code: str
    openapi_url: str | None


class PartnerOut(BaseModel):
    instance: str
    anchor: dict[str, Any]
    added_at: datetime


class SigningKeyOut(BaseModel):
    kid: str
    status: Literal["next", "active", "retired"]
    created_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    certificate_pem: str


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
