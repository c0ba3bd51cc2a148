"""Speech ports: voice activity, speech-to-text and text-to-speech, with local and Azure adapters."""
