"""Argon2id parameters, hashing, rehash detection and the password policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jisr.identity.authn import (
    Argon2Settings,
    AuthnSettings,
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)

NIN = "BK1234567"


class TestArgon2Settings:
    def test_default_is_keycloaks_and_owasps_m7_t5_p1(self) -> None:
        """The default cost is Keycloak's: Argon2id, 5 iterations, 7 MiB, parallelism 1."""
        params = Argon2Settings()
        assert (params.time_cost, params.memory_cost_kib, params.parallelism) == (5, 7168, 1)

    @pytest.mark.parametrize(("memory", "time"), [(7168, 4), (19455, 2), (47103, 1), (9216, 3)])
    def test_below_every_owasp_minimum_is_refused(self, memory: int, time: int) -> None:
        """Parameters weaker than all five OWASP equivalents cannot be configured."""
        with pytest.raises(ValidationError, match="OWASP"):
            Argon2Settings(memory_cost_kib=memory, time_cost=time)

    @pytest.mark.parametrize(("memory", "time"), [(19456, 2), (47104, 1), (12288, 3)])
    def test_other_owasp_options_are_accepted(self, memory: int, time: int) -> None:
        """Each OWASP equivalent configuration is accepted."""
        assert Argon2Settings(memory_cost_kib=memory, time_cost=time).time_cost == time


class TestHashing:
    def test_hash_is_argon2id_with_the_configured_cost(self) -> None:
        """The PHC string names Argon2id and the configured m, t, p."""
        encoded = hash_password("a long enough secret", Argon2Settings())
        assert encoded.startswith("$argon2id$v=19$m=7168,t=5,p=1$")

    def test_verify_accepts_the_password_and_refuses_others(self) -> None:
        """Only the hashed password verifies; a garbage hash verifies nothing."""
        encoded = hash_password("a long enough secret", Argon2Settings())
        assert verify_password(encoded, "a long enough secret")
        assert not verify_password(encoded, "a long enough secreT")
        assert not verify_password("not a hash", "a long enough secret")

    def test_verify_normalises_unicode(self) -> None:
        """A composed and a decomposed é are the same password (NFKC)."""
        encoded = hash_password("caf\u00e9 au lait noir", Argon2Settings())
        assert verify_password(encoded, "cafe\u0301 au lait noir")

    def test_rehash_needed_only_when_parameters_changed(self) -> None:
        """A hash made with other parameters needs a rehash; a current one does not."""
        old = hash_password(
            "a long enough secret", Argon2Settings(memory_cost_kib=19456, time_cost=2)
        )
        assert needs_rehash(old, Argon2Settings())
        assert not needs_rehash(hash_password("x" * 12, Argon2Settings()), Argon2Settings())


class TestPolicy:
    settings = AuthnSettings()

    def test_good_password_has_no_problem(self) -> None:
        """A long, uncommon password without the NIN passes."""
        assert (
            password_problems("correct horse battery staple", nin=NIN, settings=self.settings) == []
        )

    def test_short_password_is_refused_with_the_minimum(self) -> None:
        """Fewer than 12 characters is refused and the reason names the minimum."""
        assert password_problems("short pass!", nin=NIN, settings=self.settings) == [
            "use at least 12 characters"
        ]

    def test_common_password_is_refused_case_insensitively(self) -> None:
        """A password on the built-in common list is refused whatever its case."""
        with pytest.raises(WeakPassword) as caught:
            check_password("Password1234", nin=NIN, settings=self.settings)
        assert caught.value.reasons == ["this password is among the most common ones"]
        assert caught.value.code == "weak_password"

    def test_password_containing_the_nin_is_refused(self) -> None:
        """The person's own NIN, in any case, cannot be part of the password."""
        problems = password_problems("my id is bk1234567 ok", nin=NIN, settings=self.settings)
        assert problems == ["do not include your national identification number"]

    def test_every_broken_rule_is_listed(self) -> None:
        """A password breaking two rules reports both."""
        problems = password_problems(NIN, nin=NIN, settings=self.settings)
        assert len(problems) == 2
