"""Interop with pycose (an independent COSE implementation).

verify CODE_HEX PUBLIC_HEX      -> exit 0 when pycose verifies the service's code
make SECRET_HEX PAYLOAD_HEX     -> prints the hex of a COSE_Sign1 made by pycose
"""
import sys

from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import CoseMessage, Sign1Message
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
import hashlib


def verify(code_hex: str, public_hex: str) -> int:
    message = CoseMessage.decode(bytes.fromhex(code_hex))
    message.key = OKPKey(crv=Ed25519, x=bytes.fromhex(public_hex))
    ok = message.verify_signature()
    kid = hashlib.sha256(bytes.fromhex(public_hex)).digest()[:8]
    ok = ok and message.phdr.get(KID) == kid and message.phdr.get(Algorithm) in (EdDSA, -8)
    print("verified" if ok else "NOT verified")
    return 0 if ok else 1


def make(secret_hex: str, payload_hex: str) -> int:
    secret = bytes.fromhex(secret_hex)
    public = Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = hashlib.sha256(public).digest()[:8]
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: kid}, payload=bytes.fromhex(payload_hex))
    message.key = OKPKey(crv=Ed25519, d=secret, x=public)
    print(message.encode(tag=True).hex())
    return 0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit({"verify": verify, "make": make}[command](*args))
