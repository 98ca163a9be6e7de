"""The IISG procedures' Python side: roles, accounts, the methodology's diagrams, demo data,
and the service tasks the diagrams call (registered with the engine on import).

Imports engine and models; never imports Flask.
"""

from workflows import decisions as decisions  # registers the Board's service tasks
from workflows import methodology as methodology  # registers the amendment's service tasks
