"""DeltaStream: real-time options analytics on AWS serverless (shipped as the core Lambda layer)."""
