"""Text helpers: a small, typed example of a public API worth testing."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, separator: str = "-") -> str:
    """Turn text into a lowercase ASCII slug, for URLs and file names.

    >>> slugify("Héllo, Wörld!")
    'hello-world'

    Raises ValueError if the separator is empty or would be slugified away.
    """
    if not separator or _NOT_WORD.fullmatch(separator) is None:
        raise ValueError(
            f"separator must be one or more non-alphanumeric characters, "
            f"got {separator!r}"
        )
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    return _NOT_WORD.sub(separator, ascii_text.lower()).strip(separator)
