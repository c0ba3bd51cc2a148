"""After the call: synthesis, next action, SMS summary with a signed report link (post-call job)."""
