"""The always-on media host: the websocket audio loop ACS streams call audio to (issue: media host)."""
