"""A development-only stand-in for Azure Functions Core Tools (`func start`): `python -m devhost`.

Serves the function app's HTTP triggers under `/api/`, Event Grid deliveries at
`/runtime/webhooks/EventGrid?functionName=<name>`, manual runs at `/admin/functions/<name>`, and
fires timer triggers on their NCRONTAB schedules. Like `func start`, it does not enforce function
or admin keys: every auth level is served anonymously. Nothing under `functions/` or `shared/` may
import this package; it is never deployed.
"""
