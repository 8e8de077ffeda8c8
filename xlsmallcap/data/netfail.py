"""A network failure in one plain line, and whether the source is unreachable for the run."""

from __future__ import annotations

import re

#: Markers of "this source cannot be reached at all" (as opposed to one bad series): the rest
#: of that source's series are skipped instead of each waiting for its own time-out.
_UNREACHABLE = [
    (re.compile(r"could not resolve host|name or service not known|nodename nor servname|"
                r"temporary failure in name resolution|getaddrinfo|dnserror", re.I),
     "no network: the host cannot be found"),
    (re.compile(r"timed? ?out|timeout", re.I), "no answer within the time-out"),
    (re.compile(r"connection refused|network is unreachable|no route to host|"
                r"connection reset|failed to connect", re.I), "no connection"),
]
_RATE = re.compile(r"rate.?limit|too many requests|\b429\b", re.I)


def plain_reason(message: str) -> tuple[str, bool]:
    """(one plain line, unreachable?) for a download failure's message: library internals
    such as curl codes, exception class names and URLs are left out."""
    for pattern, words in _UNREACHABLE:
        if pattern.search(message):
            return words, True
    if _RATE.search(message):
        return "rate limited by the source; try again later", False
    first = re.sub(r"https?://\S+", "", message.split("\n")[0])
    first = re.sub(r"\(?[A-Z][A-Za-z]+Error\)?:?\s*", "", first).strip(" ;:")
    return (first[:120] + ("..." if len(first) > 120 else "")), False
