"""Personal access tokens for the JSON API: only a hash of each secret is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.people import User


class ApiToken(Base):
    """A token a user made to call the API as themselves; revoked, never deleted."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 (hex) of the whole secret: the secret is random and long, so a slow hash
    # would add nothing, and a lookup by hash compares no secret byte by byte.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, shown to tell one token from another.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
