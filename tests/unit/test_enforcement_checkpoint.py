"""Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint), checked against published examples.

The vectors: C2SP signed-note's own example (example.com/foo), and Go's
golang.org/x/mod/sumdb/note tests (PeterNeumann, EnochRoot), whose Ed25519 signatures are
deterministic, so signing the same text with the same key must give the same line.
"""

from __future__ import annotations

import pytest

from reelguard.enforcement.checkpoint import Checkpoint, NoteSigner, NoteVerifier, open_note
from reelguard.enforcement.merkle import leaf_hash
from reelguard.errors import EvidenceInvalid

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = ("This is an example message.\n\n— example.com/foo "
             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def test_signing_gives_byte_for_byte_the_note_go_signs() -> None:
    signer = NoteSigner.from_skey(GO_SKEY)
    assert signer.vkey == GO_VKEY
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + GO_SIG


def test_published_notes_verify_and_unknown_signers_are_ignored() -> None:
    assert open_note(C2SP_NOTE, [NoteVerifier(C2SP_VKEY)]) == "This is an example message.\n"
    both = GO_TEXT + "\n" + GO_SIG + ENOCH_SIG
    assert open_note(both, [NoteVerifier(GO_VKEY)]) == GO_TEXT  # EnochRoot unknown here: ignored
    assert open_note(both, [NoteVerifier(ENOCH_VKEY)]) == GO_TEXT
    with pytest.raises(EvidenceInvalid, match="no signature on the note is by a trusted key"):
        open_note(both, [NoteVerifier(C2SP_VKEY)])


def test_a_signature_by_a_known_key_that_fails_rejects_the_note() -> None:
    changed = GO_TEXT.replace("problem,", "problem;") + "\n" + GO_SIG
    with pytest.raises(EvidenceInvalid, match="does not verify"):
        open_note(changed, [NoteVerifier(GO_VKEY)])


def test_a_checkpoint_round_trips_and_every_changed_byte_is_caught() -> None:
    signer = NoteSigner.generate("example.org/reelguard/evidence")
    checkpoint = Checkpoint("example.org/reelguard/evidence", 20852163, leaf_hash(b"root"))
    note = signer.sign(checkpoint.text())
    verifiers = [NoteVerifier(signer.vkey)]
    assert Checkpoint.parse(open_note(note, verifiers), origin=signer.name) == checkpoint
    raw = note.encode()
    for position in range(len(raw)):
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        with pytest.raises(EvidenceInvalid):
            Checkpoint.parse(open_note(bytes(flipped), verifiers), origin=signer.name)


@pytest.mark.parametrize(("text", "said"), [
    ("log\n007\n" + "A" * 43 + "=\n", "leading zeros"),
    ("log\n7\nnot-base64!\n", "base64"),
    ("log\n7\n" + "AAAA\n", "32-byte root"),
    ("log\n7\n", "origin, tree size and root hash"),
    ("other\n7\n" + "A" * 43 + "=\n", "expected a checkpoint of log 'log'"),
])
def test_a_checkpoint_that_is_not_one_is_refused(text: str, said: str) -> None:
    with pytest.raises(EvidenceInvalid, match=said):
        Checkpoint.parse(text, origin="log")


def test_extension_lines_are_kept_and_keys_that_are_not_keys_are_refused() -> None:
    parsed = Checkpoint.parse("log\n0\n" + "A" * 43 + "=\nextra line\n")
    assert parsed.extensions == ("extra line",) and parsed.size == 0
    for bad in ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key ID of another key
                "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not Ed25519
                "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "no-plus-signs"):
        with pytest.raises(EvidenceInvalid):
            NoteVerifier(bad)
    with pytest.raises(EvidenceInvalid) as caught:
        NoteSigner.from_skey(GO_SKEY.replace("c74f20a3", "00000000"))
    assert "AYEKFALV" not in str(caught.value)  # a signer key's value is never said
