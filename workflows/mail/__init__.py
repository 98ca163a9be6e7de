"""Mail to the people of the procedures: who is told, the outbox and what the Secretariat
reads of it, the new-task mail, the daily digest, exactly-once notices and the SMTP sender.
Serves `webui/mail/`."""
