"""LiveCodeBench's packed tests, unpacked without running anything.

LiveCodeBench ships the hidden tests of its later problems packed: base64 of zlib of a
pickle of a JSON string. Its own loader calls ``pickle.loads`` on what it downloaded, and a
pickle can run any code it names. Here nothing is unpickled: the pickle's opcodes are read
(``pickletools.genops``, which only parses), and it is taken only if it is one string and
nothing else (a protocol header, frames, one string, the memo, the stop). A pickle that
would build, import or call anything is refused, and nothing in it runs.
"""

from __future__ import annotations

import base64
import binascii
import zlib

from koderz.errors import DataError

__all__ = ["MAX_UNPACKED", "unpack"]

MAX_UNPACKED = 4 << 30
"""Bytes a packed field may inflate to (a zlib bomb stops here)."""

_STRINGS = frozenset(("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"))
_HARMLESS = frozenset(("PROTO", "FRAME", "MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT", "STOP"))


def unpack(text: str, *, where: str) -> str:
    """The JSON string packed in ``text`` (base64 of zlib of a pickle of a string).

    Args:
        text: The packed field as the file holds it.
        where: The file and row, for the message (``test5.jsonl, question_id 3211``).

    Raises:
        DataError: ``text`` is not packed so, or its pickle holds anything but one string
            (the message names ``where`` and the first opcode refused).

    Examples:
        >>> import pickle, zlib, base64
        >>> packed = base64.b64encode(zlib.compress(pickle.dumps('[{"input": "1"}]')))
        >>> unpack(packed.decode(), where="test.jsonl, question_id 1")
        '[{"input": "1"}]'
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=False)
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_UNPACKED)
    except (binascii.Error, ValueError, zlib.error) as e:
        raise DataError(f"{where}: the private tests are neither JSON nor packed ({e})") from None
    if inflater.unconsumed_tail:
        raise DataError(f"{where}: the packed private tests inflate past {MAX_UNPACKED} bytes")
    return _only_string(data, where)


def _only_string(data: bytes, where: str) -> str:
    """The one string a pickle holds, read from its opcodes; refused if it holds more."""
    strings: list[str] = []
    refused = ""
    try:
        import pickletools  # only where a test is packed: ~3 ms to import

        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in _STRINGS and isinstance(arg, str):
                strings.append(arg)
            elif opcode.name not in _HARMLESS and not refused:
                refused = opcode.name
    except Exception as e:  # a malformed pickle: genops only parses, so nothing ran
        raise DataError(
            f"{where}: the packed private tests are not a readable pickle ({e})"
        ) from None
    if refused or len(strings) != 1:
        what = f"would run {refused}" if refused else f"holds {len(strings)} strings"
        raise DataError(
            f"{where}: refused the packed private tests: their pickle {what}, where "
            "LiveCodeBench packs one JSON string (nothing of it was run)"
        )
    return strings[0]
