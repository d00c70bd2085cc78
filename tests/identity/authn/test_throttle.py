"""Brute-force protection: progressive delays, lockout, admin unlock, per-address limits."""

from __future__ import annotations

import pytest

from jisr.identity.authn import (
    AccountLocked,
    Accounts,
    Authenticator,
    AuthnSettings,
    InvalidCredentials,
    Throttled,
    address_key,
)
from jisr.identity.authn.throttle import progressive_delay
from tests.identity.authn.conftest import ADDRESS, PASSWORD, Clock

WRONG = "not the password"


async def fail(authenticator: Authenticator, nin: str, address: str = ADDRESS) -> None:
    with pytest.raises(InvalidCredentials):
        await authenticator.authenticate_password(nin, WRONG, address)


async def fail_times(
    authenticator: Authenticator, clock: Clock, nin: str, times: int, address: str = ADDRESS
) -> None:
    """Fail ``times`` times, waiting out each delay as a patient attacker would."""
    for _ in range(times):
        try:
            await fail(authenticator, nin, address)
        except Throttled as throttled:
            clock.advance(seconds=throttled.retry_after)
            await fail(authenticator, nin, address)


class TestDelays:
    def test_delay_doubles_after_the_free_failures_up_to_the_maximum(self) -> None:
        """0 s for the first three failures, then 1, 2, 4 … s, capped at five minutes."""
        settings = AuthnSettings()
        delays = [progressive_delay(n, 3, settings).total_seconds() for n in (3, 4, 5, 6, 40)]
        assert delays == [0, 1, 2, 4, 300]

    async def test_fourth_failure_makes_the_caller_wait(
        self, authenticator: Authenticator, active: str, clock: Clock
    ) -> None:
        """After four failures even the right password must wait; the wait is reported."""
        await fail_times(authenticator, clock, active, 4)
        with pytest.raises(Throttled) as caught:
            await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        assert caught.value.retry_after == 1.0
        clock.advance(seconds=1)
        assert (await authenticator.authenticate_password(active, PASSWORD, ADDRESS)).nin == active

    async def test_success_resets_the_account_count(
        self, authenticator: Authenticator, active: str, clock: Clock
    ) -> None:
        """A successful login forgets earlier failures of the account."""
        await fail_times(authenticator, clock, active, 3)
        await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        await fail_times(authenticator, clock, active, 3)
        await authenticator.authenticate_password(active, PASSWORD, ADDRESS)


class TestLockout:
    async def test_ten_failures_lock_until_an_admin_unlocks(
        self, authenticator: Authenticator, accounts: Accounts, active: str, clock: Clock
    ) -> None:
        """The tenth consecutive failure locks the account against every address."""
        await fail_times(authenticator, clock, active, 10)
        clock.advance(hours=1)
        with pytest.raises(AccountLocked):
            await authenticator.authenticate_password(active, PASSWORD, "198.51.100.7")
        assert (await accounts.get(active)).status == "locked"
        assert (await accounts.unlock(active)).status == "active"
        assert (await authenticator.authenticate_password(active, PASSWORD, ADDRESS)).nin == active

    async def test_unknown_nin_locks_the_same_way(
        self, authenticator: Authenticator, clock: Clock
    ) -> None:
        """Lockout does not reveal whether an account exists."""
        await fail_times(authenticator, clock, "BK9999999", 10)
        with pytest.raises(AccountLocked):
            await authenticator.authenticate_password("BK9999999", WRONG, ADDRESS)


class TestAddress:
    async def test_one_address_is_throttled_across_accounts(
        self, authenticator: Authenticator, active: str
    ) -> None:
        """Eleven failures on eleven different NINs from one address throttle that address."""
        for i in range(11):
            await fail(authenticator, f"BK10000{i:02d}")
        with pytest.raises(Throttled):
            await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        assert (await authenticator.authenticate_password(active, PASSWORD, "198.51.100.7")).nin

    async def test_address_is_forgotten_after_a_quiet_window(
        self, authenticator: Authenticator, active: str, clock: Clock
    ) -> None:
        """Fifteen quiet minutes clear an address's count."""
        for i in range(11):
            try:
                await fail(authenticator, f"BK20000{i:02d}")
            except Throttled as throttled:
                clock.advance(seconds=throttled.retry_after)
        clock.advance(minutes=16)
        assert (await authenticator.authenticate_password(active, PASSWORD, ADDRESS)).nin

    async def test_account_delay_applies_from_every_address(
        self, authenticator: Authenticator, active: str, clock: Clock
    ) -> None:
        """Changing address does not escape the account's delay."""
        await fail_times(authenticator, clock, active, 4)
        with pytest.raises(Throttled):
            await authenticator.authenticate_password(active, PASSWORD, "203.0.113.9")

    def test_ipv6_counts_by_slash_64(self) -> None:
        """Addresses of one IPv6 /64 share a counter; IPv4-mapped count as IPv4."""
        assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
        assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
        assert address_key("192.0.2.1") == "192.0.2.1"
