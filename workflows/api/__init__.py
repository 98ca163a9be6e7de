"""What the JSON API reads and does, as plain data, and its contract: each shape a dataclass
from which both the JSON and the OpenAPI schema are made. Serves `webui/api/`."""
