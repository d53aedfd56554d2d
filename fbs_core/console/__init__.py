"""The merchant console: web pages where a merchant sees every order and acts on it.

Server-rendered (Starlette and Jinja2) with one small script served from this package;
every query is scoped to the signed-in user's merchant (:mod:`.console_queries`), and
every action goes through :mod:`fbs_core.pipeline.actions` so it is recorded on the
order's timeline with the user who took it.
"""
