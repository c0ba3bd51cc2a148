"""Azure Functions entry point: the FastAPI app behind one HTTP function, plus the other triggers.

The host's own auth level is anonymous: the app checks its API key per route, so the behaviour is the
same under `func start`, in Azure and under the local dev runner (uvicorn).
"""

import os

import azure.functions as func

from blueprints import calls, insights, reconcile, recordings, reminders, sms
from blueprints.api import create_api
from shared.telemetry.setup import FUNCTION_APP, configure_process

# Log lines with the call id and no secrets; telemetry to Azure Monitor when
# APPLICATIONINSIGHTS_CONNECTION_STRING is set (host.json: "telemetryMode": "OpenTelemetry"). The
# Functions worker already hands log records to the host: no second handler there.
configure_process(FUNCTION_APP, handler="FUNCTIONS_WORKER_RUNTIME" not in os.environ, keep_existing=True)
api = create_api()
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(calls.bp)
app.register_functions(sms.bp)
app.register_functions(insights.bp)
app.register_functions(reminders.bp)
app.register_functions(reconcile.bp)
app.register_functions(recordings.bp)
