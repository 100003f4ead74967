"""The passwords Backstage's participants carry: a small pool of known values in every shape the spec lists.

bcrypt at cost 10 is slow (tens of milliseconds per hash), so the simulator hashes this pool once and reuses
it across people. Salts come from the seed, so the same seed gives byte-identical hashes. `$2a$` hashes are
genuine: the bcrypt package hashes with a `$2a$` salt directly (same algorithm as `$2b$`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import bcrypt

COST = 10
_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# shape -> the plaintexts of that shape. Plaintext values are distinctive so that a leak is findable.
PLAINTEXTS: dict[str, tuple[str, ...]] = {
    "bcrypt_2b": ("Sunrise-Psalm-42", "troop77-campfire", "Mediate!2024", "hospice-garden-9",
                  "dev-onboarding-1", "Kitchen_Rota_5"),
    "bcrypt_2a": ("bcryptjs-user-1", "Grace&Peace-2", "ScoutOath#3"),
    "double_bcrypt": ("twice-hashed-1", "twice-hashed-2"),
    "plaintext": ("letmein-backstage", "Welcome2024!", "password-plain-7", "changeme-123"),
    "plaintext_hashedpass": ("hashedpass",),
    "empty": ("",),
}
SHAPES = tuple(PLAINTEXTS)


@dataclass(frozen=True)
class PoolEntry:
    shape: str
    k: int  # position within the shape
    plaintext: str  # what a person types; for double_bcrypt the innermost password
    stored: str  # what public.participants.password holds


def _salt(seed: int, label: str, prefix: bytes) -> bytes:
    raw = hashlib.sha256(f"{seed}:salt:{label}".encode()).digest()[:16]
    encoded = base64.b64encode(raw).rstrip(b"=").translate(bytes.maketrans(_STANDARD, _BCRYPT))
    return b"$" + prefix + b"$" + str(COST).encode() + b"$" + encoded


def hash_password(plaintext: str, seed: int, label: str, prefix: bytes = b"2b") -> str:
    return bcrypt.hashpw(plaintext.encode(), _salt(seed, label, prefix)).decode()


def password_pool(seed: int) -> list[PoolEntry]:
    """Every (shape, k) the simulator can give a person, with the exact stored value."""
    entries = []
    for shape, plaintexts in PLAINTEXTS.items():
        for k, plaintext in enumerate(plaintexts):
            label = f"{shape}:{k}"
            if shape == "bcrypt_2b":
                stored = hash_password(plaintext, seed, label)
            elif shape == "bcrypt_2a":
                stored = hash_password(plaintext, seed, label, prefix=b"2a")
            elif shape == "double_bcrypt":
                inner = hash_password(plaintext, seed, label + ":inner")
                stored = hash_password(inner, seed, label)
            else:
                stored = plaintext
            entries.append(PoolEntry(shape, k, plaintext, stored))
    return entries
