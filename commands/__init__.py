"""The `iisg` command line: upgrading the database, deploying the methodology, demo data,
serving the web app, running the scheduler, accounts, tokens, audit, backup and restore.

Above the web layer: it may import webui, workflows, engine and models; nothing imports it.
"""
