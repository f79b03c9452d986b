"""Parsing: CloudKitReader, its backends, and the neutral page model they share."""
