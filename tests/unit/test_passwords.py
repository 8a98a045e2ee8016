"""clientarea.passwords: the NIST SP 800-63B-4 acceptance rules and argon2id hashing."""

from __future__ import annotations

import hashlib
import re

import pytest
from clientarea import passwords
from clientarea.errors import WeakPassword

# 128 distinct-looking characters: no repetition, not in any list.
PASSPHRASE = "correct horse battery staple 9"
RANDOM_128 = hashlib.sha512(b"clientarea password tests").hexdigest()
assert len(RANDOM_128) == 128


def _reason(password: str, *, login: str | None = None, email: str | None = None) -> str | None:
    """The WeakPassword reason the policy gives, or None when the password is accepted."""
    try:
        passwords.check_policy(password, login=login, email=email)
    except WeakPassword as exc:
        return exc.reason
    return None


# --- length -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "reason"),
    [(14, "too_short"), (15, None), (128, None), (129, "too_long")],
)
def test_length_limits_are_exact(length, reason):
    # GIVEN a password of exactly `length` characters that breaks no other rule
    password = (RANDOM_128 + "Zq")[:length]
    assert len(password) == length
    # WHEN the policy checks it
    # THEN it is refused just below 15 and just above 128, accepted at both limits
    assert _reason(password) == reason


def test_empty_password_is_too_short():
    # GIVEN nothing typed
    # WHEN the policy checks it / THEN it is too short (not accepted, not an error)
    assert _reason("") == "too_short"


def test_length_is_counted_after_nfkc_normalisation():
    # GIVEN 13 letters and the ligature "ﬃ" (one character that NFKC turns into "ffi")
    password = RANDOM_128[:13] + "\ufb03"
    assert len(password) == 14
    # WHEN the policy checks it
    # THEN the normalised 16-character password is long enough
    assert _reason(password) is None
    # AND 14 plain characters (no ligature) are still refused
    assert _reason(RANDOM_128[:14]) == "too_short"


def test_length_counts_characters_not_bytes():
    # GIVEN 15 Cyrillic letters (30 bytes in UTF-8)
    password = "щастязавждипоря"
    assert len(password) == 15
    # WHEN the policy checks it / THEN it is accepted: 15 characters is the minimum
    assert _reason(password) is None
    # AND 14 of them are refused
    assert _reason(password[:14]) == "too_short"


# --- common values ------------------------------------------------------------------


@pytest.mark.parametrize("password", ["1q2w3e4r5t6y7u8i9o0p", "QAZWSXEDCRFVTGB", "123456789123456"])
def test_blocklisted_passwords_are_common_in_any_case(password):
    # GIVEN a 15+ character value from the common-password list (any capitalisation)
    # WHEN the policy checks it / THEN it is refused as common
    assert _reason(password) == "common"


@pytest.mark.parametrize(
    "password",
    ["passwordpassword", "abcabcabcabcabc", "aaaaaaaaaaaaaaaaaaaa", "AbcABCabcABCabc", "xy" * 40],
)
def test_repeated_chunks_are_common(password):
    # GIVEN a password that is one short chunk typed again and again
    # WHEN the policy checks it / THEN it is refused as common
    assert _reason(password) == "common"


def test_almost_repetition_is_accepted():
    # GIVEN a repetition broken by its last character
    # WHEN the policy checks it / THEN it is not a repetition
    assert _reason("abcabcabcabcabd") is None
    assert _reason("passwordpassword!") is None


# --- personal information -----------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["my johnsmith passphrase", "MY JOHNSMITH PASSPHRASE", "xxJohnSmithxxxxxx"]
)
def test_password_containing_the_login_is_refused_in_any_case(password):
    # GIVEN the account's login "johnsmith"
    # WHEN the password contains it in any capitalisation
    # THEN the policy names the login as the reason
    assert _reason(password, login="johnsmith", email="other@example.com") == "contains_login"


def test_login_rule_only_applies_when_a_login_is_known():
    # GIVEN no login (it is generated later)
    # WHEN the password merely looks like a login / THEN it is accepted
    assert _reason("my johnsmith passphrase", login=None, email=None) is None


@pytest.mark.parametrize(
    "password",
    [
        "mail JANE.DOE@EXAMPLE.COM now",  # the whole address
        "i am jane.doe really",  # the local part (4+ characters)
        "Jane.Doe forever and ever",  # the local part, other case
    ],
)
def test_password_containing_the_email_is_refused_in_any_case(password):
    # GIVEN the contact email jane.doe@example.com
    # WHEN the password contains the address or its local part, in any capitalisation
    # THEN the policy names the email as the reason
    assert _reason(password, login="janed", email="jane.doe@example.com") == "contains_email"


def test_very_short_local_part_alone_does_not_refuse():
    # GIVEN the address al@example.com (a 2-letter local part would refuse most passwords)
    # WHEN the password happens to contain "al" / THEN it is accepted
    assert _reason("totally normal phrase", login=None, email="al@example.com") is None
    # BUT the whole address is still refused
    assert _reason("al@example.com is me!", login=None, email="al@example.com") == "contains_email"


def test_fine_passphrase_is_accepted():
    # GIVEN a long passphrase unrelated to the account
    # WHEN the policy checks it / THEN nothing is refused
    assert (
        _reason("correct horse battery staple 9", login="jdoe1", email="jane@example.com") is None
    )


# --- hashing ------------------------------------------------------------------------


def test_hash_is_argon2id_with_owasp_parameters():
    # GIVEN a password
    # WHEN it is hashed
    encoded = passwords.hash_password("correct horse battery staple 9")
    # THEN the PHC string says argon2id v19 with m=19456 KiB, t=2, p=1 and carries salt and hash
    match = re.fullmatch(
        r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)", encoded
    )
    assert match, encoded
    assert (int(match[1]), int(match[2]), int(match[3])) == (19456, 2, 1)
    # AND the plaintext is nowhere in it
    assert "correct horse" not in encoded


def test_same_password_hashes_differently_each_time():
    # GIVEN one password hashed twice
    first = passwords.hash_password("correct horse battery staple 9")
    second = passwords.hash_password("correct horse battery staple 9")
    # THEN the salts differ, so the hashes differ, and both verify
    assert first != second
    assert passwords.verify_password(first, "correct horse battery staple 9")
    assert passwords.verify_password(second, "correct horse battery staple 9")


def test_verify_accepts_the_right_password_only():
    # GIVEN a stored hash
    stored = passwords.hash_password("correct horse battery staple 9")
    # THEN the right password verifies and near misses do not
    assert passwords.verify_password(stored, "correct horse battery staple 9") is True
    assert passwords.verify_password(stored, "correct horse battery staple 8") is False
    assert passwords.verify_password(stored, "Correct horse battery staple 9") is False
    assert passwords.verify_password(stored, "") is False


def test_fullwidth_password_equals_its_ascii_form():
    # GIVEN a password set from an ASCII keyboard
    stored = passwords.hash_password("correct horse battery staple 9")
    # WHEN the same passphrase is typed with fullwidth characters (NFKC-equivalent)
    fullwidth = "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in PASSPHRASE)
    assert fullwidth[:3] == "\uff43\uff4f\uff52"  # FULLWIDTH LATIN SMALL LETTER C, O, R
    assert fullwidth != "correct horse battery staple 9"
    # THEN it verifies, and the reverse holds too
    assert passwords.verify_password(stored, fullwidth) is True
    assert passwords.verify_password(
        passwords.hash_password(fullwidth), "correct horse battery staple 9"
    )


def test_no_stored_hash_never_verifies():
    # GIVEN no account (no hash)
    # WHEN any password is checked, even the dummy hash's own text / THEN it is refused
    assert passwords.verify_password(None, "anything at all here") is False
    assert (
        passwords.verify_password(None, "clientarea: equalise the time of unknown logins") is False
    )
    assert passwords.verify_password("", "anything at all here") is False


def test_corrupt_hash_is_refused_without_raising():
    # GIVEN a stored value that is not an argon2 hash
    # WHEN it is checked / THEN the answer is simply False
    assert passwords.verify_password("not-a-hash", "correct horse battery staple 9") is False
    assert passwords.verify_password("$argon2id$v=19$m=19456,t=2,p=1$xx$yy", "x" * 20) is False
