"""The inbox: which open tasks a person sees and how they are filtered, the Secretariat's
reassignment, comments and documents on a procedure instance. Serves `webui/inbox/`."""
