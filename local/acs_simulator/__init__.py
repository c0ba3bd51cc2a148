"""A loopback Azure Communication Services simulator: the production SDK code path, run locally.

- REST: the Call Automation and SMS calls the real SDKs send, HMAC-SHA256 checked (`app.py`);
- callbacks: CloudEvent arrays signed `Authorization: Bearer <RS256 JWT>`, JWKS at `/calling/keys`
  (`events.py`, `auth.py`); Event Grid arrays (IncomingCall, SMSReceived, RecordingFileStatusUpdated);
- the caller's phone on the media websocket, scripted from Python (`phone.py`);
- call life cycle, transfer, play/recognize, recording, SMS (`switchboard.py`, `media_ops.py`,
  `recording.py`, `sms.py`); inspection over HTTP under `/sim` (`sim_routes.py`);
- `AcsSimulator` runs it in a background thread (`server.py`); `python -m local.acs_simulator` alone.
"""

from local.acs_simulator.errors import AcsError
from local.acs_simulator.server import AcsSimulator
from local.acs_simulator.state import (
    DEFAULT_AUDIENCE,
    CallState,
    Delivery,
    MediaOptions,
    Recording,
    SimCall,
    SimulatorConfig,
    SmsMessage,
    TimelineEvent,
    TimelineKind,
)

INCOMING_CALL = "Microsoft.Communication.IncomingCall"
SMS_RECEIVED = "Microsoft.Communication.SMSReceived"
SMS_DELIVERY_REPORT = "Microsoft.Communication.SMSDeliveryReportReceived"
RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"

__all__ = [
    "DEFAULT_AUDIENCE",
    "INCOMING_CALL",
    "RECORDING_FILE_STATUS_UPDATED",
    "SMS_DELIVERY_REPORT",
    "SMS_RECEIVED",
    "AcsError",
    "AcsSimulator",
    "CallState",
    "Delivery",
    "MediaOptions",
    "Recording",
    "SimCall",
    "SimulatorConfig",
    "SmsMessage",
    "TimelineEvent",
    "TimelineKind",
]
