"""Time-based one-time passwords (TOTP, RFC 6238 over HOTP, RFC 4226), and the sealing of their secrets.

Codes are 6 digits over a 30-second step with HMAC-SHA1, which is what every
authenticator app (Google/Microsoft Authenticator, 阿里云 / 腾讯身份验证器,
FreeOTP) understands by default. A code is accepted for the current step or
one step either side (clock drift), and only for a step later than the last
one accepted: the caller stores that step, so a code seen over a shoulder
cannot be used again.

Secrets are stored sealed with a key derived from SECRET_KEY, so that a copy
of the database alone yields no usable secret. The cipher is built from the
standard library only (there is no `cryptography` wheel to rely on offline):
a keystream of HMAC-SHA256 blocks over a random 16-byte nonce and a block
counter (a PRF in counter mode), encrypt-then-MAC with a separate HMAC-SHA256
key. Changing SECRET_KEY makes the sealed secrets unreadable unless the old
key is kept in SECRET_KEY_FALLBACKS; users then re-enrol after a reset.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

from django.conf import settings

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA1

_SEAL_VERSION = "v1"
_NONCE_BYTES = 16
_TAG_BYTES = 32


class SecretUnreadable(Exception):
    """A sealed secret that no current key opens (SECRET_KEY changed) or that was altered."""


def new_secret() -> str:
    """A fresh random secret, base32 without padding, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(secret: str, counter: int) -> str:
    """The RFC 4226 code for one counter value."""
    digest = hmac.new(_key_bytes(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def counter_at(at: float | None = None) -> int:
    """The time step of a Unix time (now by default)."""
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_at(secret: str, at: float | None = None) -> str:
    return hotp(secret, counter_at(at))


def matching_counter(
    secret: str, code: str, *, after: int | None = None, at: float | None = None
) -> int | None:
    """The step within the window whose code is `code` and which is later than `after`; None if none."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = counter_at(at)
    found = None
    # Compare every candidate, so that the time taken does not tell which step matched.
    for counter in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(hotp(secret, counter), code) and (after is None or counter > after):
            found = counter if found is None else found
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI that authenticator apps read from the QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str, *, title: str = "") -> str:
    """The QR code of `uri` as an inline <svg> element, drawn on the server (no script, no external file)."""
    import segno

    return segno.make_qr(uri, error="m").svg_inline(scale=4, border=2, title=title or None)


def group(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _derived(purpose: str, key: str) -> bytes:
    return hmac.new(key.encode(), f"guanjia.totp.{purpose}".encode(), hashlib.sha256).digest()


def _keystream(enc_key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for index in range((length + 31) // 32):
        blocks.append(hmac.new(enc_key, nonce + struct.pack(">I", index), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def _keys() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def seal_secret(secret: str) -> str:
    """Encrypt and authenticate a secret for storage, with the current SECRET_KEY."""
    key = _keys()[0]
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = secret.encode("ascii")
    cipher = bytes(
        a ^ b for a, b in zip(plain, _keystream(_derived("enc", key), nonce, len(plain)), strict=True)
    )
    tag = hmac.new(_derived("mac", key), nonce + cipher, hashlib.sha256).digest()
    return f"{_SEAL_VERSION}${base64.urlsafe_b64encode(nonce + cipher + tag).decode('ascii')}"


def open_secret(sealed: str) -> str:
    """The secret from its sealed form, with SECRET_KEY or one of SECRET_KEY_FALLBACKS."""
    version, _sep, body = sealed.partition("$")
    if version != _SEAL_VERSION:
        raise SecretUnreadable(sealed[:8])
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except ValueError as exc:
        raise SecretUnreadable("malformed") from exc
    if len(raw) <= _NONCE_BYTES + _TAG_BYTES:
        raise SecretUnreadable("too short")
    nonce, cipher, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    for key in _keys():
        expected = hmac.new(_derived("mac", key), nonce + cipher, hashlib.sha256).digest()
        if hmac.compare_digest(expected, tag):
            stream = _keystream(_derived("enc", key), nonce, len(cipher))
            return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode("ascii")
    raise SecretUnreadable("no key opens it")
