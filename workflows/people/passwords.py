"""What makes a password a person may choose: long enough, and not easy to guess (common
passwords, words, names, dates, keyboard patterns, the person's own name), as zxcvbn judges."""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 10
# Argon2 hashes any length, but a megabyte typed into the form is not a password.
MAX_LENGTH = 256
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline attacks".
MIN_SCORE = 3


def password_weakness(password: str, *, about_the_person: Iterable[str] = ()) -> str | None:
    """Why `password` may not be chosen, in a sentence; None when it may.

    `about_the_person` are words an attacker would try first (user name, name, address)."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Choose a password of at most {MAX_LENGTH} characters."
    hints = [word for word in about_the_person if word]
    hints += ["iisg", "iisg procedures"]
    # zxcvbn's cost grows with the length; the first 100 characters decide its score.
    judged = zxcvbn(password[:100], user_inputs=hints)
    if judged["score"] >= MIN_SCORE:
        return None
    feedback = judged["feedback"]
    reasons = [feedback.get("warning") or "This password is easy to guess."]
    reasons += feedback.get("suggestions") or []
    return " ".join(reason.rstrip(".") + "." for reason in reasons if reason)
