"""The web layer: Flask app factory, blueprints per feature, templates, static assets."""

from webui.app import create_app

__all__ = ["create_app"]
