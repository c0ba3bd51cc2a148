"""Telephony port: act on a live phone call (hang up, transfer, play)."""
