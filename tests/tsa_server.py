"""A time-stamping authority on loopback for tests: OpenSSL's ``openssl ts -reply`` behind real HTTP.

Named a test server: a public TSA cannot be reached from here. It makes its own root
CA and a TSA certificate (extended key usage timeStamping, critical) and answers each
RFC 3161 request by running ``openssl ts -reply`` on it. ``mode`` makes it misbehave:
``down`` answers 503, ``garbage`` answers bytes that are not a token::

    with LocalTsa() as tsa:
        TimestampAuthority(tsa.url, roots=[tsa.root]).stamp(b"checkpoint")
"""

from __future__ import annotations

import datetime
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.source_servers import LoopbackServer

_USAGE = {"content_commitment": False, "key_encipherment": False, "data_encipherment": False,
          "key_agreement": False, "encipher_only": False, "decipher_only": False}


def make_authority(folder: Path, name: str = "reelguard test TSA") -> tuple[x509.Certificate, Path]:
    """A root certificate and an OpenSSL TSA configuration (its key and certificate) in ``folder``."""
    now = datetime.datetime.now(datetime.UTC)
    root_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def named(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def valid(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
        return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
            now + datetime.timedelta(days=30)).serial_number(x509.random_serial_number())

    root = valid(x509.CertificateBuilder().subject_name(named(f"{name} root")).issuer_name(named(f"{name} root"))
                 .public_key(root_key.public_key())
                 .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **_USAGE),
                                critical=True)).sign(root_key, hashes.SHA256())
    tsa = valid(x509.CertificateBuilder().subject_name(named(name)).issuer_name(root.subject)
                .public_key(tsa_key.public_key())
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                             **{**_USAGE, "content_commitment": True}), critical=True)
                ).sign(root_key, hashes.SHA256())
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(tsa_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    (folder / "serial").write_text("01\n")
    config = folder / "tsa.cnf"
    config.write_text(f"[ tsa ]\ndefault_tsa = reelguard\n[ reelguard ]\ndir = {folder}\nserial = $dir/serial\n"
                      "crypto_device = builtin\nsigner_cert = $dir/tsa.pem\nsigner_key = $dir/tsa.key\n"
                      "signer_digest = sha256\ndefault_policy = 1.3.6.1.4.1.57264.2.1\n"
                      "digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n"
                      "ess_cert_id_chain = no\ness_cert_id_alg = sha256\n")
    return root, config


class LocalTsa(LoopbackServer):
    __test__ = False
    content_type = "application/timestamp-reply"

    def __init__(self) -> None:
        super().__init__("127.0.0.1", "/tsa")
        self._folder = tempfile.TemporaryDirectory()
        self.root, self._config = make_authority(Path(self._folder.name))
        self.mode = ""  # "", "down", "garbage"
        self.requests = 0

    def answer_post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.requests += 1
        if self.mode == "down":
            return 503, b"maintenance"
        if self.mode == "garbage":
            return 200, b"\x30\x03\x02\x01\x00 not a token"
        with tempfile.TemporaryDirectory() as work:
            request, reply = Path(work) / "q.tsq", Path(work) / "r.tsr"
            request.write_bytes(body)
            done = subprocess.run(["openssl", "ts", "-reply", "-config", str(self._config), "-queryfile",
                                   str(request), "-out", str(reply)], capture_output=True, check=False)
            return (200, reply.read_bytes()) if done.returncode == 0 else (500, done.stderr[-500:])

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        super().__exit__(kind, error, trace)
        self._folder.cleanup()
