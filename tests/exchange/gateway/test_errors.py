"""Tests for jisr.exchange.gateway.errors: X-Road faults and their rendering (PR-REST §4.6)."""

from __future__ import annotations

import json
import pickle
import uuid
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jisr.exchange.gateway import errors
from jisr.exchange.gateway.errors import (
    CODES,
    BadRequest,
    ClientError,
    ClientProxyError,
    ClientProxyInconsistentResponse,
    ClientProxyOutdatedGlobalConf,
    InvalidClientIdentifier,
    PeerFault,
    ServerProxyAccessDenied,
    ServerProxyError,
    ServerProxyServiceFailed,
    XRoadError,
    accept_quality,
    error_response,
    from_code,
    status_for,
    wants_xml,
)

CONCRETE = sorted(CODES.values(), key=lambda cls: cls.code)

# The codes the gateway design relies on (docs/gateway-errors.md has one row for each).
EXPECTED_CODES = {
    "Client.BadRequest",
    "Client.InvalidClientIdentifier",
    "Server.ClientProxy.InconsistentResponse",
    "Server.ClientProxy.InternalError",
    "Server.ClientProxy.InvalidDigest",
    "Server.ClientProxy.InvalidSignatureValue",
    "Server.ClientProxy.LoggingFailed",
    "Server.ClientProxy.MaintenanceMode",
    "Server.ClientProxy.MissingSignature",
    "Server.ClientProxy.NetworkError",
    "Server.ClientProxy.OutdatedGlobalConf",
    "Server.ClientProxy.SslAuthenticationFailed",
    "Server.ClientProxy.TimestamperFailed",
    "Server.ClientProxy.UnknownMember",
    "Server.ClientProxy.UnknownService",
    "Server.ServerProxy.AccessDenied",
    "Server.ServerProxy.InternalError",
    "Server.ServerProxy.InvalidDigest",
    "Server.ServerProxy.InvalidSignatureValue",
    "Server.ServerProxy.LoggingFailed",
    "Server.ServerProxy.MaintenanceMode",
    "Server.ServerProxy.MissingSignature",
    "Server.ServerProxy.NetworkError",
    "Server.ServerProxy.OutdatedGlobalConf",
    "Server.ServerProxy.ReplayedRequest",
    "Server.ServerProxy.ServiceDisabled",
    "Server.ServerProxy.ServiceFailed",
    "Server.ServerProxy.SslAuthenticationFailed",
    "Server.ServerProxy.TimestamperFailed",
    "Server.ServerProxy.UnknownService",
}


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    return dict(raw)


class TestFaultTree:
    def test_codes_are_the_documented_set(self) -> None:
        """Exactly the codes of the design exist, each with one class."""
        assert set(CODES) == EXPECTED_CODES

    @pytest.mark.parametrize("cls", CONCRETE, ids=lambda cls: cls.code)
    def test_class_name_spells_the_code(self, cls: type[XRoadError]) -> None:
        """A class is named after its code without the first part: greppable both ways."""
        assert cls.__name__ == "".join(cls.code.split(".")[1:])

    @pytest.mark.parametrize("cls", CONCRETE, ids=lambda cls: cls.code)
    def test_status_follows_the_prefix(self, cls: type[XRoadError]) -> None:
        """§4.6: Client.* faults are 400 (category 3), every Server.* fault 500 (category 4)."""
        expected = 400 if cls.code.startswith("Client.") else 500
        assert cls.status == expected

    @pytest.mark.parametrize("cls", CONCRETE, ids=lambda cls: cls.code)
    def test_face_base_class_matches_the_prefix(self, cls: type[XRoadError]) -> None:
        """Catching a face's base class catches exactly that face's codes."""
        base = {
            "Client": ClientError,
            "Server.ClientProxy": ClientProxyError,
            "Server.ServerProxy": ServerProxyError,
        }[cls.code.rsplit(".", 1)[0]]
        assert issubclass(cls, base)

    @pytest.mark.parametrize("cls", [XRoadError, ClientError, ClientProxyError, ServerProxyError])
    def test_abstract_classes_cannot_be_raised(self, cls: type[XRoadError]) -> None:
        """A fault without a code would render an empty X-Road-Error header."""
        with pytest.raises(TypeError, match="has no code"):
            cls("message")

    def test_detail_defaults_to_a_fresh_uuid4(self) -> None:
        """X-Road puts a tracking id in ``detail``; each fault gets its own."""
        first, second = BadRequest("a"), BadRequest("a")
        assert uuid.UUID(first.detail).version == 4
        assert first.detail != second.detail

    def test_detail_given_is_kept(self) -> None:
        """A caller can reuse the tracking id of a log record or of a peer's fault."""
        assert ServerProxyAccessDenied("no", detail="track-1").detail == "track-1"

    def test_str_names_code_and_message(self) -> None:
        """Logs show the code and the message together."""
        assert str(BadRequest("bad path")) == "Client.BadRequest: bad path"

    @pytest.mark.parametrize(
        "error",
        [
            BadRequest("x", detail="d"),
            ServerProxyServiceFailed("timeout", detail="d"),
            PeerFault("Server.ServerProxy.DatabaseError", "db", detail="d"),
        ],
    )
    def test_pickles_with_code_message_and_detail(self, error: XRoadError) -> None:
        """Faults cross process boundaries (worker pools) intact, detail included."""
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 -- our own bytes
        assert (type(copy), copy.code, copy.message, copy.detail) == (
            type(error),
            error.code,
            error.message,
            error.detail,
        )

    def test_status_for_prefixes(self) -> None:
        """Client and Client.* are 400; anything else, Server.* or unknown, is 500."""
        assert status_for("Client.Anything") == 400
        assert status_for("Client") == 400
        assert status_for("Server.ServerProxy.DatabaseError") == 500
        assert status_for("Signer.KeyNotFound") == 500
        assert status_for("ClientX.Foo") == 500


class TestFromCode:
    @pytest.mark.parametrize("cls", CONCRETE, ids=lambda cls: cls.code)
    def test_known_code_rebuilds_its_class(self, cls: type[XRoadError]) -> None:
        """A peer's fault with a code we know becomes that class, message and detail kept."""
        error = from_code(cls.code, "peer says", detail="tracking")
        assert type(error) is cls
        assert (error.message, error.detail) == ("peer says", "tracking")

    def test_unknown_server_code_is_a_peer_fault_of_500(self) -> None:
        """§4.6 example 4's DatabaseError is not ours but still passes through as 500."""
        error = from_code("Server.ServerProxy.DatabaseError", "Error accessing database")
        assert isinstance(error, PeerFault)
        assert (error.code, error.status) == ("Server.ServerProxy.DatabaseError", 500)

    def test_unknown_client_code_is_a_peer_fault_of_400(self) -> None:
        """The status of an unknown code follows its prefix."""
        error = from_code("Client.SomethingNew", "m")
        assert (error.code, error.status) == ("Client.SomethingNew", 400)

    @pytest.mark.parametrize(
        "code", ["", "Server.\r\nSet-Cookie: x", "Server..X", "Server.Proxy Error", "A" * 200]
    )
    def test_malformed_code_cannot_reach_the_header(self, code: str) -> None:
        """A peer cannot inject bytes into X-Road-Error: its fault becomes an inconsistency."""
        error = from_code(code, "m", detail="d")
        assert isinstance(error, ClientProxyInconsistentResponse)
        assert error.detail == "d"

    def test_peer_fault_refuses_a_malformed_code(self) -> None:
        """Building a PeerFault directly applies the same check."""
        with pytest.raises(ValueError, match="malformed"):
            PeerFault("bad code", "m")


class TestErrorResponse:
    def test_json_by_default_like_example_3(self) -> None:
        """§4.6 example 3: 400, JSON {type, message, detail}, X-Road-Error, charset."""
        error = BadRequest(
            "Error parsing the client's REST request.",
            detail="018cbcae-537e-421b-b6f6-2608dc97bd90",
        )
        status, raw, body = error_response(error, None)
        headers = _headers(raw)
        assert status == 400
        assert headers[b"content-type"] == b"application/json; charset=utf-8"
        assert headers[b"x-road-error"] == b"Client.BadRequest"
        assert headers[b"content-length"] == str(len(body)).encode()
        assert json.loads(body) == {
            "type": "Client.BadRequest",
            "message": "Error parsing the client's REST request.",
            "detail": "018cbcae-537e-421b-b6f6-2608dc97bd90",
        }

    def test_server_fault_is_500_like_example_4(self) -> None:
        """§4.6 examples 2 and 4: a Server.* fault is a 500 with its code in X-Road-Error."""
        status, raw, body = error_response(
            from_code("Server.ServerProxy.DatabaseError", "db"), None
        )
        assert status == 500
        assert _headers(raw)[b"x-road-error"] == b"Server.ServerProxy.DatabaseError"
        assert json.loads(body)["type"] == "Server.ServerProxy.DatabaseError"

    def test_names_are_lowercase_raw_asgi_headers(self) -> None:
        """The headers go straight into an ASGI ``http.response.start``."""
        _, raw, _ = error_response(BadRequest("m"), None)
        assert all(name == name.lower() and isinstance(value, bytes) for name, value in raw)

    @pytest.mark.parametrize(
        ("accept", "media_type"),
        [
            ("application/xml", b"application/xml"),
            ("text/xml", b"text/xml"),
            ("text/*", b"text/xml"),
            ("application/json;q=0.5, application/xml", b"application/xml"),
        ],
    )
    def test_xml_when_preferred(self, accept: str, media_type: bytes) -> None:
        """X-Road's XML form: <error><type/><message/><detail/></error>, in the asked type."""
        status, raw, body = error_response(ClientProxyOutdatedGlobalConf("old", detail="d"), accept)
        root = ET.fromstring(body)  # noqa: S314 -- our own output
        assert status == 500
        assert _headers(raw)[b"content-type"] == media_type + b"; charset=utf-8"
        assert root.tag == "error"
        assert [(child.tag, child.text) for child in root] == [
            ("type", "Server.ClientProxy.OutdatedGlobalConf"),
            ("message", "old"),
            ("detail", "d"),
        ]

    def test_xml_escapes_markup(self) -> None:
        """A message quoting client input cannot break or inject XML."""
        message = "path '<a href=\"x\">&amp;</a>' ]]> refused"
        _, _, body = error_response(BadRequest(message), "application/xml")
        root = ET.fromstring(body)  # noqa: S314 -- our own output
        assert root.findtext("message") == message
        assert b"<a href" not in body

    def test_control_characters_do_not_break_the_body(self) -> None:
        """XML 1.0 cannot carry C0 controls even escaped: they become U+FFFD in both forms."""
        error = BadRequest("bad \x00 byte \x1b and \ud800")
        _, _, xml_body = error_response(error, "text/xml")
        _, _, json_body = error_response(error, None)
        expected = "bad \ufffd byte \ufffd and \ufffd"
        assert ET.fromstring(xml_body).findtext("message") == expected  # noqa: S314
        assert json.loads(json_body)["message"] == expected

    def test_render_is_error_response(self) -> None:
        """A fault renders itself, as STYLE.md asks, through the same function."""
        error = ServerProxyAccessDenied("no", detail="d")
        assert error.render("text/xml") == error_response(error, "text/xml")

    @given(message=st.text(), detail=st.text(), accept=st.none() | st.text())
    def test_any_text_renders_to_a_parseable_body(
        self, message: str, detail: str, accept: str | None
    ) -> None:
        """Whatever the message and Accept header, the body parses and carries the code."""
        error = InvalidClientIdentifier(message, detail=detail)
        status, raw, body = error_response(error, accept)
        assert status == 400
        assert _headers(raw)[b"content-length"] == str(len(body)).encode()
        if wants_xml(accept):
            assert ET.fromstring(body).findtext("type") == error.code  # noqa: S314
        else:
            assert json.loads(body)["type"] == error.code


class TestContentNegotiation:
    @pytest.mark.parametrize(
        ("accept", "xml"),
        [
            (None, False),
            ("", False),
            ("*/*", False),
            ("application/json", False),
            ("application/*", False),
            ("text/html", False),
            ("application/xml", True),
            ("text/xml", True),
            ("text/*", True),
            ("application/json, application/xml", False),
            ("application/xml, application/json", False),
            ("application/xml, application/json;q=0.9", True),
            ("application/json;q=0.9, text/xml;q=0.95", True),
            ("application/xml;q=0.5, */*;q=0.1", True),
            ("application/xml;q=0, */*", False),
            ("text/*;q=0.8, application/json;q=0.8", False),
            ("TEXT/XML", True),
            ("application/xml;charset=utf-8;q=1.0", True),
            ("application/xml;q=2", False),
            ("application/xml;q=abc, application/json;q=0.1", False),
            ("application/xml;q=0.1234", False),
            ("garbage, ;;, /, */xml", False),
        ],
    )
    def test_wants_xml(self, accept: str | None, xml: bool) -> None:
        """XML only when an XML type is rated strictly above JSON; JSON wins ties (§4.3)."""
        assert wants_xml(accept) is xml

    def test_most_specific_range_wins(self) -> None:
        """RFC 9110 §12.5.1: text/xml;q=0 excludes it even if text/* is acceptable."""
        accept = "text/*;q=0.9, text/xml;q=0"
        assert accept_quality(accept, "text/xml") == 0.0
        assert accept_quality(accept, "text/plain") == 0.9

    def test_no_accept_accepts_everything(self) -> None:
        """A missing Accept means any type is fine (RFC 9110 §12.5.1)."""
        assert accept_quality(None, "application/json") == 1.0

    @given(st.text())
    def test_never_raises(self, accept: str) -> None:
        """Malformed Accept headers are read leniently, never refused."""
        assert isinstance(wants_xml(accept), bool)


def test_module_lists_every_fault_in_all() -> None:
    """Every concrete fault is public API."""
    assert {cls.__name__ for cls in CONCRETE} <= set(errors.__all__)
