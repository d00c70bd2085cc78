"""OpenID Connect provider, first slice: client credentials, revocation, introspection.

Built on Authlib's grant and endpoint classes (:mod:`.server`) behind a small async adapter
(:mod:`.adapter`), joserfc for every JWS, keys rotated next → active → retired (:mod:`.keys`).
See docs/oidc.md.
"""

from jisr.identity.oidc.app import OidcScope, create_app, discovery_document
from jisr.identity.oidc.clients import Client, ClientMetadata, Registered, register_client
from jisr.identity.oidc.errors import AssertionRefused, KeyRingError, OidcError, RegistrationError
from jisr.identity.oidc.keys import KeyRing, SigningKey
from jisr.identity.oidc.provider import OidcProvider, migrate
from jisr.identity.oidc.settings import OidcSettings

__all__ = [
    "AssertionRefused",
    "Client",
    "ClientMetadata",
    "KeyRing",
    "KeyRingError",
    "OidcError",
    "OidcProvider",
    "OidcScope",
    "OidcSettings",
    "Registered",
    "RegistrationError",
    "SigningKey",
    "create_app",
    "discovery_document",
    "migrate",
    "register_client",
]
