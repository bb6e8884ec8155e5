"""What the tests of untrusted and hostile files require of text bound for a terminal."""

import re

# What may not reach a terminal raw: the C0 and C1 controls but tab and line feed, DEL, and
# the bidirectional controls (brainsim.errors.visible writes each as an escape).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def assert_printable(text: str) -> None:
    """`text` holds no character that would act on a terminal rather than print."""
    assert not RAW_CONTROL.search(text), repr(text)
