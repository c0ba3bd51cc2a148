"""The process's services, shared by the HTTP app and the other triggers of the function app."""

from __future__ import annotations

from shared.composition import ServicesHolder

services = ServicesHolder()
