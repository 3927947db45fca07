"""getTestResultsList and getTestResultContent on the wire (guide C.2)."""
