"""Placing and answering phone calls, and reacting to the telephony service's call events."""
