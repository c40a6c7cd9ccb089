"""One module per external system (Kinesis, Redis, MongoDB), each with an embedded counterpart."""
