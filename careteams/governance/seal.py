"""Sealed ballots: the key ceremony, sealing a choice, and opening with the tellers' shares.

Pure crypto, no Flask and no database (the services store what this returns).

- At scheduling a Curve25519 key pair is made (PyNaCl). The public key is stored;
  the private key is encrypted (AES-128-GCM, pycryptodome) with a random 16-byte
  key, and that key is split k-of-n with Shamir's scheme
  (`Crypto.Protocol.SecretSharing.Shamir`, which splits exactly 16 bytes). Only
  the encrypted private key is stored; each teller keeps one share.
- A choice is padded to a fixed length and sealed (`nacl.public.SealedBox`: a
  fresh ephemeral key per ballot), so every ciphertext has the same length and
  two ballots for the same option look unrelated.
- k shares rebuild the 16-byte key in memory, which decrypts the private key,
  which opens the ballots. Fewer (or wrong) shares fail the GCM tag: nothing opens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from Crypto.Cipher import AES
from Crypto.Protocol.SecretSharing import Shamir
from nacl.public import PrivateKey, PublicKey, SealedBox

# A choice is the option's key ("for", "against", "1".."20") or empty for an
# abstention, padded to this many bytes before sealing.
PADDED = 32
SEALED_LENGTH = PADDED + 48  # SealedBox adds an ephemeral public key (32) and a MAC (16)
MIN_SHARES, MAX_TELLERS = 1, 16
_SHARE = re.compile(r"^(\d{1,2})-([0-9A-F]{32})$")


class SealError(Exception):
    """The shares given do not open the count (too few, mistyped, or another vote's)."""


@dataclass(frozen=True)
class Ceremony:
    public_key: bytes
    sealed_private_key: bytes
    shares: list[str]  # one per teller, in teller order: "3-9F2A..." (index, 32 hex digits)
    shares_needed: int


def make_keys(tellers: int, shares_needed: int) -> Ceremony:
    """A fresh key pair for one resolution; the private key leaves only as shares."""
    if not MIN_SHARES <= shares_needed <= tellers <= MAX_TELLERS:
        raise ValueError("shares_needed must be between 1 and the number of tellers (at most 16)")
    private = PrivateKey.generate()
    key = secrets.token_bytes(16)
    sealed_private = _encrypt(key, bytes(private))
    if tellers == 1:
        shares = [(1, key)]  # one teller: her share is the key itself
    else:
        shares = Shamir.split(shares_needed, tellers, key, ssss=False)
    return Ceremony(public_key=bytes(private.public_key), sealed_private_key=sealed_private,
                    shares=[format_share(i, s) for i, s in shares], shares_needed=shares_needed)


def seal(public_key: bytes, choice: str | None) -> bytes:
    """Seal an option key (None: abstain) to the resolution's public key; always SEALED_LENGTH bytes."""
    raw = (choice or "").encode()
    if len(raw) > PADDED - 1:
        raise ValueError("choice too long to seal")
    padded = bytes([len(raw)]) + raw + bytes(PADDED - 1 - len(raw))
    return SealedBox(PublicKey(public_key)).encrypt(padded)


def open_key(sealed_private_key: bytes, shares: list[str], shares_needed: int) -> PrivateKey:
    """Rebuild the private key from k shares, in memory. Raises SealError otherwise."""
    parsed = {}
    for share in shares:
        index, value = parse_share(share)
        parsed[index] = value
    if len(parsed) < shares_needed:
        raise SealError(f"{shares_needed} different shares are needed; {len(parsed)} given.")
    chosen = sorted(parsed.items())[:shares_needed] if shares_needed > 1 else sorted(parsed.items())
    try:
        key = Shamir.combine(chosen, ssss=False) if shares_needed > 1 else chosen[0][1]
        return PrivateKey(_decrypt(key, sealed_private_key))
    except (ValueError, TypeError, IndexError, ZeroDivisionError) as exc:  # a wrong share fails here or at the tag
        raise SealError("These shares do not open this vote: one is mistyped, or belongs to another vote.") from exc


def open_ballot(private_key: PrivateKey, sealed: bytes) -> str | None:
    """The option key sealed in a ballot (None: an abstention)."""
    return open_ballots(private_key, [sealed])[0]


def open_ballots(private_key: PrivateKey, sealed: Iterable[bytes]) -> list[str | None]:
    """Open many ballots in order with one box (a count of 100,000 is a tight loop)."""
    decrypt = SealedBox(private_key).decrypt
    opened: list[str | None] = []
    for ciphertext in sealed:
        padded = decrypt(bytes(ciphertext))
        opened.append(padded[1:1 + padded[0]].decode() or None)
    return opened


def format_share(index: int, value: bytes) -> str:
    """A share as a teller copies it: "2-9F2A1C..." (her number, then 32 hex digits)."""
    return f"{index}-{value.hex().upper()}"


def parse_share(text: str) -> tuple[int, bytes]:
    """Read a share back, forgiving spaces, dashes inside the digits and lower case."""
    cleaned = re.sub(r"\s+", "", text or "").upper()
    head, _, tail = cleaned.partition("-")
    match = _SHARE.match(f"{head}-{tail.replace('-', '')}")
    if not match or not 1 <= int(match.group(1)) <= MAX_TELLERS:
        raise SealError("A share is a number, a dash and 32 letters and digits (0-9, A-F).")
    return int(match.group(1)), bytes.fromhex(match.group(2))


def share_groups(share: str) -> str:
    """The share laid out for reading aloud and copying by hand: "2-9F2A 1C0B ..."."""
    index, _, digits = share.partition("-")
    return f"{index}-" + " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def wrap_share(app_secret: str, share: str, context: str) -> bytes:
    """A share waiting for its teller, encrypted under a key derived from the app's secret (never stored)."""
    return _encrypt(_wrap_key(app_secret), share.encode(), context.encode())


def unwrap_share(app_secret: str, wrapped: bytes, context: str) -> str:
    return _decrypt(_wrap_key(app_secret), wrapped, context.encode()).decode()


def _wrap_key(app_secret: str) -> bytes:
    return hmac.new(app_secret.encode(), b"careteams governance teller share", hashlib.sha256).digest()[:16]


def _encrypt(key: bytes, data: bytes, associated: bytes = b"") -> bytes:
    nonce = secrets.token_bytes(12)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(associated)
    body, tag = cipher.encrypt_and_digest(data)
    return nonce + tag + body


def _decrypt(key: bytes, blob: bytes, associated: bytes = b"") -> bytes:
    cipher = AES.new(key, AES.MODE_GCM, nonce=blob[:12])
    cipher.update(associated)
    return cipher.decrypt_and_verify(blob[28:], blob[12:28])
