"""localcloud: a Docker-free local cloud that runs an AWS SAM template with AWS semantics.

Generic: nothing here knows about the application it runs. It reads ``template.yaml``, provisions the
declared streams and queues on an embedded moto server (or any ``AWS_ENDPOINT_URL``, e.g. LocalStack),
runs each function's handler in its own worker process, fires schedules and drives Kinesis
event-source mappings the way Lambda does. See ``localcloud up --help``.
"""
