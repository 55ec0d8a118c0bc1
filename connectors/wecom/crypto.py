"""WeCom's callback signature and encryption (企业微信 回调 "加解密方案").

    msg_signature = sha1(sorted([token, timestamp, nonce, encrypt]) joined)
    aes_key       = base64decode(EncodingAESKey + "=")          (32 bytes: AES-256)
    cipher        = AES-256-CBC, IV = aes_key[:16], PKCS#7 padding to 32-byte blocks
    plaintext     = 16 random bytes + len(msg) as 4 bytes, network order + msg + receive id

The receive id of a self-built app's callback is the corp id; a message for another one is
refused. The cipher is `cryptography`'s; nothing here implements one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 32 * 8  # WeCom pads to 32 bytes, not AES's 16


class Refused(Exception):
    """`status`: 403 for a signature that does not match, 400 for a payload that does not
    decrypt to a message for this corp."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key of a 43-character EncodingAESKey; ValueError for anything else."""
    if len(encoding_aes_key or "") != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - WeCom's documented scheme


def verify(token: str, timestamp: str, nonce: str, encrypt: str, msg_signature: str) -> None:
    expected = signature(token, timestamp or "", nonce or "", encrypt or "")
    offered = (msg_signature or "").lower().encode()  # bytes: any text may arrive
    if not offered or not hmac.compare_digest(expected.encode(), offered):
        raise Refused(403, "signature")


def decrypt(encoding_aes_key: str, encrypt: str, receive_id: str) -> str:
    """The message inside `encrypt`, checked to be for `receive_id`."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypt, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(400, "base64") from None
    if not data or len(data) % 16:
        raise Refused(400, "length")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise Refused(400, "padding") from None
    if len(plain) < 20:
        raise Refused(400, "length")
    (size,) = struct.unpack(">I", plain[16:20])
    message, rest = plain[20 : 20 + size], plain[20 + size :]
    if len(message) != size:
        raise Refused(400, "length")
    if not hmac.compare_digest(rest, receive_id.encode()):
        raise Refused(400, "receive_id")
    try:
        return message.decode()
    except UnicodeDecodeError:
        raise Refused(400, "encoding") from None


def verify_and_decrypt(
    *, token, encoding_aes_key, receive_id, msg_signature, timestamp, nonce, encrypt
) -> str:
    verify(token, timestamp, nonce, encrypt, msg_signature)
    return decrypt(encoding_aes_key, encrypt, receive_id)
