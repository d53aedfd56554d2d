"""The order pipeline: intake, review, sourcing, charge, purchase, tracking.

Every state change happens in one database transaction together with the outbox
commands it needs; the commands' side effects are carried out by workers
(:mod:`fbs_core.pipeline.worker`) with idempotency keys derived from our ids.
"""
