"""The IISG's people, kept by the Secretariat: the list, inviting a person, their roles."""

from webui.people.routes import bp

__all__ = ["bp"]
