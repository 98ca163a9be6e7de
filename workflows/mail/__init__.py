"""Mail to the people of the procedures, one module per job: who is told (`recipients`),
writing a mail into the outbox (`compose`), the new-task mail (`new_tasks`), how a person
gets mail (`preferences`), the daily digest (`digest`), exactly-once notices (`notices`), the
SMTP sender (`sender`, `smtp`) and what the Secretariat reads of the outbox (`outbox`).
Serves `webui/mail/`."""
