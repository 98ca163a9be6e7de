"""The IISG procedures' Python side: roles, accounts, the methodology's diagrams, demo data.

Imports engine and models; never imports Flask.
"""
