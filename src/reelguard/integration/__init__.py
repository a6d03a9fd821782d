"""The integration API's own state: its clients (API keys with scopes) and idempotency keys.

The routes are in ``web/api_v1.py``; what they change goes through the same services as
the CLI (``accounts``, ``license.streams``, ``license.decisions``), with the same validation.
"""

__all__: list[str] = []
