"""Azure Functions entry point: the FastAPI app behind one HTTP function, plus the other triggers.

The host's own auth level is anonymous: the app checks its API key per route, so the behaviour is the
same under `func start`, in Azure and under the local dev runner (uvicorn).
"""

import azure.functions as func

from blueprints import calls, insights, reconcile, recordings, reminders, sms
from blueprints.api import create_api

api = create_api()
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(calls.bp)
app.register_functions(sms.bp)
app.register_functions(insights.bp)
app.register_functions(reminders.bp)
app.register_functions(reconcile.bp)
app.register_functions(recordings.bp)
