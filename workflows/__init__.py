"""The IISG procedures' Python side, one package per feature (as `webui/` is arranged): the
rules the pages and the API call, and the service tasks the diagrams call (registered with
the engine on import).

Imports engine and models; never imports Flask.
"""

from workflows.board import decisions as decisions  # registers the Board's service tasks
from workflows.board import membership as membership  # registers the membership's services
from workflows.mail import new_tasks as new_tasks  # mails the holders of every newly opened task
from workflows.mappings import board_reports as board_reports  # the reports sent to the Board
from workflows.mappings import needs_mapping as needs_mapping  # the needs mapping's services
from workflows.mappings import response_mapping as response_mapping  # its service tasks
from workflows.methodology import diagrams as diagrams  # registers the amendment's services
