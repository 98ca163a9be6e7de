"""The IISG procedures' Python side: roles, accounts, the methodology's diagrams, demo data,
and the service tasks the diagrams call (registered with the engine on import).

Imports engine and models; never imports Flask.
"""

from workflows import decisions as decisions  # registers the Board's service tasks
from workflows import mail as mail  # mails the holders of every newly opened task
from workflows import membership as membership  # registers the membership's service tasks
from workflows import methodology as methodology  # registers the amendment's service tasks
from workflows import needs_mapping as needs_mapping  # registers the needs mapping's service tasks
from workflows import response_mapping as response_mapping  # registers its service tasks
